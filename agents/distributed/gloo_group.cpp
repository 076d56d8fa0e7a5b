#include "agents/distributed/gloo_group.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <utility>

#include "agents/distributed/background_sums.h"
#include "agents/distributed/gloo_direct.h"
#include "core/config.h"
#include "core/crc32.h"

namespace rl::distributed {

namespace {

using Milliseconds = std::chrono::milliseconds;

constexpr char kConfigKey[] = "rlcade/config/";
constexpr char kHeartbeatKey[] = "rlcade/heartbeat/";
constexpr char kCheckedKey[] = "rlcade/configs_compared";
constexpr Milliseconds kHeartbeatPeriod{1000};

std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }
std::string text_of(const std::vector<uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

std::string message_of(const std::exception& e) {
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&e)) {
    return c10_error->what_without_backtrace();
  }
  return e.what();
}

std::string seconds_text(Milliseconds timeout) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(timeout.count()) / 1000.0);
  return text;
}

std::string master_text(const LaunchSpec& spec) {
  return spec.master_host + ":" + std::to_string(spec.master_port);
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

c10::intrusive_ptr<c10d::TCPStore> open_store(const LaunchSpec& spec, bool server,
                                              Milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(spec.master_port);
  options.isServer = server;
  options.waitWorkers = false;
  options.timeout = timeout;
  try {
    return c10::make_intrusive<c10d::TCPStore>(spec.master_host, options);
  } catch (const std::exception& e) {
    const std::string what = message_of(e);
    if (server) {
      const bool in_use =
          what.find("in use") != std::string::npos || what.find("EADDRINUSE") != std::string::npos;
      throw DistributedError("rank 0 cannot host the rendezvous store on port " +
                             std::to_string(spec.master_port) + ": " +
                             (in_use ? "the port is in use (another run?); choose another with "
                                       "--master HOST:PORT or MASTER_PORT"
                                     : what));
    }
    throw DistributedError("rank " + std::to_string(spec.rank) + " cannot reach the master " +
                           master_text(spec) + " within " + seconds_text(timeout) +
                           " (is rank 0 running there, and the port open?): " + what);
  }
}

std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchSpec& spec) {
  try {
    if (!spec.interface.empty()) {
      return c10d::ProcessGroupGloo::createDeviceForInterface(spec.interface);
    }
    if (is_loopback(spec.master_host)) {
      return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
    }
    return c10d::ProcessGroupGloo::createDefaultDevice();
  } catch (const std::exception& e) {
    throw DistributedError("cannot open the network interface '" +
                           (spec.interface.empty() ? std::string("default") : spec.interface) +
                           "' for Gloo (GLOO_SOCKET_IFNAME): " + message_of(e));
  }
}

// How the sums run, from RLCADE_COLLECTIVES (to compare them; docs/distributed.md): in the
// calling thread with blocking reads (direct, the default: 1.5x one process on an idle 2-core
// machine against 0.9x for process_group), the same with the gradients a backward pass has
// finished summed on a thread of their own while it goes on (direct_overlap), with busy
// polling (direct_busy_poll), or on ProcessGroupGloo's worker thread (process_group). 3 or
// more ranks always use process_group.
enum class SumMode { kDirect, kDirectOverlap, kDirectBusyPoll, kProcessGroup };

constexpr char kOverlapStorePrefix[] = "rlcade/direct_overlap";

SumMode sum_mode() {
  const char* mode = std::getenv("RLCADE_COLLECTIVES");
  const std::string name = mode ? mode : "direct";
  if (name == "direct") return SumMode::kDirect;
  if (name == "direct_overlap") return SumMode::kDirectOverlap;
  if (name == "direct_busy_poll") return SumMode::kDirectBusyPoll;
  if (name == "process_group") return SumMode::kProcessGroup;
  throw DistributedError("RLCADE_COLLECTIVES is '" + name +
                         "': use 'direct' (the default), 'direct_overlap', 'direct_busy_poll' or "
                         "'process_group'");
}

std::string rank_list(const std::vector<int>& ranks) {
  std::string text = ranks.size() == 1 ? "rank " : "ranks ";
  for (size_t i = 0; i < ranks.size(); ++i) text += (i ? ", " : "") + std::to_string(ranks[i]);
  return text;
}

