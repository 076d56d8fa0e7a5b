// Remote-env cases: throughput of the wire protocol (docs/protocol.md) over loopback, with an
// in-process server (envs/remote/loopback_bench.h) on an ephemeral 127.0.0.1 port.
//
//   remote_cartpole_lockstep   C++ client, 1 env per connection, CartPole
//   remote_cartpole_batched    C++ client, N = 16, 256, 1024 envs per connection, CartPole
//   remote_minatar_lockstep    the same two for MinAtar Breakout (u8 [10,10,4] observations)
//   remote_minatar_batched
//   remote_python_client       clients/python/bench.py (python3) against the same servers
//   remote_json_observations   JSON-encoded observations: bytes per env step, encode+decode
//                              rate of the codec alone, and loopback rate, next to binary
//
// --seconds S is the timed budget of each row (default 0.3), split into 3 windows; a rate is
// reported as the mean over the windows with its standard error. --seed sets the env and
// action seeds. Env steps count envs advanced; a round trip is one STEP and its STEP_RESULT.
// cpu_cores_used is this process's CPU time (client and in-process server) per wall second:
// near 1-2 on an idle machine, lower when other processes take the cores.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "apps/rlbench/bench.h"
#include "core/json.h"
#include "core/registry.h"
#include "core/wire.h"
#include "envs/remote/loopback_bench.h"

