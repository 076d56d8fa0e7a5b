// Per-element running mean and variance (Welford's update, Chan et al.'s parallel merge), and
// a locked version shared by the env copies of a vector env for observation normalization.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

namespace rl {

class RunningStats {
 public:
  explicit RunningStats(size_t dim = 0);
  // Statistics with these moments: `m2` holds the sums of squared deviations from the mean.
  // Throws std::invalid_argument when the sizes differ.
  static RunningStats from_moments(double count, std::vector<double> mean, std::vector<double> m2);

  size_t dim() const { return mean_.size(); }
  double count() const { return count_; }
  double mean(size_t i) const { return mean_[i]; }
  // Population variance of element i (0 before any sample).
  double variance(size_t i) const { return count_ > 0 ? m2_[i] / count_ : 0.0; }
  double m2(size_t i) const { return m2_[i]; }

  // Adds one sample of dim() values. Throws std::invalid_argument for a wrong size or a
  // non-finite value (naming the element); the statistics are then unchanged.
  void add(std::span<const float> sample);
  // Combines with statistics gathered elsewhere, as if all their samples had been added here.
  // Throws std::invalid_argument when the dimensions differ.
  void merge(const RunningStats& other);

  // Serializes to bytes (for checkpoints) and back. load() throws std::invalid_argument saying
  // what is wrong (size, magic, version, a negative count or variance, a non-finite value).
  std::vector<uint8_t> save() const;
  static RunningStats load(std::span<const uint8_t> bytes);

  bool operator==(const RunningStats& other) const = default;

 private:
  double count_ = 0.0;
  std::vector<double> mean_;
  std::vector<double> m2_;  // Sum of squared deviations from the mean.
};

// RunningStats behind a mutex, shared (through a shared_ptr) by every copy of a normalized env
// so they all learn one set of statistics. Safe to use from the threads of a vector env; with
// updates from several threads the order of updates, and so the last bits of the statistics,
// depends on scheduling.
class SharedRunningStats {
 public:
  explicit SharedRunningStats(size_t dim) : stats_(dim) {}

  size_t dim() const { return stats_.dim(); }
  // If `update`, first adds `sample`; then writes (sample - mean) / sqrt(variance + epsilon),
  // clipped to [-clip, clip], into `out` (dim() floats). Before any sample it writes the
  // clipped sample unchanged.
  void normalize(std::span<const float> sample, bool update, double epsilon, double clip,
                 std::span<float> out);

  RunningStats snapshot() const;
  // Replaces the statistics; throws std::invalid_argument when the dimension differs.
  void restore(const RunningStats& stats);
  std::vector<uint8_t> save() const { return snapshot().save(); }
  void load(std::span<const uint8_t> bytes) { restore(RunningStats::load(bytes)); }

 private:
  mutable std::mutex mutex_;
  RunningStats stats_;
};

}  // namespace rl
