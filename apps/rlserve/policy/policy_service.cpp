#include "policy_service.h"

#include <cstring>
#include <limits>
#include <stdexcept>

namespace rl::serving {

using wire::ErrorCode;
using wire::MessageType;
using wire::WireError;

PolicyPool::PolicyPool(std::vector<Policy> copies)
    : copies_(std::move(copies)), locks_(new std::mutex[copies_.size()]) {
  if (copies_.empty()) throw std::invalid_argument("PolicyPool needs at least one policy");
}

void PolicyPool::act(std::span<const uint8_t> observations, int batch, std::span<int64_t> discrete,
                     std::span<float> continuous, std::span<const uint8_t> legal) {
  for (size_t i = 0; i < copies_.size(); ++i) {
    std::unique_lock lock(locks_[i], std::try_to_lock);
    if (lock.owns_lock()) return copies_[i].act(observations, batch, discrete, continuous, legal);
  }
  std::lock_guard lock(locks_[0]);  // every copy busy: wait for the first
  copies_[0].act(observations, batch, discrete, continuous, legal);
}

namespace {

// Bytes of the largest ACT body (a full batch with a mask) and ACT_RESULT body.
size_t max_act_body(const Policy& policy, uint32_t max_batch) {
  return wire::act_body_bytes(policy.observation_space(), policy.action_space(), max_batch,
                              policy.action_space().is_discrete());
}

class PolicyService : public remote::ConnectionService {
 public:
  PolicyService(std::shared_ptr<PolicyPool> pool, uint32_t max_batch)
      : pool_(std::move(pool)), max_batch_(max_batch) {}

  void accept(const wire::Hello& hello, wire::Welcome& w) override {
    if (w.version_minor < 1)
      throw WireError(ErrorCode::kUnsupported,
                      "this server serves a policy through ACT requests, which need protocol 1.1; "
                      "the client speaks " +
                          std::to_string(hello.version_major) + "." +
                          std::to_string(hello.version_minor),
                      true);
    const Policy& policy = pool_->front();
    // The client must be able to read the largest reply: cap the batch to what fits.
    const Space& actions = policy.action_space();
    while (max_batch_ > 1 &&
           wire::act_result_body_bytes(actions, max_batch_) > hello.max_body_bytes)
      max_batch_ /= 2;
    w.env_id = policy.env_id();
    w.description = policy.agent_type() + " policy from " + pool_->source();
    w.num_envs = 1;
    w.observation_space = policy.observation_space();
    w.action_space = actions;
    const size_t largest_act = max_act_body(policy, max_batch_);
    if (largest_act > std::numeric_limits<uint32_t>::max())
      throw WireError(ErrorCode::kUnsupported,
                      "ACT batches of " + std::to_string(max_batch_) +
                          " observations would exceed 4 GiB; lower --max-act-batch",
                      true);
    w.max_body_bytes = static_cast<uint32_t>(std::max<size_t>(wire::kMinMaxBodyBytes, largest_act));
    w.observation_encoding = "binary";
    w.capabilities = {"act"};
    if (actions.is_discrete()) w.capabilities.push_back("legal_actions");
    w.max_act_batch = max_batch_;
  }

  std::span<const uint8_t> answer(const wire::FrameHeader& header,
                                  std::span<const uint8_t> body) override {
    const auto type = static_cast<MessageType>(header.type);
    if (type == MessageType::kReset || type == MessageType::kStep)
      throw WireError(ErrorCode::kUnsupported,
                      wire::message_type_name(header.type) +
                          " is not served here: this server serves a policy; send ACT",
                      false);
    if (type != MessageType::kAct)
      throw WireError(ErrorCode::kUnsupported,
                      wire::message_type_name(header.type) + " is not a request a server accepts",
                      false);
    return act(body, header.request_id);
  }

 private:
  std::span<const uint8_t> act(std::span<const uint8_t> body, uint32_t request_id) {
    const Policy& policy = pool_->front();
    const Space& actions = policy.action_space();
    const wire::ActRequest request =
        wire::decode_act(body, policy.observation_space(), actions, max_batch_);
    const uint32_t batch = request.batch;
    const size_t slots = batch * static_cast<size_t>(actions.is_discrete() ? 1 : actions.numel());
    if (actions.is_discrete())
      discrete_.resize(slots);
    else
      continuous_.resize(slots);
    try {
      pool_->act(request.observations.data, static_cast<int>(batch),
                 actions.is_discrete() ? std::span<int64_t>(discrete_) : std::span<int64_t>(),
                 actions.is_discrete() ? std::span<float>() : std::span<float>(continuous_),
                 request.legal.data);
    } catch (const std::invalid_argument& e) {
      throw WireError(ErrorCode::kBadObservation, e.what(), false);
    }
    const std::span<uint8_t> out = wire::begin_act_result_frame(frame_, request_id, actions, batch);
    std::memcpy(out.data(),
                actions.is_discrete() ? static_cast<const void*>(discrete_.data())
                                      : static_cast<const void*>(continuous_.data()),
                out.size());
    return frame_;
  }

  std::shared_ptr<PolicyPool> pool_;
  uint32_t max_batch_;
  std::vector<int64_t> discrete_;
  std::vector<float> continuous_;
  std::vector<uint8_t> frame_;
};

}  // namespace

remote::ServiceFactory policy_service_factory(std::shared_ptr<PolicyPool> pool,
                                              uint32_t max_batch) {
  if (max_batch < 1 || max_batch > kMaxActBatchLimit)
    throw std::invalid_argument("the ACT batch limit must be in [1, " +
                                std::to_string(kMaxActBatchLimit) + "]");
  return [pool, max_batch] { return std::make_unique<PolicyService>(pool, max_batch); };
}

}  // namespace rl::serving
