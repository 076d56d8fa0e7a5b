// MergedStats (agents/distributed/merged_stats.h) on two loopback ranks: after each merge both
// ranks hold the statistics of every observation either rank added, from an empty start and
// from a restored one, over several merges.
#include <map>
#include <mutex>
#include <vector>

#include "agents/distributed/merged_stats.h"
#include "core/rng.h"
#include "distributed_test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

constexpr size_t kDim = 3;

// Sample `index` of rank `rank`: different distributions per rank and per element.
std::vector<float> sample(int rank, int index, Rng& rng) {
  std::vector<float> values(kDim);
  for (size_t i = 0; i < kDim; ++i) {
    values[i] = static_cast<float>(rank * 5.0 + i + (1.0 + rank) * rng.normal() + index * 1e-3);
  }
  return values;
}

void check_same(const RunningStats& actual, const RunningStats& expected) {
  REQUIRE(actual.dim() == expected.dim());
  CHECK(actual.count() == expected.count());
  for (size_t i = 0; i < expected.dim(); ++i) {
    CAPTURE(i);
    CHECK(actual.mean(i) == doctest::Approx(expected.mean(i)).epsilon(1e-9));
    CHECK(actual.variance(i) == doctest::Approx(expected.variance(i)).epsilon(1e-9));
  }
}

void check_merges_pool_every_sample(const RunningStats& start) {
  // Rank r adds (10 + 7 r) * (round + 1) samples per round; `all` gets every sample.
  RunningStats all = start;
  std::map<int, std::vector<RunningStats>> results{{0, {}}, {1, {}}};  // [rank][round]
  std::vector<std::vector<std::vector<float>>> per_rank[2];            // [rank][round][sample]
  for (int rank = 0; rank < 2; ++rank) {
    Rng rng(40 + rank);
    for (int round = 0; round < 3; ++round) {
      per_rank[rank].emplace_back();
      for (int i = 0; i < (10 + 7 * rank) * (round + 1); ++i) {
        per_rank[rank][round].push_back(sample(rank, i, rng));
      }
    }
  }
  std::vector<RunningStats> expected;
  for (int round = 0; round < 3; ++round) {
    for (int rank = 0; rank < 2; ++rank) {
      for (const auto& s : per_rank[rank][round]) all.add(s);
    }
    expected.push_back(all);
  }
  std::mutex mutex;
  test::run_two_ranks([&](distributed::GlooGroup& group) {
    const int rank = group.rank();
    distributed::MergedStats merge(start);
    RunningStats own = start;
    std::vector<RunningStats> mine;
    for (int round = 0; round < 3; ++round) {
      for (const auto& s : per_rank[rank][round]) own.add(s);
      own = merge.merge(group, own);
      mine.push_back(own);
    }
    std::lock_guard<std::mutex> lock(mutex);
    results[rank] = mine;
  });
  for (int rank = 0; rank < 2; ++rank) {
    REQUIRE(results[rank].size() == 3);
    for (int round = 0; round < 3; ++round) {
      CAPTURE(rank);
      CAPTURE(round);
      check_same(results[rank][round], expected[round]);
    }
  }
}

TEST_CASE("distributed: merged statistics equal those of every rank's samples") {
  check_merges_pool_every_sample(RunningStats(kDim));
}

TEST_CASE("distributed: merged statistics keep a restored start once") {
  RunningStats start(kDim);
  Rng rng(9);
  for (int i = 0; i < 25; ++i) start.add(sample(3, i, rng));
  check_merges_pool_every_sample(start);
}

TEST_CASE("distributed: merged statistics refuse another dimension") {
  distributed::MergedStats merge(RunningStats(2));
  bool refused = false;
  test::run_two_ranks([&](distributed::GlooGroup& group) {
    if (group.rank() != 0) return;
    try {
      merge.merge(group, RunningStats(3));
    } catch (const std::invalid_argument& e) {
      refused = std::string(e.what()).find("dimension 3 differs from 2") != std::string::npos;
    }
  });
  CHECK(refused);
}

}  // namespace
}  // namespace rl
