// Advantage normalization pooled over two ranks (threads of this process on loopback Gloo):
// the statistics of every minibatch of an epoch pooled in one all-reduce equal those of the
// union of the ranks' minibatches, and the group counts what its collectives cost.
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <numeric>
#include <vector>

#include "agents/distributed/advantage_moments.h"
#include "agents/distributed/gloo_group.h"
#include "distributed_test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl::distributed {
namespace {

using test::run_two_ranks;

constexpr int64_t kRows = 12, kPerMinibatch = 4;

std::vector<float> rank_advantages(int rank) {
  std::vector<float> a(kRows);
  for (int64_t i = 0; i < kRows; ++i) a[i] = std::sin(1.7f * i + 3.1f * rank) * (2 + rank);
  return a;
}

std::vector<int64_t> rank_order(int rank) {
  std::vector<int64_t> order(kRows);
  std::iota(order.begin(), order.end(), 0);
  std::rotate(order.begin(), order.begin() + 5 * rank + 1, order.end());
  return order;
}

std::vector<float> gather(const std::vector<float>& a, const std::vector<int64_t>& order,
                          int64_t k) {
  std::vector<float> rows;
  for (int64_t i = k * kPerMinibatch; i < (k + 1) * kPerMinibatch; ++i) rows.push_back(a[order[i]]);
  return rows;
}

TEST_CASE(
    "distributed: an epoch's pooled advantage statistics equal the union's, minibatch by "
    "minibatch") {
  // One slot per rank, filled by the rank's thread (std::map would insert concurrently).
  std::array<std::vector<std::vector<float>>, 2> normalized;
  std::array<int64_t, 2> collectives{};
  std::array<bool, 2> exhausted{};
  run_two_ranks([&](GlooGroup& group) {
    const int rank = group.rank();
    const std::vector<float> a = rank_advantages(rank);
    const std::vector<int64_t> order = rank_order(rank);
    const int64_t before = group.traffic().collectives;
    EpochAdvantageMoments moments;
    moments.pool(group, a.data(), order.data(), kRows, kPerMinibatch);
    collectives[rank] = group.traffic().collectives - before;
    for (int64_t k = 0; k < kRows / kPerMinibatch; ++k) {
      std::vector<float> rows = gather(a, order, k);
      REQUIRE(moments.normalize_next(rows));
      normalized[rank].push_back(rows);
    }
    std::vector<float> extra = gather(a, order, 0);
    exhausted[rank] = !moments.normalize_next(extra);
  });
  CHECK(collectives[0] == 1);  // One all-reduce for the whole epoch.
  CHECK(exhausted[0]);
  CHECK(exhausted[1]);
  for (int64_t k = 0; k < kRows / kPerMinibatch; ++k) {
    std::vector<float> both = gather(rank_advantages(0), rank_order(0), k);
    const std::vector<float> other = gather(rank_advantages(1), rank_order(1), k);
    both.insert(both.end(), other.begin(), other.end());
    const torch::Tensor t = torch::tensor(both);
    const torch::Tensor expected = (t - t.mean()) / (t.std() + 1e-8);
    for (int rank = 0; rank < 2; ++rank) {
      CAPTURE(k);
      CAPTURE(rank);
      const torch::Tensor got = torch::tensor(normalized[rank][k]);
      CHECK(torch::allclose(
          got, expected.slice(0, rank * kPerMinibatch, (rank + 1) * kPerMinibatch), 1e-5, 1e-6));
    }
  }
}

TEST_CASE("distributed: the group counts its collectives, their bytes and time") {
  std::array<GlooGroup::Traffic, 2> traffic{};
  run_two_ranks([&](GlooGroup& group) {
    const GlooGroup::Traffic start = group.traffic();
    double values[4] = {1, 2, 3, 4};
    group.sum(values);
    torch::nn::Linear net(3, 2);
    net->forward(torch::ones({1, 3})).sum().backward();
    group.average_gradients(net->parameters());
    GlooGroup::Traffic t = group.traffic();
    t.collectives -= start.collectives;
    t.bytes -= start.bytes;
    traffic[group.rank()] = t;
  });
  for (int rank = 0; rank < 2; ++rank) {
    CHECK(traffic[rank].collectives == 2);
    CHECK(traffic[rank].gradient_reduces == 1);
    CHECK(traffic[rank].bytes == 4 * 8 + (6 + 2) * 4);
    CHECK(traffic[rank].seconds >= traffic[rank].gradient_seconds);
  }
  CHECK(describe(traffic[0], 10.0).find("2 collectives (1 gradient all-reduces)") !=
        std::string::npos);
}

}  // namespace
}  // namespace rl::distributed
