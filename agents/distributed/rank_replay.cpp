#include "agents/distributed/rank_replay.h"

#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "core/atomic_file.h"

namespace rl::distributed {

namespace {

constexpr char kMagic[8] = {'r', 'l', 'r', 'e', 'p', 'l', 'a', 'y'};

}  // namespace

std::string rank_replay_path(const std::string& run_dir, int rank) {
  return (std::filesystem::path(run_dir) / "checkpoints" /
          ("replay_rank" + std::to_string(rank) + ".bin"))
      .string();
}

void save_rank_replay(const std::string& run_dir, int rank, int64_t step,
                      const ReplayBuffer& replay) {
  const std::vector<uint8_t> bytes = replay.save();
  std::string contents(sizeof kMagic + sizeof step, '\0');
  std::memcpy(contents.data(), kMagic, sizeof kMagic);
  std::memcpy(contents.data() + sizeof kMagic, &step, sizeof step);
  contents.append(bytes.begin(), bytes.end());
  write_file_atomic(rank_replay_path(run_dir, rank), contents);
}

bool load_rank_replay(const std::string& run_dir, int rank, int64_t step, ReplayBuffer& replay) {
  const std::string path = rank_replay_path(run_dir, rank);
  if (!std::filesystem::exists(path)) return false;
  const std::string contents = read_file(path);
  int64_t saved_step = -1;
  if (contents.size() < sizeof kMagic + sizeof saved_step ||
      std::memcmp(contents.data(), kMagic, sizeof kMagic) != 0) {
    throw std::runtime_error(path + ": not a replay buffer saved by rltrain");
  }
  std::memcpy(&saved_step, contents.data() + sizeof kMagic, sizeof saved_step);
  if (saved_step != step) return false;
  const auto* data = reinterpret_cast<const uint8_t*>(contents.data());
  const size_t header = sizeof kMagic + sizeof saved_step;
  try {
    replay.load({data + header, contents.size() - header});
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
  return true;
}

}  // namespace rl::distributed
