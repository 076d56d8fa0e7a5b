#include "apps/rltrain/watch.h"

#include <stdexcept>

#ifdef RLCADE_WITH_RENDER

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <sstream>
#include <vector>

#include "apps/common/greedy_policy.h"
#include "core/metrics.h"
#include "core/wrappers.h"
#include "render/training_watch.h"

namespace rl::train_watch {
namespace {

using Clock = std::chrono::steady_clock;

// The agent's state at one training step, as bytes (no tensors shared with the trainer).
struct Snapshot {
  std::string agent;           // Agent::save archive.
  std::vector<uint8_t> stats;  // Observation normalization statistics (empty if none).
  int64_t env_steps = 0;
};

}  // namespace

struct WatchWindow::Impl {
  Experiment copy;  // Plays in the window; touched only by the watcher thread after start.
  std::mutex mutex;
  std::optional<Snapshot> pending;  // Guarded by mutex.
  std::unique_ptr<render::TrainingWatcher> watcher;
  int64_t snapshots = 0;  // Training thread only.
  double snapshot_seconds = 0.0;

  explicit Impl(const Experiment& experiment)
      : copy(build_experiment(ConfigDocument::parse(experiment.resolved_yaml,
                                                    "rltrain --watch (resolved config)"))) {}

  std::optional<std::string> refresh() {
    std::optional<Snapshot> snapshot;
    {
      std::lock_guard lock(mutex);
      snapshot.swap(pending);
    }
    if (!snapshot) return std::nullopt;
    torch::serialize::InputArchive archive;
    archive.load_from(snapshot->agent.data(), snapshot->agent.size());
    copy.agent->load(archive);
    if (copy.wrapper_context.observation_stats && !snapshot->stats.empty())
      copy.wrapper_context.observation_stats->load(snapshot->stats);
    return "agent " + copy.agent->type() + ", weights of step " +
           format_count(static_cast<double>(snapshot->env_steps));
  }
};

WatchWindow::WatchWindow(const Experiment& experiment) : impl_(std::make_unique<Impl>(experiment)) {
  Impl& impl = *impl_;
  const RunConfig& run = impl.copy.run();
  render::TrainingWatchOptions options;
  options.live.env_id = run.env.id;
  options.live.env_params = run.env.params;
  options.live.seed = run.seed + 2'000'000;  // Apart from training and evaluation seeds.
  options.live.label = "agent " + impl.copy.agent->type() + " (waiting for weights)";
  options.live.make_env = [&impl] {
    std::unique_ptr<Env> env = impl.copy.make_env();
    // The window must not change the statistics it receives from the trainer.
    if (auto* normalizer = find_wrapper<NormalizeObservation>(*env)) normalizer->set_frozen(true);
    return env;
  };
  options.viewer.title = "rltrain --watch - " + run.name + " - " + run.env.id;
  options.display_hint = "run under xvfb-run, or train without --watch";
  impl.watcher = std::make_unique<render::TrainingWatcher>(std::move(options),
                                                           apps::greedy_policy(*impl.copy.agent),
                                                           [&impl] { return impl.refresh(); });
}

WatchWindow::~WatchWindow() {
  if (impl_ && impl_->watcher) impl_->watcher->close();
}

void WatchWindow::on_snapshot(const Experiment& experiment, int64_t env_steps) {
  Impl& impl = *impl_;
  if (!impl.watcher->open()) return;
  const Clock::time_point start = Clock::now();
  torch::serialize::OutputArchive archive;
  experiment.agent->save(archive);
  std::ostringstream bytes;
  archive.save_to(bytes);
  Snapshot snapshot{bytes.str(), {}, env_steps};
  if (experiment.wrapper_context.observation_stats)
    snapshot.stats = experiment.wrapper_context.observation_stats->save();
  {
    std::lock_guard lock(impl.mutex);
    impl.pending = std::move(snapshot);
  }
  ++impl.snapshots;
  impl.snapshot_seconds += std::chrono::duration<double>(Clock::now() - start).count();
}

std::string WatchWindow::finish() {
  Impl& impl = *impl_;
  const bool closed_by_user = !impl.watcher->open();
  impl.watcher->close();
  char line[256];
  std::snprintf(
      line, sizeof line,
      "watch window: %lld frames, %lld env steps, %lld weight refreshes; %lld "
      "snapshots took %.1f ms each on average%s",
      static_cast<long long>(impl.watcher->frames()), static_cast<long long>(impl.watcher->steps()),
      static_cast<long long>(impl.watcher->refreshes()), static_cast<long long>(impl.snapshots),
      impl.snapshots ? 1000.0 * impl.snapshot_seconds / impl.snapshots : 0.0,
      closed_by_user ? " (closed before the end of training)" : "");
  std::string text = line;
  if (const std::string error = impl.watcher->error(); !error.empty()) text += "; " + error;
  return text;
}

}  // namespace rl::train_watch

#else  // Built without SFML (no render/ library).

namespace rl::train_watch {

struct WatchWindow::Impl {};

WatchWindow::WatchWindow(const Experiment&) {
  throw std::runtime_error(
      "--watch needs the SFML viewer (render/), which this build of rltrain does not have "
      "(Debian: apt-get install libsfml-dev, then rebuild)");
}
WatchWindow::~WatchWindow() = default;
void WatchWindow::on_snapshot(const Experiment&, int64_t) {}
std::string WatchWindow::finish() { return ""; }

}  // namespace rl::train_watch

#endif
