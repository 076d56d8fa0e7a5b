#include "envs/classic/observation_subset.h"

#include <memory>
#include <stdexcept>
#include <utility>

#include "core/wrappers.h"

namespace rl::classic {
namespace {

EnvSpec subset_spec(const EnvSpec& inner, const std::string& id, const std::string& description,
                    const std::vector<int64_t>& kept) {
  const Space& full = inner.observation_space;
  if (full.is_discrete() || full.dtype != DType::kF32) {
    throw std::invalid_argument(id + ": needs a float Box observation to take elements from");
  }
  std::vector<float> low, high;
  for (const int64_t index : kept) {
    if (index < 0 || index >= full.numel()) {
      throw std::invalid_argument(id + ": observation element " + std::to_string(index) +
                                  " is outside " + inner.id + "'s " + std::to_string(full.numel()) +
                                  " elements");
    }
    low.push_back(full.low[static_cast<size_t>(index)]);
    high.push_back(full.high[static_cast<size_t>(index)]);
  }
  EnvSpec spec = inner;
  spec.id = id;
  spec.description = description;
  spec.observation_space = Space::box({static_cast<int64_t>(kept.size())}, low, high, DType::kF32);
  return spec;
}

// Runs the wrapped env into its own full-size buffer and copies the kept elements out.
class ObservationSubset final : public Wrapper {
 public:
  ObservationSubset(std::unique_ptr<Env> inner, const std::string& id,
                    const std::string& description, std::vector<int64_t> kept)
      : Wrapper(std::move(inner), subset_spec(inner->spec(), id, description, kept)),
        kept_(std::move(kept)),
        full_(inner_->spec().observation_space.bytes()) {
    inner_->set_max_episode_steps(0);  // This env's bookkeeping enforces the limit.
  }

 protected:
  void do_reset(ObsBuffer obs) override {
    reset_inner(full_);
    write(obs);
  }
  StepResult do_step(const Action& action, ObsBuffer obs) override {
    const StepResult result = inner_->step(action, full_);
    write(obs);
    return result;
  }

 private:
  void write(ObsBuffer obs) const {
    const float* full = as_f32(std::span<const uint8_t>(full_));
    float* out = as_f32(obs);
    for (size_t i = 0; i < kept_.size(); ++i) out[i] = full[kept_[i]];
  }

  std::vector<int64_t> kept_;
  std::vector<uint8_t> full_;
};

}  // namespace

EnvEntry observation_subset_entry(const EnvEntry& base, std::string id, std::string description,
                                  std::vector<int64_t> kept) {
  EnvEntry entry;
  entry.id = std::move(id);
  entry.description = std::move(description);
  entry.params = base.params;
  entry.factory = [base_factory = base.factory, id = entry.id, description = entry.description,
                   kept = std::move(kept)](const Params& params) -> std::unique_ptr<Env> {
    return std::make_unique<ObservationSubset>(base_factory(params), id, description, kept);
  };
  return entry;
}

}  // namespace rl::classic
