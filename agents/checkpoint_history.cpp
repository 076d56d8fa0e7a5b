#include "agents/checkpoint_history.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <utility>

namespace rl {

namespace fs = std::filesystem;

namespace {

constexpr char kStepPrefix[] = "step_";
constexpr char kExtension[] = ".pt";

std::string step_file_name(int64_t step) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%s%09lld%s", kStepPrefix, static_cast<long long>(step),
                kExtension);
  return buffer;
}

// The step of a step file's name, or -1 for any other name.
int64_t step_of(const std::string& name) {
  const std::string prefix = kStepPrefix;
  const std::string extension = kExtension;
  if (name.size() <= prefix.size() + extension.size() || name.rfind(prefix, 0) != 0 ||
      name.compare(name.size() - extension.size(), extension.size(), extension) != 0) {
    return -1;
  }
  const std::string digits =
      name.substr(prefix.size(), name.size() - prefix.size() - extension.size());
  if (digits.size() > 18 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return -1;
  }
  return std::stoll(digits);
}

std::vector<std::pair<int64_t, fs::path>> steps_newest_first(const std::string& checkpoint_dir) {
  std::vector<std::pair<int64_t, fs::path>> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(checkpoint_dir, ec)) {
    const int64_t step = step_of(entry.path().filename().string());
    if (step >= 0 && entry.is_regular_file(ec)) files.emplace_back(step, entry.path());
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a > b; });
  return files;
}

void remove_oldest_steps(const std::string& checkpoint_dir, int64_t keep) {
  const auto files = steps_newest_first(checkpoint_dir);
  for (size_t i = static_cast<size_t>(std::max<int64_t>(keep, 0)); i < files.size(); ++i) {
    std::error_code ignored;  // A file that cannot be removed only takes space.
    fs::remove(files[i].second, ignored);
  }
}

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const bool same = fs::equivalent(a, b, ec);
  return !ec && same;
}

// The files to try in place of `path`: itself, latest.pt and the step files, newest first.
std::vector<std::string> candidates(const std::string& path) {
  const fs::path dir = fs::path(path).parent_path();
  std::vector<std::string> files = {path};
  auto add = [&](const fs::path& file) {
    const bool seen = std::any_of(files.begin(), files.end(),
                                  [&](const std::string& f) { return same_file(f, file); });
    if (!seen && fs::exists(file)) files.push_back(file.string());
  };
  add(dir / kLatestCheckpoint);
  for (const auto& [step, file] : steps_newest_first(dir.empty() ? "." : dir.string())) add(file);
  return files;
}

}  // namespace

void add_to_checkpoint_history(const std::string& checkpoint_dir, const std::string& bytes,
                               int64_t step, int64_t keep) {
  if (keep > 0) {
    write_checkpoint_file((fs::path(checkpoint_dir) / step_file_name(step)).string(), bytes);
  }
  remove_oldest_steps(checkpoint_dir, keep);
}

std::string checkpoint_to_read(const std::string& run_or_checkpoint) {
  if (fs::is_regular_file(run_or_checkpoint)) return run_or_checkpoint;
  if (fs::is_directory(run_or_checkpoint)) {
    for (const char* name : {"best.pt", "final.pt", kLatestCheckpoint}) {
      const fs::path candidate = fs::path(run_or_checkpoint) / "checkpoints" / name;
      if (fs::is_regular_file(candidate)) return candidate.string();
    }
    throw std::runtime_error(run_or_checkpoint +
                             ": no checkpoints/best.pt, final.pt or latest.pt (is it a run folder "
                             "written by rltrain?)");
  }
  throw std::runtime_error(run_or_checkpoint + ": no such checkpoint file or run folder");
}

std::vector<std::string> step_checkpoints(const std::string& checkpoint_dir) {
  std::vector<std::string> paths;
  for (const auto& [step, file] : steps_newest_first(checkpoint_dir)) paths.push_back(file);
  return paths;
}

std::vector<std::string> CheckpointChoice::report() const {
  std::vector<std::string> lines;
  for (const RejectedCheckpoint& r : rejected) lines.push_back(r.reason);
  if (!rejected.empty())
    lines.push_back("falling back to " + path + ", the newest valid checkpoint");
  return lines;
}

CheckpointChoice choose_valid_checkpoint(const std::string& path) {
  if (!fs::exists(path)) throw std::runtime_error(path + ": cannot read checkpoint: no such file");
  CheckpointChoice choice;
  for (const std::string& candidate : candidates(path)) {
    try {
      verify_checkpoint(candidate);
      choice.path = candidate;
      return choice;
    } catch (const CorruptCheckpointError& e) {
      choice.rejected.push_back({candidate, e.what()});
    }
  }
  std::string message = "no valid checkpoint to load in place of " + path + ":";
  for (const RejectedCheckpoint& r : choice.rejected) message += "\n  " + r.reason;
  throw std::runtime_error(message);
}

std::vector<std::string> set_aside_rejected(const CheckpointChoice& choice) {
  std::vector<std::string> moved;
  for (const RejectedCheckpoint& r : choice.rejected) {
    if (step_of(fs::path(r.path).filename().string()) < 0) continue;
    const std::string target = r.path + ".corrupt";
    std::error_code ec;
    fs::rename(r.path, target, ec);
    if (!ec) moved.push_back(target);
  }
  return moved;
}

}  // namespace rl