// The gradients as one 1-D float tensor over their memory when they are contiguous views of
// one storage laid out back to back in order (the flat optimizer's gradient buffer, which
// lives as long as the optimizer); else undefined. Single tensors do not count: a gradient of
// its own may be reallocated by the next backward pass.
at::Tensor back_to_back(const std::vector<at::Tensor>& gradients) {
  if (gradients.size() < 2) return {};
  const at::Tensor& first = gradients.front();
  if (first.scalar_type() != at::kFloat) return {};
  const float* next = first.data_ptr<float>();
  int64_t total = 0;
  for (const at::Tensor& g : gradients) {
    if (g.scalar_type() != at::kFloat || !g.is_contiguous() ||
        !g.storage().is_alias_of(first.storage()) || g.data_ptr<float>() != next) {
      return {};
    }
    next += g.numel();
    total += g.numel();
  }
  return first.view({-1}).as_strided({total}, {1});
}

}  // namespace

struct GlooGroup::State {
  LaunchSpec spec;
  GroupOptions options;
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::TCPStore> heartbeat_store;  // The heartbeat thread's own connection.
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;    // Broadcasts (and sums without `direct`).
  std::unique_ptr<DirectGloo> direct;  // Sums in the calling thread (RLCADE_COLLECTIVES).
  // direct_overlap: the gradients a backward pass has finished, summed on a thread of their
  // own (gradients_ready); `overlapped` is the range of them under way, if any.
  std::unique_ptr<BackgroundSums> background;
  std::optional<std::pair<float*, int64_t>> overlapped;
  std::thread heartbeat;
  std::mutex mutex;
  std::condition_variable stop_signal;
  bool stopping = false;
  Traffic traffic;  // Written by the calling thread only.
  // RLCADE_COLLECTIVE_TRACE: each collective's entry and exit (steady clock, ns) and bytes,
  // written to <prefix>.rank<R>.tsv when the group closes (rlbench --case ddppo_scaling reads
  // them: who waited for whom, and how long a collective took once both ranks were in it).
  std::string trace_prefix;
  struct TraceRow {
    int64_t entry_ns, exit_ns, bytes;
    char kind;  // g: gradient all-reduce, s: sum, b: broadcast.
  };
  std::vector<TraceRow> trace;
  void write_trace() const;

  // The ranks whose heartbeat has not moved over two periods (empty when all are alive).
  // Throws DistributedError when the store itself is gone.
  std::vector<int> silent_ranks();
  // Turns a failed collective into an error naming the missing rank.
  [[noreturn]] void fail(const std::string& operation, const std::exception& e);
  // Runs `collective` (of `bytes`), counting it in `traffic` (and the trace) under `kind`;
  // turns a failure into an error naming the missing rank.
  void run(const std::function<void()>& collective, int64_t bytes, const std::string& operation,
           char kind);
  // Sums the contiguous `buffer` over the ranks (direct when it is on, else ProcessGroupGloo).
  // `stable`: the buffer's memory stays at its address for the run (the gradients' flat
  // buffer), so the calling-thread sums may reduce it in place (DirectGloo::sum_in_place).
  void all_reduce(at::Tensor& buffer, const std::string& operation, char kind, bool stable = false);
  // Replaces the gradients of `parameters` by their average over the ranks, weighted by
  // `weight` when it is given (GlooGroup::average_gradients).
  void reduce_gradients(const std::vector<at::Tensor>& parameters, std::optional<double> weight);
  // Starts the background sum of the gradients of `parameters` (gradients_ready).
  void start_overlapped(const std::vector<at::Tensor>& parameters);
  // Averages the flat gradient buffer `flat`, of which the range `overlapped` is being summed
  // in the background: sums the rest here, then waits for it.
  void finish_overlapped(at::Tensor& flat);
  // Waits for a background sum under way, dropping its result and error (before an error
  // leaves, so that the thread no longer writes to the gradients).
  void abandon_overlapped() noexcept;
  // The same with the gradients rounded to options.gradient_dtype's 16 bits for the sum.
  void reduce_compressed(const std::vector<at::Tensor>& gradients, std::optional<double> weight);
  at::Tensor
      compressed;  // The 16-bit copy of the gradients that is summed (kept: a stable buffer).
  void beat();
  void check_joined();
  void check_config();
};

