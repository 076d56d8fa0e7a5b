// Runs rlbench's remote_* cases (apps/rlbench/remote_bench.cpp) and the MinAtar DQN case for a
// tiny budget: each one reports positive rates and the rows it promises, and a missing python3
// or a bad --steps is a clear error.
// Speed itself is not checked here; the figures live in docs/benchmarks.md.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "apps/run_app.h"
#include "core/json.h"
#include "test_support.h"

namespace rl {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kRemoteCases = {
    "remote_cartpole_lockstep", "remote_cartpole_batched", "remote_minatar_lockstep",
    "remote_minatar_batched",   "remote_python_client",    "remote_json_observations"};

// Runs `prefix 'rlbench' args`, stdout and stderr together; returns {exit code, output}.
std::pair<int, std::string> run_rlbench(const std::string& args, const std::string& prefix = "") {
  const test::AppResult result =
      test::run_app("rlbench", args, std::filesystem::temp_directory_path(), prefix);
  return {result.exit_code, result.output};
}

double metric(const json::Value& result, const std::string& name) {
  const json::Value* value = result.find("metrics")->find(name);
  REQUIRE_MESSAGE(value != nullptr, "missing metric " << name);
  REQUIRE(value->is_number());
  return value->as_number();
}

TEST_CASE("rlbench: every remote case runs for a tiny budget with positive rates") {
  std::string args = "--json --seconds 0.03";
  for (const std::string& name : kRemoteCases) args += " --case " + name;
  const auto [code, output] = run_rlbench(args);
  CAPTURE(output);
  REQUIRE(code == 0);
  const json::Value root = json::parse(output.substr(output.find('{')));
  std::map<std::string, std::vector<json::Value>> rows;
  for (const json::Value& r : root.find("results")->items())
    rows[r.find("case")->as_string()].push_back(r);
  for (const std::string& name : kRemoteCases) {
    CAPTURE(name);
    REQUIRE(!rows[name].empty());
    for (const json::Value& r : rows[name]) {
      const std::string target = r.find("target")->as_string();
      CAPTURE(target);
      for (const std::string& metric_name : r.find("metrics")->keys()) {
        if (metric_name.find("per_second") == std::string::npos) continue;
        if (metric_name.find("_stderr") != std::string::npos) {
          CHECK(metric(r, metric_name) >= 0);
        } else {
          CHECK(metric(r, metric_name) > 0);
        }
      }
    }
  }
  // Lock-step: one env per round trip, and the no-socket baseline beside it.
  for (const char* name : {"remote_cartpole_lockstep", "remote_minatar_lockstep"}) {
    REQUIRE(rows[name].size() == 1);
    const json::Value& r = rows[name][0];
    CHECK(r.find("target")->as_string().find("N=1 binary, C++ client") != std::string::npos);
    CHECK(metric(r, "env_steps_per_second") ==
          doctest::Approx(metric(r, "round_trips_per_second")));
    CHECK(metric(r, "local_env_steps_per_second") > 0);
    CHECK(metric(r, "cpu_cores_used") > 0);
    CHECK(metric(r, "cpu_cores_used") <= 2.5);  // Client + server thread, plus timer slack.
  }
  // Batched: N env steps per round trip, for N = 16, 256 and 1024.
  for (const char* name : {"remote_cartpole_batched", "remote_minatar_batched"}) {
    REQUIRE(rows[name].size() == 3);
    const double sizes[] = {16, 256, 1024};
    for (size_t i = 0; i < 3; ++i) {
      const json::Value& r = rows[name][i];
      const std::string n = "N=" + std::to_string(static_cast<int>(sizes[i])) + " ";
      CHECK(r.find("target")->as_string().find(n) != std::string::npos);
      CHECK(metric(r, "env_steps_per_second") ==
            doctest::Approx(sizes[i] * metric(r, "round_trips_per_second")));
    }
  }
  // Python: CartPole and Breakout, N = 1 and 256.
  REQUIRE(rows["remote_python_client"].size() == 4);
  CHECK(rows["remote_python_client"][3].find("target")->as_string() ==
        "minatar/breakout-v1 N=256 binary, python client");
  // JSON: the same rows; JSON text is larger than the binary tensors, and the binary sizes are
  // the frame layout of docs/protocol.md.
  const auto& json_rows = rows["remote_json_observations"];
  REQUIRE(json_rows.size() == 4);
  for (const json::Value& r : json_rows) {
    CAPTURE(r.find("target")->as_string());
    CHECK(metric(r, "json_bytes_per_env_step") > metric(r, "binary_bytes_per_env_step"));
  }
  // CartPole, N = 1: header 16 + counts 8 + step type 4 + reward 4 + f32[1,4] tensor 28 +
  // final tensor header 12, plus 16 bytes for each final observation (at most one per step).
  CHECK(json_rows[0].find("target")->as_string() == "classic/cartpole-v1 N=1 JSON vs binary");
  CHECK(metric(json_rows[0], "binary_bytes_per_env_step") > 72);
  CHECK(metric(json_rows[0], "binary_bytes_per_env_step") < 72 + 16);
  // Breakout, N = 1: the same with a u8[1,10,10,4] tensor (20 + 400) and a 20-byte final
  // tensor header.
  CHECK(metric(json_rows[2], "binary_bytes_per_env_step") > 16 + 8 + 4 + 4 + 420 + 20);
  CHECK(metric(json_rows[2], "binary_bytes_per_env_step") < 16 + 8 + 4 + 4 + 420 + 20 + 400);
}

TEST_CASE("rlbench: dqn_minatar_breakout reports the learning-phase frames/s") {
  const auto [code, output] = run_rlbench("--json --case dqn_minatar_breakout --steps 6000");
  CAPTURE(output);
  REQUIRE(code == 0);
  const json::Value root = json::parse(output.substr(output.find('{')));
  const json::Value& row = root.find("results")->items().at(0);
  CHECK(metric(row, "steps") == 6000);
  CHECK(metric(row, "learning_steps_per_second") > 0);
  CHECK(metric(row, "steps_per_second") > 0);

  const auto [bad_code, bad_output] = run_rlbench("--case dqn_minatar_breakout --steps 5500");
  CHECK(bad_code != 0);
  CHECK(bad_output.find("multiple of 1000") != std::string::npos);
}

TEST_CASE("rlbench: remote_python_client names python3 when it is missing") {
  const fs::path empty = fs::temp_directory_path() / "rlcade_rlbench_no_python";
  fs::create_directories(empty);
  const auto [code, output] = run_rlbench("--case remote_python_client --seconds 0.03",
                                          "env PATH='" + empty.string() + "' ");
  fs::remove_all(empty);
  CAPTURE(output);
  CHECK(code == 1);  // a missing program fails the run; it is not a usage error
  CHECK(output.find("remote_python_client: python3 not found on PATH") != std::string::npos);
}

}  // namespace
}  // namespace rl
