// Conformance checker for any server of the wire protocol (`rlserve --check host:port`):
// handshake, declared spaces, version and framing errors, wrong action dtypes and shapes,
// out-of-range actions, reset determinism, stepping with auto-reset and final observations,
// PING and a clean CLOSE.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "envs/remote/connection.h"

namespace rl::remote {

struct CheckOptions {
  std::string token;
  Millis timeout{5000};  // per connect/reply
  int max_steps = 5000;  // budget to see at least one episode end
  uint64_t seed = 12345;
};

struct CheckResult {
  std::string name;
  bool passed = false;
  std::string detail;  // why it failed, or a short note
};

// Runs every check against `address` ("host:port"), each on the connection it needs. Never
// throws for a misbehaving server: failures are reported in the results.
std::vector<CheckResult> run_conformance_checks(const std::string& address,
                                                const CheckOptions& options);

}  // namespace rl::remote
