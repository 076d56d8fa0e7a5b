// A tiny chain for agent tests ("test/chain-v0"). The agent starts in the middle of `length`
// cells (odd); a goal sits at one end, chosen at random each episode and shown in the
// observation. Reaching the goal ends the episode with +1, the other end with -1; each other
// step costs 0.01. A constant policy is right only half the time, so solving it needs learning.
// Observations: f32 [length + 1] (one-hot position, then 1 if the goal is on the right), or
// with image=true u8 [1, 3, length] (row 0 marks the goal cell, row 1 the position) to exercise
// the CNN torso.
#include <algorithm>
#include <memory>

#include "core/registry.h"

namespace rl {
namespace {

class Chain final : public Env {
 public:
  explicit Chain(const Params& p)
      : Env(make_spec(p.get_int("length"), p.get_bool("image"))),
        length_(p.get_int("length")),
        image_(p.get_bool("image")) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    position_ = length_ / 2;
    goal_right_ = rng().bernoulli(0.5);
    write(obs);
  }

  StepResult do_step(const Action& action, ObsBuffer obs) override {
    position_ += action.index == 1 ? 1 : -1;
    StepResult r;
    r.reward = -0.01f;
    if (position_ == 0 || position_ == length_ - 1) {
      r.terminated = true;
      r.reward = (position_ == length_ - 1) == goal_right_ ? 1.f : -1.f;
    }
    write(obs);
    return r;
  }

  void do_render(Image& out) const override {
    out.resize(static_cast<int>(length_) * 10, 10, {255, 255, 255});
    fill_rect(out, goal_right_ ? static_cast<int>(length_ - 1) * 10 : 0, 0, 10, 10, {0, 200, 0});
    fill_rect(out, static_cast<int>(position_) * 10, 0, 10, 10, {0, 0, 0});
  }

 private:
  static EnvSpec make_spec(int64_t length, bool image) {
    EnvSpec spec;
    spec.id = "test/chain-v0";
    spec.description = "Walk to the marked end of a chain (agent tests)";
    spec.observation_space = image ? Space::box({1, 3, length}, 0.f, 1.f, DType::kU8)
                                   : Space::box({length + 1}, 0.f, 1.f, DType::kF32);
    spec.action_space = Space::discrete(2);
    spec.reward_min = -1.f;
    spec.reward_max = 1.f;
    spec.max_episode_steps = 4 * length;
    const int64_t shortest = length / 2;  // Steps to either end from the middle.
    spec.reward_threshold = 1.0 - 0.01 * static_cast<double>(shortest - 1) - 1e-6;
    return spec;
  }

  void write(ObsBuffer obs) const {
    std::fill(obs.begin(), obs.end(), 0);
    if (image_) {
      obs[goal_right_ ? length_ - 1 : 0] = 1;
      obs[length_ + position_] = 1;
      return;
    }
    float* out = as_f32(obs);
    out[position_] = 1.f;
    out[length_] = goal_right_ ? 1.f : 0.f;
  }

  int64_t length_;
  bool image_;
  int64_t position_ = 0;
  bool goal_right_ = true;
};

RLCADE_REGISTER_ENV({"test/chain-v0",
                     "Walk to the marked end of a chain (agent tests)",
                     {{"length", int64_t{7}, "Cells in the chain (odd)", 3.0, 63.0, {}},
                      {"image", false, "u8 [1,3,length] image observations", {}, {}, {}}},
                     [](const Params& p) { return std::make_unique<Chain>(p); }});

}  // namespace
}  // namespace rl
