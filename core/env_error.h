// The error an env raises when something it depends on outside this process went away.
#pragma once

#include <stdexcept>

namespace rl {

// Thrown by envs served by another process (the `remote` env) when they can no longer be
// used: the server is gone and reconnecting was not configured or failed, or it came back
// serving different spaces. Everything the env returned before is valid, so a trainer can
// checkpoint what it learned and stop. The message names the address and what happened.
class EnvUnavailableError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rl
