// Small deterministic envs served in the remote tests (this test binary links only the remote
// family). They are self-contained, so the generic conformance test covers them as well.
#include <memory>

#include "core/registry.h"

namespace rl {
namespace {

// Observation [steps taken, last action, episode length]; Discrete(3) actions; reward = action;
// terminates after a random length of 3..8 steps drawn at reset.
class WireCounter final : public Env {
 public:
  WireCounter()
      : Env(EnvSpec{"test/wire_counter-v0",
                    "counts steps for the wire tests",
                    Space::box({3}, 0.f, 100.f, DType::kF32),
                    Space::discrete(3),
                    0.f,
                    2.f,
                    0,
                    {},
                    {}}) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    steps_ = 0;
    last_ = 0;
    length_ = static_cast<int>(rng().integer(3, 8));
    write(obs);
  }
  StepResult do_step(const Action& a, ObsBuffer obs) override {
    ++steps_;
    last_ = static_cast<int>(a.index);
    write(obs);
    return {static_cast<float>(a.index), steps_ >= length_, false};
  }
  void do_render(Image& out) const override {
    out.resize(4, 4, {static_cast<uint8_t>(steps_), 0, 0});
  }

 private:
  void write(ObsBuffer obs) const {
    float* o = as_f32(obs);
    o[0] = static_cast<float>(steps_);
    o[1] = static_cast<float>(last_);
    o[2] = static_cast<float>(length_);
  }
  int steps_ = 0, last_ = 0, length_ = 0;
};

// u8 observation [2, 3] filled with a random level; Box(2) actions in [-1, 1]; reward = sum of
// the actions; never terminates, truncated by max_episode_steps (4).
class WireBox final : public Env {
 public:
  WireBox()
      : Env(EnvSpec{"test/wire_box-v0",
                    "u8 observations and Box actions for the wire tests",
                    Space::box({2, 3}, 0.f, 255.f, DType::kU8),
                    Space::box({2}, -1.f, 1.f, DType::kF32),
                    -2.f,
                    2.f,
                    4,
                    {},
                    {}}) {}

 protected:
  void do_reset(ObsBuffer obs) override {
    level_ = static_cast<uint8_t>(rng().integer(0, 200));
    for (auto& b : obs) b = level_;
  }
  StepResult do_step(const Action& a, ObsBuffer obs) override {
    ++level_;
    for (auto& b : obs) b = level_;
    obs[0] = static_cast<uint8_t>(a.values[0] > 0 ? 1 : 0);
    return {a.values[0] + a.values[1], false, false};
  }
  void do_render(Image& out) const override { out.resize(3, 2, {level_, level_, level_}); }

 private:
  uint8_t level_ = 0;
};

RLCADE_REGISTER_ENV({"test/wire_counter-v0",
                     "counts steps for the wire tests",
                     {},
                     [](const Params&) { return std::make_unique<WireCounter>(); }});
RLCADE_REGISTER_ENV({"test/wire_box-v0",
                     "u8 observations and Box actions for the wire tests",
                     {},
                     [](const Params&) { return std::make_unique<WireBox>(); }});

}  // namespace
}  // namespace rl