void GlooGroup::State::beat() {
  const std::string key = kHeartbeatKey + std::to_string(spec.rank);
  std::unique_lock<std::mutex> lock(mutex);
  while (!stopping) {
    try {
      heartbeat_store->add(key, 1);
    } catch (const std::exception&) {
      return;  // The store is gone; the next collective reports it.
    }
    stop_signal.wait_for(lock, kHeartbeatPeriod);
  }
}

std::vector<int> GlooGroup::State::silent_ranks() {
  const auto read_all = [&] {
    std::vector<int64_t> counts(spec.world_size);
    for (int r = 0; r < spec.world_size; ++r) {
      counts[r] = store->add(kHeartbeatKey + std::to_string(r), 0);
    }
    return counts;
  };
  const auto read_or_fail = [&] {
    try {
      return read_all();
    } catch (const std::exception&) {
      throw DistributedError(
          "the rendezvous store at " + master_text(spec) + " is gone: " +
          (spec.store_hosted_elsewhere ? "the launcher (rltrain --nproc)" : "rank 0") + " stopped");
    }
  };
  const std::vector<int64_t> before = read_or_fail();
  std::this_thread::sleep_for(2 * kHeartbeatPeriod + Milliseconds(500));
  const std::vector<int64_t> after = read_or_fail();
  std::vector<int> silent;
  for (int r = 0; r < spec.world_size; ++r) {
    if (r != spec.rank && after[r] == before[r]) silent.push_back(r);
  }
  return silent;
}

void GlooGroup::State::fail(const std::string& operation, const std::exception& e) {
  const std::string cause = message_of(e);
  std::vector<int> silent;
  try {
    silent = silent_ranks();
  } catch (const DistributedError& gone) {
    throw DistributedError("rank " + std::to_string(spec.rank) + ": " + operation +
                           " failed: " + gone.what() + " (" + cause + ")");
  }
  std::string who = silent.empty()
                        ? "the other ranks are alive but did not answer within " +
                              seconds_text(options.timeout) +
                              " (distributed.timeout_s; a rank busy evaluating or saving?)"
                        : rank_list(silent) + " of " + std::to_string(spec.world_size) +
                              " stopped (no heartbeat)";
  throw DistributedError("rank " + std::to_string(spec.rank) + ": " + operation +
                         " failed: " + who + " (" + cause + ")");
}

void GlooGroup::State::run(const std::function<void()>& collective, int64_t bytes,
                           const std::string& operation, char kind) {
  const auto entry = std::chrono::steady_clock::now();
  try {
    collective();
  } catch (const std::exception& e) {
    fail(operation, e);
  }
  const auto exit = std::chrono::steady_clock::now();
  ++traffic.collectives;
  traffic.bytes += bytes;
  const double seconds = std::chrono::duration<double>(exit - entry).count();
  traffic.seconds += seconds;
  if (kind == 'g') {
    ++traffic.gradient_reduces;
    traffic.gradient_seconds += seconds;
  }
  if (!trace_prefix.empty()) {
    const auto ns = [](auto t) {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    };
    trace.push_back({ns(entry), ns(exit), bytes, kind});
  }
}

void GlooGroup::State::all_reduce(at::Tensor& buffer, const std::string& operation, char kind,
                                  bool stable) {
  const auto bytes = static_cast<int64_t>(buffer.nbytes());
  if (direct && stable && buffer.scalar_type() == at::kFloat) {
    run([&] { direct->sum_in_place(buffer.data_ptr<float>(), buffer.numel()); }, bytes, operation,
        kind);
  } else if (direct && buffer.scalar_type() == at::kFloat) {
    run([&] { direct->sum(buffer.data_ptr<float>(), buffer.numel()); }, bytes, operation, kind);
  } else if (direct && buffer.scalar_type() == at::kDouble) {
    run([&] { direct->sum(buffer.data_ptr<double>(), buffer.numel()); }, bytes, operation, kind);
  } else {
    std::vector<at::Tensor> buffers{buffer};
    run([&] { group->allreduce(buffers)->wait(options.timeout); }, bytes, operation, kind);
  }
}

