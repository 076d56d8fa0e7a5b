#include "core/running_stats.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace rl {
namespace {

constexpr char kMagic[4] = {'R', 'L', 'R', 'S'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t) +
                                sizeof(double);  // magic, version, dim, count

template <typename T>
void write(std::vector<uint8_t>& out, size_t& offset, const T& value) {
  std::memcpy(out.data() + offset, &value, sizeof(T));
  offset += sizeof(T);
}

template <typename T>
T read(std::span<const uint8_t> bytes, size_t& offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  offset += sizeof(T);
  return value;
}

void fail_load(const std::string& why) {
  throw std::invalid_argument("RunningStats::load: " + why);
}

}  // namespace

RunningStats::RunningStats(size_t dim) : mean_(dim, 0.0), m2_(dim, 0.0) {}

RunningStats RunningStats::from_moments(double count, std::vector<double> mean,
                                        std::vector<double> m2) {
  if (mean.size() != m2.size())
    throw std::invalid_argument("RunningStats::from_moments: " + std::to_string(mean.size()) +
                                " means but " + std::to_string(m2.size()) + " m2 values");
  RunningStats stats;
  stats.count_ = count;
  stats.mean_ = std::move(mean);
  stats.m2_ = std::move(m2);
  return stats;
}

void RunningStats::add(std::span<const float> sample) {
  if (sample.size() != dim())
    throw std::invalid_argument("RunningStats::add: sample has " + std::to_string(sample.size()) +
                                " values, expected " + std::to_string(dim()));
  for (size_t i = 0; i < sample.size(); ++i)
    if (!std::isfinite(sample[i]))
      throw std::invalid_argument("RunningStats::add: element " + std::to_string(i) +
                                  " is not finite (" + std::to_string(sample[i]) + ")");
  count_ += 1.0;
  for (size_t i = 0; i < sample.size(); ++i) {
    const double delta = sample[i] - mean_[i];
    mean_[i] += delta / count_;
    m2_[i] += delta * (sample[i] - mean_[i]);
  }
}

void RunningStats::merge(const RunningStats& other) {
  if (other.dim() != dim())
    throw std::invalid_argument("RunningStats::merge: dimension " + std::to_string(other.dim()) +
                                " differs from " + std::to_string(dim()));
  if (other.count_ == 0.0) return;
  const double total = count_ + other.count_;
  for (size_t i = 0; i < dim(); ++i) {
    const double delta = other.mean_[i] - mean_[i];
    mean_[i] += delta * other.count_ / total;
    m2_[i] += other.m2_[i] + delta * delta * count_ * other.count_ / total;
  }
  count_ = total;
}

std::vector<uint8_t> RunningStats::save() const {
  std::vector<uint8_t> out(kHeaderBytes + 2 * dim() * sizeof(double));
  size_t offset = 0;
  write(out, offset, kMagic);
  write(out, offset, kVersion);
  write(out, offset, static_cast<uint64_t>(dim()));
  write(out, offset, count_);
  for (double m : mean_) write(out, offset, m);
  for (double m2 : m2_) write(out, offset, m2);
  return out;
}

RunningStats RunningStats::load(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes)
    fail_load("got " + std::to_string(bytes.size()) + " bytes, fewer than the " +
              std::to_string(kHeaderBytes) + "-byte header");
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    fail_load("bad magic (not running statistics)");
  size_t offset = sizeof(kMagic);
  const auto version = read<uint32_t>(bytes, offset);
  if (version != kVersion)
    fail_load("unsupported version " + std::to_string(version) + " (expected " +
              std::to_string(kVersion) + ")");
  const auto dim = read<uint64_t>(bytes, offset);
  const auto count = read<double>(bytes, offset);
  const size_t body = bytes.size() - kHeaderBytes;
  if (dim > body / (2 * sizeof(double)) || body != dim * 2 * sizeof(double))
    fail_load("dimension " + std::to_string(dim) + " needs " + std::to_string(kHeaderBytes) +
              " + 16 * dim bytes, got " + std::to_string(bytes.size()));
  if (!std::isfinite(count) || count < 0.0) fail_load("count is negative or not finite");
  RunningStats stats(dim);
  stats.count_ = count;
  for (auto& m : stats.mean_) m = read<double>(bytes, offset);
  for (auto& m2 : stats.m2_) m2 = read<double>(bytes, offset);
  for (size_t i = 0; i < dim; ++i) {
    if (!std::isfinite(stats.mean_[i]))
      fail_load("mean of element " + std::to_string(i) + " is not finite");
    if (!std::isfinite(stats.m2_[i]) || stats.m2_[i] < 0.0)
      fail_load("variance of element " + std::to_string(i) + " is negative or not finite");
  }
  return stats;
}

void SharedRunningStats::normalize(std::span<const float> sample, bool update, double epsilon,
                                   double clip, std::span<float> out) {
  std::lock_guard lock(mutex_);
  if (update) stats_.add(sample);
  if (out.size() != sample.size() || sample.size() != stats_.dim())
    throw std::invalid_argument(
        "SharedRunningStats::normalize: sizes " + std::to_string(sample.size()) + " -> " +
        std::to_string(out.size()) + " do not match dimension " + std::to_string(stats_.dim()));
  const bool empty = stats_.count() == 0.0;
  for (size_t i = 0; i < sample.size(); ++i) {
    const double z =
        empty ? sample[i] : (sample[i] - stats_.mean(i)) / std::sqrt(stats_.variance(i) + epsilon);
    out[i] = static_cast<float>(std::clamp(z, -clip, clip));
  }
}

RunningStats SharedRunningStats::snapshot() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void SharedRunningStats::restore(const RunningStats& stats) {
  std::lock_guard lock(mutex_);
  if (stats.dim() != stats_.dim())
    throw std::invalid_argument("SharedRunningStats::restore: dimension " +
                                std::to_string(stats.dim()) + " differs from " +
                                std::to_string(stats_.dim()));
  stats_ = stats;
}

}  // namespace rl
