// Fuzzes what rlwatch and rltrain --resume/--evaluate do with a checkpoint file from elsewhere:
// read_checkpoint_config (the checks of verify_checkpoint, then the strict reading of the
// stored config) and load_checkpoint into an experiment of the stored agent type.
// The 24-byte trailer (size, CRC-32) rejects nearly every mutation, so each input is also
// loaded as an archive behind a recomputed valid trailer (an existing trailer stripped first):
// LibTorch's archive reader and our load path then see the mutated bytes.
// The experiments loaded into are built once, from fixed small configs (the seeds' agents):
// building one from a mutated config would measure how much memory a valid config may ask for.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include "agents/checkpoint.h"
#include "agents/experiment.h"
#include "core/crc32.h"
#include "tests/fuzz/file_fuzz.h"

namespace {

constexpr size_t kTrailerBytes = 24;
constexpr std::string_view kTrailerMagic = "rlcadeCK";

// The configs of the seed checkpoints (make_corpus.py), one per agent type.
const std::map<std::string, std::string>& seed_configs() {
  static const std::map<std::string, std::string> configs = {
      {"dqn",
       "name: fuzz\nenv: {id: classic/cartpole-v1}\nagent: {type: dqn, hidden: [4], "
       "buffer_size: 64, batch_size: 4, learning_starts: 16}\n"},
      {"ppo",
       "name: fuzz\nenv: {id: classic/pendulum-v1}\nagent: {type: ppo, hidden: [4], "
       "num_steps: 8, num_minibatches: 2}\n"},
      {"sac",
       "name: fuzz\nenv: {id: classic/pendulum-v1}\nagent: {type: sac, hidden: [4], "
       "buffer_size: 64, batch_size: 4, learning_starts: 16}\n"},
  };
  return configs;
}

rl::Experiment* experiment_of(const std::string& type) {
  static std::map<std::string, std::unique_ptr<rl::Experiment>> experiments = [] {
    std::map<std::string, std::unique_ptr<rl::Experiment>> built;
    for (const auto& [name, yaml] : seed_configs()) {
      built[name] = std::make_unique<rl::Experiment>(
          rl::build_experiment(rl::ConfigDocument::parse(yaml, "fuzz " + name + " config")));
    }
    return built;
  }();
  const auto it = experiments.find(type);
  return it == experiments.end() ? nullptr : it->second.get();
}

// The agent type of a stored config; empty when the config is not a valid run config.
std::string stored_agent_type(const std::string& path, const std::string& config) {
  try {
    rl::LoadedConfig loaded =
        rl::read_run_config(rl::ConfigDocument::parse(config, path + " (stored config)"));
    return loaded.run.agent_type;
  } catch (const rl::ConfigError& e) {
    rl::fuzz::require_names_file(e.what(), path);
    return "";
  }
}

void load(const std::string& path) {
  try {
    // read_checkpoint_config opens the archive as verify_checkpoint does (one less load).
    const std::string type = stored_agent_type(path, rl::read_checkpoint_config(path));
    for (const auto& [name, yaml] : seed_configs()) {
      // The stored type first; others too, so that a mismatch is exercised as well.
      if (name != type && !type.empty()) continue;
      rl::load_checkpoint(path, *experiment_of(name));
    }
  } catch (const std::runtime_error& e) {  // CorruptCheckpointError and the other load errors.
    rl::fuzz::require_names_file(e.what(), path);
  }
}

// The input's archive (its trailer stripped, when it ends with one) behind a valid trailer.
std::string resealed(std::string_view bytes) {
  if (bytes.size() >= kTrailerBytes &&
      bytes.substr(bytes.size() - kTrailerMagic.size()) == kTrailerMagic) {
    bytes.remove_suffix(kTrailerBytes);
  }
  std::string file(bytes);
  rl::fuzz::put_le(file, bytes.size(), 8);
  rl::fuzz::put_le(file, rl::crc32({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}),
                   4);
  rl::fuzz::put_le(file, 1, 4);  // Trailer version.
  file.append(kTrailerMagic);
  return file;
}

}  // namespace

// LibTorch 1.13's zip reader leaks its state (~9 KB) when an archive fails to open; that is
// not ours to fix, and the leak checker would stop the fuzzer on it.
extern "C" const char* __lsan_default_suppressions() { return "leak:libtorch_cpu.so\n"; }

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  load(rl::fuzz::write_scratch("as_is.pt", bytes));
  load(rl::fuzz::write_scratch("resealed.pt", resealed(bytes)));
  return 0;
}
