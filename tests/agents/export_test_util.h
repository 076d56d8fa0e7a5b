// Helpers shared by the export tests (export_test, export_dense_test, export_recurrent_test):
// the source folder, random play, legal-action masks, raw files for the Python checks, and
// running those checks.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/rng.h"
#include "core/spaces.h"

namespace rl::test {

inline std::filesystem::path source_dir() {
  const char* dir = std::getenv("RLCADE_SOURCE_DIR");
  REQUIRE_MESSAGE(dir != nullptr, "run through ctest, or set RLCADE_SOURCE_DIR");
  return dir;
}

// Plays `steps` uniformly random actions in `env` (reset with `seed`, and with fresh seeds from
// `rng` after each episode), appending each observation before its step to `recorded` when
// given.
inline void play_randomly(Env& env, int steps, uint64_t seed, Rng& rng,
                          std::vector<uint8_t>* recorded = nullptr) {
  std::vector<uint8_t> obs(env.spec().observation_space.bytes());
  std::vector<float> values;
  env.reset(seed, obs);
  for (int i = 0; i < steps; ++i) {
    if (recorded) recorded->insert(recorded->end(), obs.begin(), obs.end());
    const Space& actions = env.spec().action_space;
    const int64_t index = sample_space(actions, rng, values);
    const StepResult step =
        env.step(actions.is_discrete() ? Action::discrete(index) : Action::continuous(values), obs);
    if (step.terminated || step.truncated) env.reset(rng.next(), obs);
  }
}

// Legal-action masks [count, actions], each entry legal with probability `legal_probability`,
// and at least one legal action per row.
inline std::vector<uint8_t> random_masks(int count, int64_t actions, uint64_t seed,
                                         double legal_probability) {
  Rng rng(seed);
  std::vector<uint8_t> masks(static_cast<size_t>(count * actions));
  for (int i = 0; i < count; ++i) {
    uint8_t* row = masks.data() + i * actions;
    for (int64_t a = 0; a < actions; ++a) row[a] = rng.uniform() < legal_probability ? 1 : 0;
    row[rng.below(static_cast<uint64_t>(actions))] = 1;
  }
  return masks;
}

inline void write_bytes(const std::filesystem::path& path, const void* data, size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  REQUIRE(out.good());
}

// Runs tests/agents/`script` POLICY DIR with Debian's Python and checks that it exits 0 and
// reports "python: all match" and "onnx: checked".
inline void check_with_python(const std::string& script, const std::string& policy,
                              const std::filesystem::path& dir) {
  const std::string path = (source_dir() / "tests" / "agents" / script).string();
  const std::string command = "/usr/bin/python3 '" + path + "' '" + policy + "' '" + dir.string() +
                              "' > '" + (dir / "python.log").string() + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream log(dir / "python.log");
  const std::string output((std::istreambuf_iterator<char>(log)), {});
  INFO(output);
  CHECK(status == 0);
  CHECK(output.find("python: all match") != std::string::npos);
  CHECK(output.find("onnx: checked") != std::string::npos);
}

}  // namespace rl::test
