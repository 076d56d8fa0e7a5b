// A game loop driven by an exported policy: loads a policy.pt written by rlexport, builds the env
// it was trained on from the registry, and plays a few episodes with it, printing each return.
// Only agents/policy.h and the env registry are needed: no trainer, config or checkpoint.
//
//   rlexport runs/dqn_cartpole --out policy.pt
//   play_policy policy.pt [EPISODES=3] [SEED=0]
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "agents/policy.h"
#include "core/key_value.h"
#include "core/registry.h"

namespace {

// The policy's "key=value, ..." env parameters as registry parameters.
std::vector<std::string> split_params(const std::string& text) {
  std::vector<std::string> parts;
  for (size_t start = 0; start < text.size();) {
    const size_t end = std::min(text.find(", ", start), text.size());
    parts.push_back(text.substr(start, end - start));
    start = end + 2;
  }
  return parts;
}

double play_episode(rl::Policy& policy, rl::Env& env, uint64_t seed) {
  std::vector<uint8_t> observation(env.spec().observation_space.bytes());
  std::vector<uint8_t> legal(static_cast<size_t>(env.spec().action_space.n));
  env.reset(seed, observation);
  policy.reset_state();  // Recurrent policies start the episode with a fresh memory.
  double episode_return = 0.0;
  for (;;) {
    // Envs that restrict their actions fill the mask; the policy then picks a legal one.
    const bool masked = env.spec().action_space.is_discrete() && env.legal_actions(legal);
    const rl::Action action = policy.act(observation, masked ? legal : std::vector<uint8_t>{});
    const rl::StepResult step = env.step(action, observation);
    episode_return += step.reward;
    if (step.done()) return episode_return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: play_policy POLICY.pt [EPISODES=3] [SEED=0]\n");
    return 2;
  }
  try {
    rl::Policy policy = rl::Policy::load(argv[1]);
    const int episodes = argc > 2 ? std::atoi(argv[2]) : 3;
    const uint64_t seed = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0;
    const auto params = rl::parse_env_params(policy.env_id(), split_params(policy.env_params()),
                                             "the policy's env_params");
    std::unique_ptr<rl::Env> env = rl::EnvRegistry::global().make(policy.env_id(), params);
    if (env->spec().observation_space.shape != policy.observation_space().shape) {
      std::fprintf(stderr,
                   "play_policy: %s was trained with wrappers (%s) this example does not "
                   "apply\n",
                   argv[1], policy.env_wrappers().c_str());
      return 1;
    }
    double total = 0.0;
    for (int episode = 0; episode < episodes; ++episode) {
      const double episode_return = play_episode(policy, *env, seed + episode);
      std::printf("episode %d: return %.2f\n", episode + 1, episode_return);
      total += episode_return;
    }
    std::printf("%s (%s) on %s: mean return %.2f over %d episodes\n", argv[1],
                policy.agent_type().c_str(), policy.env_id().c_str(),
                episodes > 0 ? total / episodes : 0.0, episodes);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "play_policy: %s\n", e.what());
    return 1;
  }
}