namespace rl::bench {
namespace {

using remote::LoopbackBenchSpec;
using remote::LoopbackServer;
using remote::ThroughputSample;
using Clock = std::chrono::steady_clock;

constexpr const char* kCartPole = "classic/cartpole-v1";
constexpr const char* kMinAtar = "minatar/breakout-v1";
constexpr int kWindows = 3;
const std::vector<uint32_t> kBatchSizes{16, 256, 1024};
const std::vector<uint32_t> kPythonAndJsonSizes{1, 256};

std::string target(const std::string& env_id, uint32_t num_envs, const std::string& how) {
  return env_id + " N=" + std::to_string(num_envs) + " " + how;
}

// Adds `name` (mean over windows) and `name`_stderr; every window must have measured a
// positive, finite rate.
void add_rate(BenchResult& row, const std::string& name, const std::vector<double>& windows) {
  double sum = 0;
  for (double x : windows) {
    if (!(x > 0) || !std::isfinite(x))
      throw std::runtime_error(row.case_name + " (" + row.target + "): measured " + name + " = " +
                               std::to_string(x) + ", expected a positive rate");
    sum += x;
  }
  const double n = static_cast<double>(windows.size());
  const double mean = sum / n;
  double squares = 0;
  for (double x : windows) squares += (x - mean) * (x - mean);
  row.metrics.push_back({name, mean});
  row.metrics.push_back({name + "_stderr", n > 1 ? std::sqrt(squares / (n - 1) / n) : 0.0});
}

void add_throughput(BenchResult& row, const std::string& prefix,
                    const std::vector<ThroughputSample>& samples, bool full) {
  std::vector<double> steps, trips, cpu;
  for (const ThroughputSample& s : samples) {
    steps.push_back(s.env_steps_per_second);
    trips.push_back(s.round_trips_per_second);
    cpu.push_back(s.process_cpu_per_second);
  }
  add_rate(row, prefix + "env_steps_per_second", steps);
  if (!full) return;
  add_rate(row, prefix + "round_trips_per_second", trips);
  add_rate(row, "cpu_cores_used", cpu);
}

std::vector<ThroughputSample> measure(const LoopbackServer& server, uint32_t num_envs,
                                      const std::string& encoding, const BenchOptions& options) {
  LoopbackBenchSpec spec;
  spec.num_envs = num_envs;
  spec.encoding = encoding;
  spec.seconds = options.seconds_per_env;
  spec.windows = kWindows;
  spec.seed = options.seed;
  return remote::measure_loopback(server.address(), spec);
}

// ---- C++ client, lock-step and batched -------------------------------------------------------

BenchResults cpp_client_case(const std::string& case_name, const std::string& env_id,
                             const std::vector<uint32_t>& sizes, const BenchOptions& options) {
  LoopbackServer server(env_id);
  BenchResults rows;
  for (uint32_t n : sizes) {
    BenchResult row{case_name, target(env_id, n, "binary, C++ client"), {}};
    add_throughput(row, "", measure(server, n, "binary", options), true);
    if (n == 1) {
      row.metrics.push_back(
          {"local_env_steps_per_second",
           remote::local_env_steps_per_second(env_id, options.seconds_per_env, options.seed)});
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

RLBENCH_CASE("remote_cartpole_lockstep",
             "CartPole over loopback, 1 env per connection, C++ client: env steps/s (and local)",
             true, [](const BenchOptions& o) {
               return cpp_client_case("remote_cartpole_lockstep", kCartPole, {1}, o);
             });
RLBENCH_CASE("remote_cartpole_batched",
             "CartPole over loopback, N = 16/256/1024 envs per connection, C++ client", true,
             [](const BenchOptions& o) {
               return cpp_client_case("remote_cartpole_batched", kCartPole, kBatchSizes, o);
             });
RLBENCH_CASE("remote_minatar_lockstep",
             "MinAtar Breakout over loopback, 1 env per connection, C++ client (and local)", true,
             [](const BenchOptions& o) {
               return cpp_client_case("remote_minatar_lockstep", kMinAtar, {1}, o);
             });
RLBENCH_CASE("remote_minatar_batched",
             "MinAtar Breakout over loopback, N = 16/256/1024 envs per connection, C++ client",
             true, [](const BenchOptions& o) {
               return cpp_client_case("remote_minatar_batched", kMinAtar, kBatchSizes, o);
             });

// ---- Python client ----------------------------------------------------------------------------

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (size_t start = 0; start <= dirs.size();) {
    const size_t colon = std::min(dirs.find(':', start), dirs.size());
    const std::string dir = dirs.substr(start, colon - start);
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = colon + 1;
  }
  return "";
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::filesystem::path python_bench_script() {
  const char* dir = std::getenv("RLCADE_SOURCE_DIR");
  const std::filesystem::path script =
      std::filesystem::path(dir ? dir : RLCADE_SOURCE_DIR) / "clients/python/bench.py";
  if (!std::filesystem::exists(script))
    throw std::runtime_error("remote_python_client: " + script.string() +
                             " not found (set RLCADE_SOURCE_DIR to the rlcade checkout)");
  return script;
}

// Runs `command` through the shell; returns its stdout and stderr. Throws when it fails.
std::string run_command(const std::string& command, const std::string& what) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) throw std::runtime_error(what + ": cannot start: " + std::strerror(errno));
  std::string output;
  char buffer[4096];
  while (size_t got = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, got);
  const int status = ::pclose(pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(what + " failed (exit status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) +
                             "): " + command + "\n" + output);
  return output;
}

std::vector<double> numbers(const json::Value& line, const char* key, const std::string& where) {
  const json::Value* list = line.find(key);
  if (!list || !list->is_array() || list->items().empty())
    throw std::runtime_error(where + ": no list '" + key + "'");
  std::vector<double> out;
  for (const json::Value& v : list->items()) out.push_back(v.as_number());
  return out;
}

BenchResults python_client_case(const BenchOptions& options) {
  const std::string python = find_on_path("python3");
  if (python.empty())
    throw std::runtime_error(
        "remote_python_client: python3 not found on PATH; it runs clients/python/bench.py "
        "(Python 3.8+, standard library only; ./setup.sh installs it)");
  const std::filesystem::path script = python_bench_script();
  std::string sizes;
  for (uint32_t n : kPythonAndJsonSizes) {
    if (!sizes.empty()) sizes.push_back(',');
    sizes += std::to_string(n);
  }
  BenchResults rows;
  for (const std::string env_id : {kCartPole, kMinAtar}) {
    LoopbackServer server(env_id);
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", options.seconds_per_env);
    const std::string command = shell_quote(python) + " " + shell_quote(script.string()) + " " +
                                server.address() + " --seconds " + seconds + " --num-envs " +
                                sizes + " --encodings binary --repeats " +
                                std::to_string(kWindows) + " --json";
    const std::string output = run_command(command, "remote_python_client: " + script.string());
    size_t parsed = 0;
    for (size_t start = 0; start < output.size();) {
      const size_t end = std::min(output.find('\n', start), output.size());
      const std::string line = output.substr(start, end - start);
      start = end + 1;
      if (line.empty()) continue;
      const std::string where = "remote_python_client: bench.py line '" + line + "'";
      json::Value value;
      try {
        value = json::parse(line);
      } catch (const json::JsonError& e) {
        throw std::runtime_error(where + " is not JSON: " + e.what());
      }
      if (!value.is_object() || !value.find("num_envs"))
        throw std::runtime_error(where + ": expected an object with num_envs");
      const uint32_t n = static_cast<uint32_t>(value.find("num_envs")->as_number());
      if (n != kPythonAndJsonSizes.at(parsed))
        throw std::runtime_error(where + ": expected num_envs " +
                                 std::to_string(kPythonAndJsonSizes.at(parsed)));
      BenchResult row{"remote_python_client", target(env_id, n, "binary, python client"), {}};
      add_rate(row, "env_steps_per_second", numbers(value, "env_steps_per_second", where));
      add_rate(row, "round_trips_per_second", numbers(value, "round_trips_per_second", where));
      rows.push_back(std::move(row));
      if (++parsed == kPythonAndJsonSizes.size()) break;
    }
    if (parsed != kPythonAndJsonSizes.size())
      throw std::runtime_error("remote_python_client: bench.py printed " + std::to_string(parsed) +
                               " of " + std::to_string(kPythonAndJsonSizes.size()) + " results:\n" +
                               output);
  }
  return rows;
}

RLBENCH_CASE("remote_python_client",
             "clients/python/bench.py (python3) over loopback: CartPole, Breakout, N = 1 and 256",
             true, python_client_case);

// ---- JSON-encoded observations -----------------------------------------------------------------

// STEP_RESULT bodies recorded from `num_envs` real envs under random actions (auto-reset as the
// server does), and their decoded views.
struct Recording {
  Space observation_space;
  uint32_t num_envs = 0;
  std::vector<std::vector<uint8_t>> bodies;
  std::vector<wire::StepResultView> views;
};

Recording record(const std::string& env_id, uint32_t num_envs, uint64_t seed) {
  std::vector<std::unique_ptr<Env>> envs;
  for (uint32_t i = 0; i < num_envs; ++i) envs.push_back(EnvRegistry::global().make(env_id));
  const EnvSpec& spec = envs.front()->spec();
  Recording rec{spec.observation_space, num_envs, {}, {}};
  wire::StepResultWriter writer(num_envs, spec.observation_space);
  writer.begin();
  for (uint32_t i = 0; i < num_envs; ++i) {
    envs[i]->reset(seed + i, writer.observation(i));
    writer.set(i, wire::StepType::kFirst, 0.f);
  }
  Rng rng(seed + 1);
  std::vector<float> values;
  const size_t frames = std::max<size_t>(8, (4096 + num_envs - 1) / num_envs);
  while (rec.bodies.size() < frames) {
    writer.begin();
    for (uint32_t i = 0; i < num_envs; ++i) {
      const int64_t index = sample_space(spec.action_space, rng, values);
      const StepResult r = envs[i]->step(Action{index, values}, writer.observation(i));
      writer.set(i,
                 r.terminated  ? wire::StepType::kTerminated
                 : r.truncated ? wire::StepType::kTruncated
                               : wire::StepType::kMid,
                 r.reward);
      if (r.done()) {
        writer.add_final(i);
        envs[i]->reset(writer.observation(i));
      }
    }
    writer.finish(0);
    rec.bodies.emplace_back(writer.body().begin(), writer.body().end());
  }
  for (const auto& body : rec.bodies) rec.views.push_back(wire::parse_step_result(body));
  return rec;
}

// Server side of a binary reply: the observations (and final ones) go into the writer.
std::span<const uint8_t> encode_binary(const wire::StepResultView& v, size_t row_bytes,
                                       wire::StepResultWriter& writer) {
  writer.begin();
  uint32_t final_row = 0;
  for (uint32_t i = 0; i < v.num_envs; ++i) {
    const std::span<uint8_t> out = writer.observation(i);
    const wire::StepType type = v.step_type(i);
    if (type == wire::StepType::kTerminated || type == wire::StepType::kTruncated) {
      std::memcpy(out.data(), v.final_observations.data.data() + final_row * row_bytes, row_bytes);
      writer.add_final(i);
      ++final_row;
    }
    std::memcpy(out.data(), v.observations.data.data() + i * row_bytes, row_bytes);
    writer.set(i, type, v.reward(i));
  }
  writer.finish(0);
  return writer.body();
}

// Client side: decode and check the body, then copy observations, rewards and step types out
// as a learner would. Returns a checksum so the work cannot be optimised away.
uint64_t decode_binary(std::span<const uint8_t> body, const Recording& rec,
                       std::vector<uint8_t>& sink) {
  const wire::StepResultView v = wire::parse_step_result(body);
  wire::check_step_result(v, rec.observation_space, rec.num_envs);
  sink.resize(v.observations.data.size() + v.final_observations.data.size() + 5 * v.num_envs);
  uint8_t* out = sink.data();
  for (auto part : {v.observations.data, v.final_observations.data, v.rewards, v.step_types}) {
    std::memcpy(out, part.data(), part.size());
    out += part.size();
  }
  return sink.front() + sink.back() + v.num_final;
}

// Written once per measurement so the compiler cannot drop the timed work.
volatile uint64_t benchmark_sink = 0;

struct CodecRates {
  std::vector<double> binary, json;  // env steps per second, one value per window
  double binary_bytes_per_step = 0, json_bytes_per_step = 0;
};

CodecRates codec_rates(const Recording& rec, double seconds) {
  const size_t row_bytes = rec.observation_space.bytes();
  wire::StepResultWriter writer(rec.num_envs, rec.observation_space);
  std::vector<uint8_t> sink, json_body;
  CodecRates rates;
  // One pass to check both codecs reproduce every recorded body and to count bytes.
  double binary_bytes = 0, json_bytes = 0;
  for (size_t f = 0; f < rec.bodies.size(); ++f) {
    const auto body = encode_binary(rec.views[f], row_bytes, writer);
    const std::string text = wire::step_result_to_json(wire::parse_step_result(body));
    wire::step_result_from_json(text, rec.observation_space, json_body);
    if (!std::equal(body.begin(), body.end(), rec.bodies[f].begin(), rec.bodies[f].end()) ||
        json_body != rec.bodies[f])
      throw std::runtime_error("remote_json_observations: frame " + std::to_string(f) +
                               " did not survive the binary or JSON round trip");
    binary_bytes += static_cast<double>(wire::kHeaderBytes + body.size());
    json_bytes += static_cast<double>(wire::kHeaderBytes + text.size());
  }
  const double steps = static_cast<double>(rec.bodies.size()) * rec.num_envs;
  rates.binary_bytes_per_step = binary_bytes / steps;
  rates.json_bytes_per_step = json_bytes / steps;

  uint64_t checksum = 0;
  auto timed = [&](auto&& one_frame, std::vector<double>& out) {
    for (int w = 0; w < kWindows; ++w) {
      size_t frames = 0;
      const auto start = Clock::now();
      double elapsed = 0;
      do {
        checksum += one_frame(rec.views[frames++ % rec.views.size()]);
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      } while (elapsed < seconds / kWindows);
      out.push_back(static_cast<double>(frames) * rec.num_envs / elapsed);
    }
  };
  timed(
      [&](const wire::StepResultView& v) {
        return decode_binary(encode_binary(v, row_bytes, writer), rec, sink);
      },
      rates.binary);
  // JSON costs what the server and client do for observation_encoding json: the binary reply
  // is built, parsed and written as JSON text; the client parses the text back to binary.
  timed(
      [&](const wire::StepResultView& v) {
        const auto body = encode_binary(v, row_bytes, writer);
        const std::string text = wire::step_result_to_json(wire::parse_step_result(body));
        wire::step_result_from_json(text, rec.observation_space, json_body);
        return decode_binary(json_body, rec, sink);
      },
      rates.json);
  benchmark_sink = checksum;
  return rates;
}

void add_codec_metrics(BenchResult& row, const CodecRates& codec) {
  row.metrics.push_back({"binary_bytes_per_env_step", codec.binary_bytes_per_step});
  row.metrics.push_back({"json_bytes_per_env_step", codec.json_bytes_per_step});
  add_rate(row, "binary_codec_env_steps_per_second", codec.binary);
  add_rate(row, "json_codec_env_steps_per_second", codec.json);
}

BenchResults json_observations_case(const BenchOptions& options) {
  BenchResults rows;
  for (const std::string env_id : {kCartPole, kMinAtar}) {
    LoopbackServer server(env_id);
    for (uint32_t n : kPythonAndJsonSizes) {
      BenchResult row{"remote_json_observations", target(env_id, n, "JSON vs binary"), {}};
      add_codec_metrics(row, codec_rates(record(env_id, n, options.seed), options.seconds_per_env));
      add_throughput(row, "binary_loopback_", measure(server, n, "binary", options), false);
      add_throughput(row, "json_loopback_", measure(server, n, "json", options), false);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

RLBENCH_CASE("remote_json_observations",
             "JSON vs binary observations: bytes per env step, codec and loopback env steps/s",
             true, json_observations_case);

// Documents per second of `once()`, one value per window.
template <typename F>
std::vector<double> documents_per_second(double seconds, F&& once) {
  std::vector<double> rates;
  for (int w = 0; w < kWindows; ++w) {
    size_t documents = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
      benchmark_sink = benchmark_sink + once();
      ++documents;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < seconds / kWindows);
    rates.push_back(static_cast<double>(documents) / elapsed);
  }
  return rates;
}

// core/json alone: parse and dump of a 16 KB array of floats widened to doubles (17-digit
// numbers, as observations are written).
BenchResult json_floats_row(const BenchOptions& options) {
  Rng rng(options.seed);
  json::Value floats = json::Value::array();
  for (int i = 0; i < 840; ++i)
    floats.push_back(static_cast<double>(static_cast<float>(rng.uniform(-2, 2))));
  const std::string text = json::dump(floats);
  BenchResult row{
      "remote_json_codec", "core/json " + std::to_string(text.size()) + " bytes of floats", {}};
  add_rate(row, "parse_per_second", documents_per_second(options.seconds_per_env, [&] {
             return json::parse(text).items().size();
           }));
  add_rate(row, "dump_per_second", documents_per_second(options.seconds_per_env, [&] {
             return json::dump(floats).size();
           }));
  return row;
}

// The codec rows of remote_json_observations alone, and core/json's own parse and dump rates:
// no server, so it starts fast and runs steadily under valgrind.
BenchResults json_codec_case(const BenchOptions& options) {
  BenchResults rows{json_floats_row(options)};
  for (const std::string env_id : {kCartPole, kMinAtar})
    for (uint32_t n : kPythonAndJsonSizes) {
      BenchResult row{"remote_json_codec", target(env_id, n, "JSON vs binary"), {}};
      add_codec_metrics(row, codec_rates(record(env_id, n, options.seed), options.seconds_per_env));
      rows.push_back(std::move(row));
    }
  return rows;
}

RLBENCH_CASE("remote_json_codec",
             "codec rows of remote_json_observations only (no loopback server)", false,
             json_codec_case);

}  // namespace
}  // namespace rl::bench