void GlooGroup::State::write_trace() const {
  if (trace_prefix.empty()) return;
  const std::string path = trace_prefix + ".rank" + std::to_string(spec.rank) + ".tsv";
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (!file) return;  // A diagnostic aid: never fail training over it.
  std::fprintf(file, "kind\tentry_ns\texit_ns\tbytes\n");
  for (const TraceRow& row : trace) {
    std::fprintf(file, "%c\t%lld\t%lld\t%lld\n", row.kind, static_cast<long long>(row.entry_ns),
                 static_cast<long long>(row.exit_ns), static_cast<long long>(row.bytes));
  }
  std::fclose(file);
}

// Every rank publishes its config hash; waits until all have (naming the ranks that did not
// join in time).
void GlooGroup::State::check_joined() {
  store->set(kConfigKey + std::to_string(spec.rank), bytes_of(options.config_hash));
  std::vector<std::string> keys;
  for (int r = 0; r < spec.world_size; ++r) keys.push_back(kConfigKey + std::to_string(r));
  try {
    store->wait(keys, options.timeout);
  } catch (const std::exception&) {
    std::vector<int> missing;
    for (int r = 0; r < spec.world_size; ++r) {
      if (!store->check({keys[r]})) missing.push_back(r);
    }
    throw DistributedError(rank_list(missing) + " of " + std::to_string(spec.world_size) +
                           " did not join the master " + master_text(spec) + " within " +
                           seconds_text(options.timeout) + " (distributed.timeout_s)");
  }
}

void GlooGroup::State::check_config() {
  std::vector<int> differing;
  try {
    const std::string reference = text_of(store->get(kConfigKey + std::string("0")));
    for (int r = 1; r < spec.world_size; ++r) {
      if (text_of(store->get(kConfigKey + std::to_string(r))) != reference) differing.push_back(r);
    }
    // The store's host waits until every rank has compared, so that none of them loses the
    // store (and the error) halfway when the host exits.
    store->add(kCheckedKey, 1);
    if (spec.rank == 0 && !spec.store_hosted_elsewhere) {
      const auto deadline = std::chrono::steady_clock::now() + options.timeout;
      while (store->add(kCheckedKey, 0) < spec.world_size &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(Milliseconds(20));
      }
    }
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(spec.rank) +
                           " lost the rendezvous store while comparing configs: " + message_of(e));
  }
  if (!differing.empty()) {
    throw ConfigError("the config of " + rank_list(differing) + " differs from rank 0's " +
                      "(config hashes compared through the store): start every rank with "
                      "the same config file and --set values");
  }
}

std::unique_ptr<GlooGroup> GlooGroup::connect(const LaunchSpec& spec, const GroupOptions& options) {
  const SumMode mode = sum_mode();
  check_launch(spec);
  auto state = std::make_unique<State>();
  state->spec = spec;
  state->options = options;
  const bool server = spec.rank == 0 && !spec.store_hosted_elsewhere;
  state->store = open_store(spec, server, options.timeout);
  state->check_joined();
  state->check_config();
  state->heartbeat_store = open_store(spec, false, options.timeout);
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(options.timeout);
  const std::shared_ptr<::gloo::transport::Device> device = gloo_device(spec);
  gloo_options->devices.push_back(device);
  gloo_options->threads = 1;
  try {
    state->group = c10::make_intrusive<c10d::ProcessGroupGloo>(state->store, spec.rank,
                                                               spec.world_size, gloo_options);
    // Gloo's ring sums in each rank's own order: with 2 ranks a + b == b + a exactly, with more
    // the ranks could round differently and their weights drift apart, so they keep
    // ProcessGroupGloo's sums (reduce-scatter then all-gather: one order for every rank).
    if (mode != SumMode::kProcessGroup && spec.world_size == 2) {
      state->direct =
          std::make_unique<DirectGloo>(state->store, spec.rank, spec.world_size, device,
                                       options.timeout, mode == SumMode::kDirectBusyPoll);
      if (mode == SumMode::kDirectOverlap) {
        state->background = std::make_unique<BackgroundSums>(std::make_unique<DirectGloo>(
            state->store, spec.rank, spec.world_size, device, options.timeout, /*busy_poll=*/false,
            kOverlapStorePrefix));
      }
    }
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(spec.rank) +
                           ": Gloo could not connect the ranks: " + message_of(e));
  }
  // ProcessGroupGloo (LibTorch 1.13) sums float16 but no bfloat16.
  if (!state->direct && options.gradient_dtype == GradientDtype::kBfloat16) {
    throw ConfigError(
        "distributed.gradient_dtype: bfloat16 sums run in the calling thread, which takes "
        "exactly 2 processes (and RLCADE_COLLECTIVES unset, direct or direct_busy_poll); with " +
        std::to_string(spec.world_size) +
        " processes use float16 or float32 (ProcessGroupGloo sums no bfloat16)");
  }
  if (const char* trace = std::getenv("RLCADE_COLLECTIVE_TRACE")) state->trace_prefix = trace;
  state->heartbeat = std::thread([raw = state.get()] { raw->beat(); });
  return std::unique_ptr<GlooGroup>(new GlooGroup(std::move(state)));
}

