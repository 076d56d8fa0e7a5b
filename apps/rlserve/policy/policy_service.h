// The policy half of rlserve (`rlserve --policy RUN|policy.pt`): connections that answer ACT
// requests (protocol 1.1, docs/protocol.md) with the greedy actions of an exported policy,
// served by rl::remote::Server's connection handling (deadlines, limits, PING, CLOSE).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agents/policy.h"
#include "envs/remote/server.h"

namespace rl::serving {

// Copies of one policy, one per serving thread: an rl::Policy must not act from two threads at
// once, so each ACT borrows a copy nobody else is using (a thread waits only when more requests
// run at once than there are copies).
class PolicyPool {
 public:
  // `copies` non-empty, all loaded from the same file.
  explicit PolicyPool(std::vector<Policy> copies);

  const Policy& front() const { return copies_.front(); }
  const std::string& source() const { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }

  // Acts with a free copy (see Policy::act for the arguments).
  void act(std::span<const uint8_t> observations, int batch, std::span<int64_t> discrete,
           std::span<float> continuous, std::span<const uint8_t> legal);

 private:
  std::vector<Policy> copies_;
  std::unique_ptr<std::mutex[]> locks_;
  std::string source_;  // the file or run it came from, for WELCOME's description
};

// Loads `copies` copies of the policy at `source`: a policy file written by rlexport, or an
// rltrain run folder, exported on the fly as rlexport would (its best, final or latest
// checkpoint; a damaged one falls back to the newest intact one, said through `log`). Throws
// PolicyLoadError (or the checkpoint's error) naming the file.
std::shared_ptr<PolicyPool> load_policy_pool(const std::string& source, int copies,
                                             const std::function<void(const std::string&)>& log);

// Default and upper limit of observations per ACT request.
inline constexpr uint32_t kDefaultMaxActBatch = 4096;
inline constexpr uint32_t kMaxActBatchLimit = 1u << 20;

// One PolicyService per connection, all sharing `pool`. ACT batches hold 1 to `max_batch`
// observations; clients must speak protocol 1.1 or later.
remote::ServiceFactory policy_service_factory(std::shared_ptr<PolicyPool> pool, uint32_t max_batch);

}  // namespace rl::serving
