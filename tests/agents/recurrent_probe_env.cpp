// "test/recall-v0", the memory probe for the recurrent agent tests: the first observation shows
// a cue (+1 or -1, drawn per episode) and later ones do not; the episode's last action earns
// +1 when it names the cue (action 0 for -1, action 1 for +1) and 0 otherwise. A memoryless
// policy scores 0.5 on average. Parameter `delay`: blank steps between the cue and the answer.
// Action 2 exists but is never legal (Env::legal_actions), and taking it throws, so the tests
// also check that action masks hold.
#include <memory>
#include <stdexcept>

#include "core/registry.h"

namespace rl {
namespace {

class Recall final : public Env {
 public:
  explicit Recall(const Params& p)
      : Env(make_spec(p.get_int("delay"))), delay_(p.get_int("delay")) {}

  bool legal_actions(std::span<uint8_t> mask) const override {
    mask[0] = mask[1] = 1;
    mask[2] = 0;
    return true;
  }

 protected:
  void do_reset(ObsBuffer obs) override {
    cue_ = rng().uniform(0.0, 1.0) < 0.5 ? -1.f : 1.f;
    step_ = 0;
    write(obs);
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    if (action.index == 2) throw std::logic_error("test/recall-v0: action 2 is never legal");
    ++step_;
    write(obs);
    StepResult result;
    if (step_ > delay_) {
      result.terminated = true;
      result.reward = action.index == (cue_ > 0 ? 1 : 0) ? 1.f : 0.f;
    }
    return result;
  }

  void do_render(Image& out) const override { out.resize(4, 4, {0, 0, 0}); }

 private:
  static EnvSpec make_spec(int64_t delay) {
    EnvSpec spec;
    spec.id = "test/recall-v0";
    spec.description = "Answer with the cue shown at the start (recurrent agent tests)";
    // [cue on the first step else 0, 1 on the answer step else 0]
    spec.observation_space = Space::box({2}, -1.f, 1.f, DType::kF32);
    spec.action_space = Space::discrete(3);
    spec.reward_min = 0.f;
    spec.reward_max = 1.f;
    spec.max_episode_steps = delay + 1;
    return spec;
  }

  void write(ObsBuffer obs) const {
    as_f32(obs)[0] = step_ == 0 ? cue_ : 0.f;
    as_f32(obs)[1] = step_ == delay_ ? 1.f : 0.f;
  }

  int64_t delay_;
  int64_t step_ = 0;
  float cue_ = 1.f;
};

RLCADE_REGISTER_ENV(
    {"test/recall-v0",
     "Answer with the cue shown at the start (recurrent agent tests)",
     {{"delay", int64_t{2}, "Blank steps between the cue and the answer", 0.0, 100.0, {}}},
     [](const Params& p) { return std::make_unique<Recall>(p); }});

}  // namespace
}  // namespace rl