GlooGroup::GlooGroup(std::unique_ptr<State> state) : state_(std::move(state)) {}

GlooGroup::~GlooGroup() {
  state_->abandon_overlapped();
  state_->write_trace();
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }
  state_->stop_signal.notify_all();
  if (state_->heartbeat.joinable()) state_->heartbeat.join();
}

int GlooGroup::rank() const { return state_->spec.rank; }
int GlooGroup::world_size() const { return state_->spec.world_size; }

void GlooGroup::average_gradients(const std::vector<at::Tensor>& parameters) {
  state_->reduce_gradients(parameters, std::nullopt);
}

void GlooGroup::average_gradients(const std::vector<at::Tensor>& parameters, double weight) {
  if (!(weight > 0)) {
    throw std::invalid_argument("average_gradients: the weight must be positive, got " +
                                std::to_string(weight));
  }
  state_->reduce_gradients(parameters, weight);
}

void GlooGroup::State::reduce_gradients(const std::vector<at::Tensor>& parameters,
                                        std::optional<double> weight) {
  std::vector<at::Tensor> gradients;
  gradients.reserve(parameters.size());
  for (const at::Tensor& p : parameters) {
    at::Tensor& gradient = const_cast<at::Tensor&>(p).mutable_grad();
    if (!gradient.defined()) gradient = at::zeros_like(p);
    gradients.push_back(gradient);
  }
  if (gradients.empty()) return;
  if (overlapped) {
    at::Tensor flat = back_to_back(gradients);
    if (weight || !flat.defined()) {
      abandon_overlapped();
      throw std::logic_error(
          "average_gradients: gradients_ready started a sum, but this average is weighted or "
          "not of one flat gradient buffer");
    }
    finish_overlapped(flat);
    return;
  }
  if (options.gradient_dtype != GradientDtype::kFloat32) {
    reduce_compressed(gradients, weight);
    return;
  }
  // The engine's gradients are views of one flat buffer, back to back: summed where they are.
  if (!weight) {
    if (at::Tensor flat = back_to_back(gradients); flat.defined()) {
      all_reduce(flat, "the gradient all-reduce", 'g', /*stable=*/true);
      flat.div_(static_cast<double>(spec.world_size));
      return;
    }
  }
  // One buffer, one all-reduce: the gradients of the small networks are latency-bound. A
  // weighted average adds the weight as one more element and scales the gradients by it.
  std::vector<at::Tensor> flat_views;
  for (const at::Tensor& g : gradients) flat_views.push_back(g.reshape({-1}));
  if (weight) flat_views.push_back(at::ones({1}, gradients.front().options()));
  at::Tensor flat = at::cat(flat_views);
  if (weight) flat.mul_(*weight);
  all_reduce(flat, "the gradient all-reduce", 'g');
  if (weight) {
    flat.div_(flat[flat.numel() - 1].item<double>());
  } else {
    flat.div_(static_cast<double>(spec.world_size));
  }
  int64_t offset = 0;
  for (at::Tensor& g : gradients) {
    const int64_t n = g.numel();
    g.copy_(flat.narrow(0, offset, n).view(g.sizes()));
    offset += n;
  }
}

