// Fuzzes what rlwatch and rltrain --resume/--evaluate do with a checkpoint file from elsewhere:
// read_checkpoint_config (the checks of verify_checkpoint, then the strict reading of the
// stored config) and load_checkpoint into an experiment of the stored agent type.
// The 24-byte trailer (size, CRC-32) rejects nearly every mutation, so each input is also
// loaded as an archive behind a recomputed valid trailer (an existing trailer stripped first),
// and, with RLCADE_FUZZ_FORGE_DATA_CRCS set, with the CRC-32s of its data entries recomputed
// too (with_data_crcs_fixed): LibTorch's archive reader and our load path see the bytes.
// The experiments loaded into are built once, from fixed small configs (the seeds' agents):
// building one from a mutated config would measure how much memory a valid config may ask for.
#include <c10/util/Logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
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

// The input's archive: its trailer stripped, when it ends with one.
std::string_view unsealed(std::string_view bytes) {
  if (bytes.size() >= kTrailerBytes &&
      bytes.substr(bytes.size() - kTrailerMagic.size()) == kTrailerMagic) {
    bytes.remove_suffix(kTrailerBytes);
  }
  return bytes;
}

// The input's archive behind a valid trailer.
std::string resealed(std::string_view input) {
  const std::string_view bytes = unsealed(input);
  std::string file(bytes);
  rl::fuzz::put_le(file, bytes.size(), 8);
  rl::fuzz::put_le(file, rl::crc32({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}),
                   4);
  rl::fuzz::put_le(file, 1, 4);  // Trailer version.
  file.append(kTrailerMagic);
  return file;
}

uint32_t u32_at(std::string_view bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= uint32_t{static_cast<uint8_t>(bytes[at + i])} << (8 * i);
  return value;
}

// The archive with the CRC-32s its central directory records for the stored entries outside
// code/ recomputed, so that mutated pickles and tensor data pass the reader's entry check and
// reach LibTorch's unpickler and our load code. Only a crafted file gets there (random damage
// fails the trailer and the entry checks), and LibTorch's unpickler trusts its lengths: an
// input found here reserving gigabytes is LibTorch's, not ours to fix. The TorchScript code
// keeps its checks (LibTorch's importer crashes on some damaged code).
std::string with_data_crcs_fixed(std::string zip) {
  const size_t end = zip.rfind("PK\x05\x06");
  if (end == std::string::npos || zip.size() - end < 22) return zip;
  size_t at = u32_at(zip, end + 16);
  for (uint32_t i = 0, count = u32_at(zip, end + 10) & 0xFFFF; i < count; ++i) {
    if (at > end || end - at < 46 || u32_at(zip, at) != 0x02014b50) return zip;
    const uint32_t name_bytes = u32_at(zip, at + 28) & 0xFFFF;
    if (end - at - 46 < name_bytes) return zip;
    const std::string_view name = std::string_view(zip).substr(at + 46, name_bytes);
    const size_t local = u32_at(zip, at + 42);
    const uint32_t size = u32_at(zip, at + 20);
    if (local > zip.size() || zip.size() - local < 32) return zip;
    const size_t data =
        local + 30 + (u32_at(zip, local + 26) & 0xFFFF) + (u32_at(zip, local + 28) & 0xFFFF);
    const bool stored = (u32_at(zip, at + 10) & 0xFFFF) == 0;
    if (stored && name.find("/code/") == std::string_view::npos && data <= zip.size() &&
        zip.size() - data >= size) {
      const uint32_t crc = rl::crc32({reinterpret_cast<const uint8_t*>(zip.data() + data), size});
      for (int b = 0; b < 4; ++b) zip[at + 16 + b] = static_cast<char>((crc >> (8 * b)) & 0xFF);
    }
    at += 46 + name_bytes + (u32_at(zip, at + 30) & 0xFFFF) + (u32_at(zip, at + 32) & 0xFFFF);
  }
  return zip;
}

}  // namespace

// LibTorch 1.13's zip reader leaks its state (~9 KB) when an archive fails to open; that is
// not ours to fix, and the leak checker would stop the fuzzer on it.
extern "C" const char* __lsan_default_suppressions() { return "leak:libtorch_cpu.so\n"; }

// LibTorch 1.13 symbolizes a C++ backtrace (dladdr per frame) into every c10::Error it throws;
// on damaged archives that was over 40% of the fuzzer's time, and the fuzzer never reads it.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  c10::SetStackTraceFetcher([] { return std::string(); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  load(rl::fuzz::write_scratch("as_is.pt", bytes));
  load(rl::fuzz::write_scratch("resealed.pt", resealed(bytes)));
  // Off by default: it reaches LibTorch's unpickler with crafted pickles, which it does not
  // withstand (an unchecked length reserves gigabytes); see with_data_crcs_fixed.
  static const bool forge_data_crcs = std::getenv("RLCADE_FUZZ_FORGE_DATA_CRCS") != nullptr;
  if (forge_data_crcs) {
    load(rl::fuzz::write_scratch("data_crcs_fixed.pt",
                                 resealed(with_data_crcs_fixed(std::string(unsealed(bytes))))));
  }
  return 0;
}
