#include "agents/run_config.h"

#include <algorithm>
#include <filesystem>

#include "agents/agent.h"
#include "agents/common/agent_settings.h"
#include "agents/distributed/rollout_cutoff.h"

namespace rl {

namespace {

std::vector<std::string> wrapper_names() {
  std::vector<std::string> names;
  for (const WrapperInfo& info : wrapper_catalog()) names.push_back(info.name);
  return names;
}

const WrapperInfo& find_wrapper_info(const std::string& name) {
  const auto& catalog = wrapper_catalog();
  return *std::find_if(catalog.begin(), catalog.end(),
                       [&](const WrapperInfo& info) { return info.name == name; });
}

EnvConfig read_env(ConfigSection env, const EnvRegistry& registry) {
  EnvConfig c;
  c.id = env.get_required_string("id", "Registry id of the env, e.g. classic/cartpole-v1");
  if (!registry.contains(c.id))
    env.fail("id", "unknown value '" + c.id + "'; " + registry.suggestions(c.id));
  c.params = env.get_params("params", registry.find(c.id).params,
                            "Env parameters (each env declares its own; see rltrain --list)");
  c.num_envs = static_cast<int>(
      env.get_int("num_envs", c.num_envs, "Env copies stepped together for training", 1, 4096));
  const std::string mode = env.get_choice(
      "vector_mode", "sync", "Step the copies in this thread (sync) or on a thread pool",
      {"sync", "threads"});
  c.vector_mode = mode == "threads" ? VectorMode::kThreads : VectorMode::kSync;
  c.vector_threads = static_cast<int>(env.get_int(
      "vector_threads", 0, "Thread-pool size for vector_mode threads (0 = all cores)", 0, 256));
  for (ConfigSection item : env.section_list(
           "wrappers", "Wrappers applied in order, innermost first: [{name: ..., params: ...}]")) {
    WrapperConfig w;
    w.name = item.get_required_choice("name", "Wrapper name", wrapper_names());
    w.params = item.get_params("params", find_wrapper_info(w.name).params, "Wrapper parameters");
    item.finish();
    c.wrappers.push_back(std::move(w));
  }
  env.finish();
  return c;
}

// Reads train.eval_deterministic: auto (the default) is the agent's own choice
// (AgentEntry::evaluates_by_sampling); an agent without a stochastic policy rejects false.
bool read_eval_deterministic(ConfigSection& train, const AgentEntry& agent) {
  const std::string choice = train.get_choice(
      "eval_deterministic", "auto",
      "Evaluate with the greedy action (true) or by sampling the policy (false); auto: sampled "
      "for ppo and a2c, greedy for dqn and sac (which only act greedily)",
      {"auto", "true", "false"});
  if (choice == "auto") return !agent.evaluates_by_sampling;
  if (choice == "false" && !agent.evaluates_by_sampling) {
    train.fail("eval_deterministic",
               "false needs an agent that samples a stochastic policy (ppo, a2c); " + agent.type +
                   " evaluates greedily only");
  }
  return choice == "true";
}

TrainConfig read_train(ConfigSection train, const AgentEntry& agent) {
  TrainConfig t;
  t.total_steps = train.get_int("total_steps", t.total_steps, "Env steps to train for (all envs)",
                                1, kMaxStepSetting);
  t.eval_every =
      train.get_int("eval_every", t.eval_every,
                    "Env steps between evaluations (0: only at the end)", 0, kMaxStepSetting);
  t.eval_episodes = train.get_int("eval_episodes", t.eval_episodes,
                                  "Episodes per evaluation (run side by side)", 1, 10000);
  t.checkpoint_every =
      train.get_int("checkpoint_every", t.checkpoint_every,
                    "Env steps between checkpoints (0: only at the end)", 0, kMaxStepSetting);
  t.keep_checkpoints = train.get_int(
      "keep_checkpoints", t.keep_checkpoints,
      "Newest checkpoints kept as checkpoints/step_<steps>.pt to fall back on (0: only latest.pt)",
      0, 1000);
  t.log_every =
      train.get_int("log_every", t.log_every,
                    "Env steps between metrics.csv rows and progress lines", 1, kMaxStepSetting);
  t.threads = train.get_int("threads", t.threads,
                            "LibTorch intra-op threads (1 is fastest for small nets here)", 1, 256);
  t.record_eval = train.get_bool("record_eval", t.record_eval,
                                 "Record the first episode of each evaluation to replays/");
  t.eval_max_steps = train.get_int("eval_max_steps", t.eval_max_steps,
                                   "Longest evaluation episode (a safety cap)", 1, kMaxStepSetting);
  t.stop_when_solved = train.get_bool(
      "stop_when_solved", t.stop_when_solved,
      "Stop once an evaluation mean reaches the env's reward threshold (e.g. 475 for CartPole)");
  t.save_replay = train.get_bool(
      "save_replay", t.save_replay,
      "Save the replay buffer in checkpoints when under 512 MB, for an exact --resume");
  t.tensorboard = train.get_bool("tensorboard", t.tensorboard,
                                 "Write TensorBoard event files (metrics, hparams, config, "
                                 "evaluation GIFs) to the run folder");
  t.eval_deterministic = read_eval_deterministic(train, agent);
  train.finish();
  return t;
}

// Agents that take `normalize_observations` (SB3's VecNormalize observation part for PPO, A2C
// and SAC).
bool takes_observation_normalization(const std::string& agent_type) {
  return agent_type == "ppo" || agent_type == "a2c" || agent_type == "sac";
}

// agent.normalize_observations is one way to ask for the env's normalize_observation wrapper,
// not a second implementation: the reader appends that wrapper to env.wrappers, outermost (as
// VecNormalize wraps the whole vector env, and as policy export requires it), so its statistics
// are shared by the training copies, frozen in evaluation copies, saved in checkpoints and
// applied by exported policies exactly as when the wrapper is configured. The resolved config
// keeps the setting, not the wrapper, so reading it again gives the same env.
void read_observation_normalization(ConfigSection& agent, const std::string& agent_type,
                                    EnvConfig& env) {
  if (!takes_observation_normalization(agent_type)) return;
  const bool normalize = agent.get_bool(
      "normalize_observations", false,
      "Normalize observations by a running mean/std (the normalize_observation wrapper, "
      "added after env.wrappers)");
  const double clip =
      agent.get_float("observation_clip", 10.0,
                      "Clip of normalized observations (normalize_observations)", 1e-6, 1e9);
  if (!normalize) return;
  for (size_t i = 0; i < env.wrappers.size(); ++i) {
    if (env.wrappers[i].name == "normalize_observation")
      agent.fail("normalize_observations",
                 "env.wrappers[" + std::to_string(i) +
                     "] normalizes observations already; ask for it one way: remove that wrapper "
                     "or this setting");
  }
  WrapperConfig wrapper{"normalize_observation", {}};
  for (const ParamSpec& spec : find_wrapper_info(wrapper.name).params)
    wrapper.params[spec.name] = spec.default_value;
  wrapper.params["clip"] = clip;
  env.wrappers.push_back(std::move(wrapper));
}

// distributed.sync_fraction and min_rollout_fraction: each in (0, 1]; a cut-off (sync_fraction
// below 1) only for the agents whose rollouts it shortens.
void read_rollout_cutoff(ConfigSection& section, RunConfig& run) {
  DistributedConfig& d = run.distributed;
  d.sync_fraction = section.get_float(
      "sync_fraction", d.sync_fraction,
      "Straggler cut-off (ppo, a2c): once this share of the processes have collected their "
      "whole rollout, the others end theirs early; 1 turns it off",
      0.0, 1.0);
  d.min_rollout_fraction = section.get_float(
      "min_rollout_fraction", d.min_rollout_fraction,
      "Straggler cut-off: the least share of num_steps a process collects before it may stop", 0.0,
      1.0);
  distributed::check_cutoff_settings({d.sync_fraction, d.min_rollout_fraction}, section.where());
  if (d.sync_fraction < 1 && run.agent_type != "ppo" && run.agent_type != "a2c") {
    section.fail("sync_fraction",
                 "the straggler cut-off shortens the rollouts of ppo and a2c; "
                 "agent '" +
                     run.agent_type + "' has none (leave it at 1)");
  }
}

}  // namespace

LoadedConfig read_run_config(ConfigDocument document, const EnvRegistry& registry) {
  ConfigSection root = document.root();
  RunConfig run;
  run.source = document.source();
  // A config without a name is named after its file: configs/dqn.yaml runs in runs/dqn.
  run.name = root.get_string("name", std::filesystem::path(document.source()).stem().string(),
                             "Run name: the run folder is runs/<name> (default: the config "
                             "file's name without its extension)");
  if (run.name.empty() || run.name.find('/') != std::string::npos || run.name == "." ||
      run.name == "..") {
    root.fail("name", "must be a non-empty folder name without '/', got '" + run.name + "'");
  }
  run.seed = static_cast<uint64_t>(
      root.get_int("seed", 0, "Seed of envs (seed + i), agent and evaluation", 0, INT64_MAX));
  run.env = read_env(root.section("env", "The environment"), registry);
  ConfigSection agent = root.section("agent", "The agent: type and its settings");
  run.agent_type = agent.get_required_choice("type", "Agent type (rltrain --list)",
                                             AgentRegistry::global().types());
  read_observation_normalization(agent, run.agent_type, run.env);
  run.train = read_train(root.section("train", "Training loop settings"),
                         AgentRegistry::global().find(run.agent_type));
  // Read only when present, so that the resolved config of other runs does not change.
  if (root.has("distributed")) {
    ConfigSection distributed = root.section("distributed", "Multi-process training settings");
    run.distributed.timeout_s = distributed.get_float(
        "timeout_s", run.distributed.timeout_s,
        "Seconds to wait for the other ranks (to join, to answer a collective) before failing", 1.0,
        86400.0);
    run.distributed.split_envs = distributed.get_bool(
        "split_envs", run.distributed.split_envs,
        "env.num_envs counts the envs of all processes, divided among them (else each process "
        "runs num_envs)");
    read_rollout_cutoff(distributed, run);
    run.distributed.gradient_dtype = distributed::parse_gradient_dtype(distributed.get_choice(
        "gradient_dtype", "float32",
        "Format of the gradients' all-reduce: float32 (exact), or bfloat16/float16 (rounded to 16 "
        "bits before the sum: half the bytes, other numerics)",
        distributed::gradient_dtype_names()));
    distributed.finish();
  }
  run.target = read_run_target(root);
  root.finish();
  return LoadedConfig{std::move(document), std::move(run), agent};
}

std::unique_ptr<Env> make_configured_env(const EnvConfig& config, WrapperContext& wrapper_context,
                                         const EnvRegistry& registry) {
  std::unique_ptr<Env> env = registry.make(config.id, config.params);
  for (const WrapperConfig& w : config.wrappers) {
    env = apply_wrapper(std::move(env), w.name, w.params, wrapper_context);
  }
  return env;
}

}  // namespace rl