void GlooGroup::State::start_overlapped(const std::vector<at::Tensor>& parameters) {
  if (!background || overlapped || options.gradient_dtype != GradientDtype::kFloat32) return;
  std::vector<at::Tensor> gradients;
  gradients.reserve(parameters.size());
  for (const at::Tensor& p : parameters) {
    if (!p.grad().defined()) return;
    gradients.push_back(p.grad());
  }
  // In the order of their memory, whatever order the caller named them in.
  std::sort(gradients.begin(), gradients.end(),
            [](const at::Tensor& a, const at::Tensor& b) { return a.data_ptr() < b.data_ptr(); });
  const at::Tensor range = back_to_back(gradients);
  if (!range.defined()) return;
  overlapped.emplace(range.data_ptr<float>(), range.numel());
  background->start(overlapped->first, overlapped->second);
}

void GlooGroup::State::finish_overlapped(at::Tensor& flat) {
  float* const begin = flat.data_ptr<float>();
  float* const end = begin + flat.numel();
  const auto [started, count] = *overlapped;
  if (started < begin || started + count > end) {
    abandon_overlapped();
    throw std::logic_error(
        "average_gradients: the gradients gradients_ready named are not among these");
  }
  const auto sum_here = [&](float* from, float* to) {
    if (to > from) direct->sum_in_place(from, to - from);
  };
  run(
      [&] {
        try {
          sum_here(begin, started);
          sum_here(started + count, end);
        } catch (...) {
          abandon_overlapped();
          throw;
        }
        overlapped.reset();
        background->wait();
      },
      static_cast<int64_t>(flat.nbytes()), "the gradient all-reduce", 'g');
  ++traffic.overlapped_reduces;
  traffic.background_seconds += background->last_sum_seconds();
  flat.div_(static_cast<double>(spec.world_size));
}

void GlooGroup::State::abandon_overlapped() noexcept {
  if (!overlapped) return;
  overlapped.reset();
  try {
    background->wait();
  } catch (...) {  // The caller reports its own error.
  }
}

void GlooGroup::gradients_ready(const std::vector<at::Tensor>& parameters) {
  state_->start_overlapped(parameters);
}

void GlooGroup::State::reduce_compressed(const std::vector<at::Tensor>& gradients,
                                         std::optional<double> weight) {
  at::Tensor flat = back_to_back(gradients);
  const bool in_place = flat.defined();
  if (!in_place) {
    std::vector<at::Tensor> flat_views;
    for (const at::Tensor& g : gradients) flat_views.push_back(g.reshape({-1}));
    flat = at::cat(flat_views);
  }
  const at::ScalarType type =
      options.gradient_dtype == GradientDtype::kBfloat16 ? at::kBFloat16 : at::kHalf;
  if (!compressed.defined() || compressed.numel() != flat.numel()) {
    compressed = at::empty({flat.numel()}, flat.options().dtype(type));
  }
  // The weight rides in a sum of its own: 16 bits would round it.
  if (weight) flat.mul_(*weight);
  compressed.copy_(flat);
  const auto bytes = static_cast<int64_t>(compressed.nbytes());
  if (direct) {
    auto* bits = reinterpret_cast<uint16_t*>(compressed.data_ptr());
    run([&] { direct->sum_in_place(bits, compressed.numel(), options.gradient_dtype); }, bytes,
        "the gradient all-reduce", 'g');
  } else {
    std::vector<at::Tensor> buffers{compressed};
    run([&] { group->allreduce(buffers)->wait(options.timeout); }, bytes, "the gradient all-reduce",
        'g');
  }
  flat.copy_(compressed);
  if (weight) {
    at::Tensor total = at::full({1}, *weight, at::TensorOptions().dtype(at::kDouble));
    all_reduce(total, "the all-reduce of the gradients' weights", 's');
    flat.div_(total.item<double>());
  } else {
    flat.div_(static_cast<double>(spec.world_size));
  }
  if (in_place) return;
  int64_t offset = 0;
  for (const at::Tensor& g : gradients) {
    const int64_t n = g.numel();
    g.copy_(flat.narrow(0, offset, n).view(g.sizes()));
    offset += n;
  }
}

void GlooGroup::sum(std::span<double> values) {
  if (values.empty()) return;
  at::Tensor buffer = at::from_blob(values.data(), {static_cast<int64_t>(values.size())},
                                    at::TensorOptions().dtype(at::kDouble));
  state_->all_reduce(buffer, "an all-reduce of statistics", 's');
}

void GlooGroup::broadcast(const std::vector<at::Tensor>& tensors, int root) {
  c10d::BroadcastOptions options;
  options.rootRank = root;
  for (const at::Tensor& tensor : tensors) {
    // Gloo needs a contiguous buffer: broadcast a copy when the tensor is not one.
    std::vector<at::Tensor> buffer{tensor.is_contiguous() ? tensor : tensor.contiguous()};
    state_->run([&] { state_->group->broadcast(buffer, options)->wait(state_->options.timeout); },
                static_cast<int64_t>(buffer[0].nbytes()), "the broadcast of rank 0's weights", 'b');
    if (!buffer[0].is_same(tensor)) const_cast<at::Tensor&>(tensor).copy_(buffer[0]);
  }
}

int64_t GlooGroup::add_to_counter(const std::string& key, int64_t amount) {
  try {
    return state_->store->add(key, amount);
  } catch (const std::exception& e) {
    state_->fail("the counter '" + key + "'", e);
  }
}

void GlooGroup::remove_counter(const std::string& key) {
  try {
    state_->store->deleteKey(key);
  } catch (const std::exception& e) {
    state_->fail("removing the counter '" + key + "'", e);
  }
}

GlooGroup::Traffic GlooGroup::traffic() const { return state_->traffic; }

std::string GlooGroup::share_from_rank0(const std::string& key, const std::string& value) {
  const std::string full_key = "rlcade/shared/" + key;
  try {
    if (rank() == 0) state_->store->set(full_key, bytes_of(value));
    state_->store->wait({full_key}, state_->options.timeout);
    return text_of(state_->store->get(full_key));
  } catch (const std::exception& e) {
    state_->fail("reading '" + key + "' from rank 0", e);
  }
}

struct StoreServer::State {
  c10::intrusive_ptr<c10d::TCPStore> store;
};

StoreServer::StoreServer() : state_(std::make_unique<State>()) {
  c10d::TCPStoreOptions options;
  options.port = 0;  // A free port, chosen by the system.
  options.isServer = true;
  options.waitWorkers = false;
  try {
    state_->store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", options);
  } catch (const std::exception& e) {
    throw DistributedError("cannot start the rendezvous store: " + message_of(e));
  }
}

StoreServer::~StoreServer() = default;

int StoreServer::port() const { return state_->store->getPort(); }

std::string describe(const GlooGroup::Traffic& traffic, double wall_seconds) {
  char text[240];
  std::snprintf(text, sizeof text,
                "%lld collectives (%lld gradient all-reduces), %.0f MB, %.2f s in them (%.2f s in "
                "gradient all-reduces): %.0f%% of %.1f s",
                static_cast<long long>(traffic.collectives),
                static_cast<long long>(traffic.gradient_reduces),
                static_cast<double>(traffic.bytes) / 1e6, traffic.seconds, traffic.gradient_seconds,
                wall_seconds > 0 ? 100.0 * traffic.seconds / wall_seconds : 0.0, wall_seconds);
  std::string line = text;
  if (traffic.overlapped_reduces > 0) {
    std::snprintf(text, sizeof text,
                  "; %lld gradient all-reduces overlapped with the backward pass (%.2f s of sums "
                  "on the communication thread)",
                  static_cast<long long>(traffic.overlapped_reduces), traffic.background_seconds);
    line += text;
  }
  return line;
}

std::string config_hash(const std::string& text) {
  const auto* data = reinterpret_cast<const uint8_t*>(text.data());
  char digest[40];
  std::snprintf(digest, sizeof digest, "%08x-%zu", crc32({data, text.size()}), text.size());
  return digest;
}

}  // namespace rl::distributed
