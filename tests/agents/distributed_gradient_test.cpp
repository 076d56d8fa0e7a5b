// Data-parallel training over c10d/Gloo on loopback, two ranks as two threads of this process:
// averaged gradients of two half-batches equal the gradient of the whole batch (LibTorch
// optimizer and FlatOptimizer, whose gradients are views into one flat buffer), sums and
// broadcasts reach every rank, and the launch parsing reads torchrun's and SLURM's variables.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <thread>

#include "agents/common/nn/optimizer.h"
#include "agents/distributed/gloo_group.h"
#include "agents/distributed/launch.h"
#include "distributed_test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl::distributed {
namespace {

using test::run_two_ranks;

torch::nn::Sequential small_net(uint64_t seed) {
  torch::manual_seed(seed);
  return torch::nn::Sequential(torch::nn::Linear(3, 8), torch::nn::Tanh(), torch::nn::Linear(8, 2));
}

const torch::Tensor& inputs() {
  static const torch::Tensor x = (torch::manual_seed(5), torch::randn({16, 3}));
  return x;
}
const torch::Tensor& targets() {
  static const torch::Tensor y = (torch::manual_seed(6), torch::randn({16, 2}));
  return y;
}

// Adam through FlatOptimizer (gradients in one flat buffer) or LibTorch's: one step of it.
class Learner {
 public:
  Learner(torch::nn::Sequential net, bool flat) : net_(net) {
    if (flat) {
      FlatOptimizerOptions options;
      options.kind = FlatOptimizerOptions::Kind::kAdam;
      options.lr = 0.01;
      flat_ = std::make_unique<FlatOptimizer>(*net, options);
    } else {
      adam_ =
          std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(0.01));
    }
  }
  // Gradients of the MSE on (x, y), then `sync` (may be empty) before clipping and the step.
  void step(const torch::Tensor& x, const torch::Tensor& y, const std::function<void()>& sync) {
    for (auto& p : net_->parameters()) {
      if (p.grad().defined()) p.mutable_grad().zero_();
    }
    torch::mse_loss(net_->forward(x), y).backward();
    if (sync) sync();
    if (flat_) {
      flat_->step(0.5);
    } else {
      torch::nn::utils::clip_grad_norm_(net_->parameters(), 0.5);
      adam_->step();
    }
  }
  std::vector<torch::Tensor> parameters() const {
    std::vector<torch::Tensor> result;
    for (const auto& p : net_->parameters()) result.push_back(p.detach().clone());
    return result;
  }

 private:
  torch::nn::Sequential net_;
  std::unique_ptr<FlatOptimizer> flat_;
  std::unique_ptr<torch::optim::Adam> adam_;
};

constexpr int kSteps = 4;

// Parameters after kSteps steps on the whole batch (one process).
std::vector<torch::Tensor> whole_batch_parameters(bool flat) {
  Learner learner(small_net(3), flat);
  for (int step = 0; step < kSteps; ++step) learner.step(inputs(), targets(), nullptr);
  return learner.parameters();
}

// The same steps on two ranks, each on its half of the batch, gradients averaged.
void check_half_batches_match(bool flat) {
  const std::vector<torch::Tensor> expected = whole_batch_parameters(flat);
  std::map<int, std::vector<torch::Tensor>> results{{0, {}}, {1, {}}};  // No insert by threads.
  std::mutex mutex;
  // Different initial weights per rank: the broadcast makes them rank 0's (seed 3). Built
  // here, not in the rank threads: torch::manual_seed sets one generator for the process.
  const torch::nn::Sequential nets[2] = {small_net(3), small_net(99)};
  run_two_ranks([&](GlooGroup& group) {
    torch::nn::Sequential net = nets[group.rank()];
    group.broadcast(net->parameters(), 0);
    Learner learner(net, flat);
    const torch::Tensor x = inputs().narrow(0, 8 * group.rank(), 8);
    const torch::Tensor y = targets().narrow(0, 8 * group.rank(), 8);
    for (int step = 0; step < kSteps; ++step) {
      learner.step(x, y, [&] { group.average_gradients(net->parameters()); });
    }
    std::lock_guard<std::mutex> lock(mutex);
    results[group.rank()] = learner.parameters();
  });
  test::check_ranks_match(results, expected);
}

TEST_CASE("distributed: two ranks on half-batches match one rank on the whole batch (torch)") {
  check_half_batches_match(false);
}

TEST_CASE("distributed: two ranks on half-batches match one rank on the whole batch (flat)") {
  check_half_batches_match(true);
}

TEST_CASE("distributed: sum adds every rank's values") {
  std::vector<double> sums(2);
  run_two_ranks([&](GlooGroup& group) {
    double values[2] = {1.0 + group.rank(), 10.0 * group.rank()};
    group.sum(values);
    sums[group.rank()] = values[0] + 100 * values[1];
  });
  CHECK(sums[0] == 3.0 + 1000.0);
  CHECK(sums[1] == 3.0 + 1000.0);
}

TEST_CASE("distributed: ranks with different config hashes are refused, naming the rank") {
  StoreServer store;
  std::vector<std::string> errors(2);
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      LaunchSpec spec;
      spec.rank = rank;
      spec.world_size = 2;
      spec.master_port = store.port();
      spec.store_hosted_elsewhere = true;
      try {
        GlooGroup::connect(spec, {std::chrono::seconds(20), rank == 0 ? "a" : "b"});
      } catch (const std::exception& e) {
        errors[rank] = e.what();
      }
    });
  }
  for (auto& t : ranks) t.join();
  CHECK(errors[0].find("config of rank 1 differs from rank 0's") != std::string::npos);
  CHECK(errors[1].find("config of rank 1 differs from rank 0's") != std::string::npos);
}

TEST_CASE("distributed: a rank that never joins is named after the timeout") {
  StoreServer store;
  LaunchSpec spec;
  spec.world_size = 3;
  spec.master_port = store.port();
  spec.store_hosted_elsewhere = true;
  std::string error;
  try {
    GlooGroup::connect(spec, {std::chrono::milliseconds(1500), "x"});
  } catch (const DistributedError& e) {
    error = e.what();
  }
  CHECK(error.find("ranks 1, 2 of 3 did not join") != std::string::npos);
}

TEST_CASE("distributed: launch from torchrun's and SLURM's variables") {
  std::map<std::string, std::string> vars = {
      {"RANK", "1"},           {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "10.0.0.2"},
      {"MASTER_PORT", "1234"}, {"LOCAL_RANK", "1"}, {"GLOO_SOCKET_IFNAME", "eth1"}};
  const auto get = [&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
  auto spec = launch_from_environment(get);
  REQUIRE(spec);
  CHECK(spec->rank == 1);
  CHECK(spec->world_size == 4);
  CHECK(spec->master_host == "10.0.0.2");
  CHECK(spec->master_port == 1234);
  CHECK(spec->interface == "eth1");

  vars = {{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "8"}, {"SLURM_JOB_NODELIST", "node[07-09],x"}};
  spec = launch_from_environment(get);
  REQUIRE(spec);
  CHECK(spec->rank == 3);
  CHECK(spec->world_size == 8);
  CHECK(spec->master_host == "node07");
  CHECK(spec->master_port == kDefaultMasterPort);

  vars = {{"RANK", "4"}, {"WORLD_SIZE", "4"}};
  CHECK_THROWS_WITH_AS(launch_from_environment(get), doctest::Contains("rank 4 is outside [0, 3]"),
                       std::invalid_argument);
  vars = {{"RANK", "x"}, {"WORLD_SIZE", "4"}};
  CHECK_THROWS_WITH_AS(launch_from_environment(get), doctest::Contains("RANK='x'"),
                       std::invalid_argument);
  vars = {};
  CHECK_FALSE(launch_from_environment(get));
  CHECK(first_slurm_host("gpu1,gpu2") == "gpu1");
  CHECK(parse_host_port("h:77", "--master") == std::pair<std::string, int>("h", 77));
  CHECK_THROWS_WITH_AS(parse_host_port("h:0", "--master"), doctest::Contains("[1, 65535]"),
                       std::invalid_argument);
}

// Rank 1 joins but is 6 s late to a sum, with the sums run as RLCADE_COLLECTIVES=`mode` says.
void check_silent_rank_times_out(const char* mode) {
  CAPTURE(mode);
  ::setenv("RLCADE_COLLECTIVES", mode, 1);
  StoreServer store;
  std::vector<std::string> errors(2);
  std::vector<double> waited(2);
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      const auto start = std::chrono::steady_clock::now();
      try {
        const auto group = GlooGroup::connect(loopback_rank(rank, 2, store.port(), "test"),
                                              {std::chrono::milliseconds(1500), "same"});
        // Rank 1 stays connected (its heartbeat goes on) but is late to the sum.
        if (rank == 1) std::this_thread::sleep_for(std::chrono::seconds(6));
        double values[1] = {1.0};
        group->sum(values);
      } catch (const std::exception& e) {
        errors[rank] = e.what();
      }
      waited[rank] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    });
  }
  for (auto& t : ranks) t.join();
  ::unsetenv("RLCADE_COLLECTIVES");
  CHECK(errors[0].find("rank 0: an all-reduce of statistics failed: the other ranks are alive but "
                       "did not answer within 1.5 s") != std::string::npos);
  CHECK(waited[0] < 5.5);  // The timeout and the heartbeat check, not rank 1's sleep.
  CHECK(errors[1].find("rank 1: an all-reduce of statistics failed") != std::string::npos);
}

TEST_CASE("distributed: a rank alive but silent ends the other's sum after the timeout") {
  check_silent_rank_times_out("process_group");
  check_silent_rank_times_out("direct");
}

TEST_CASE("distributed: sums in the calling thread equal ProcessGroupGloo's") {
  const auto sums_with = [](const char* mode) {
    ::setenv("RLCADE_COLLECTIVES", mode, 1);
    std::vector<std::vector<double>> sums(2);
    run_two_ranks([&](GlooGroup& group) {
      std::vector<double> values = {0.25 + group.rank(), -3.0 * group.rank(), 1e-9};
      for (int repeat = 0; repeat < 3; ++repeat) group.sum(values);     // The rings are reused.
      std::vector<double> small = {static_cast<double>(group.rank())};  // Another size.
      group.sum(small);
      values.push_back(small[0]);
      sums[group.rank()] = values;
    });
    ::unsetenv("RLCADE_COLLECTIVES");
    CHECK(sums[0] == sums[1]);
    return sums[0];
  };
  const std::vector<double> direct = sums_with("direct");
  CHECK(direct == std::vector<double>{6.0, -12.0, 8e-9, 1.0});
  CHECK(direct == sums_with("process_group"));
  CHECK(direct == sums_with("direct_busy_poll"));
}

// The parameters of small_net (2 linear layers) and their number of overlapped averages, after
// kSteps flat-optimizer steps on two ranks, each on its half of the batch, whose sync calls
// gradients_ready(the first layer's bias and the second's weight: the middle of the flat
// buffer, so the calling thread sums a range on each side) before average_gradients, with the
// sums run as RLCADE_COLLECTIVES=`mode` says.
std::map<int, std::vector<torch::Tensor>> half_batches_with_overlap(const char* mode,
                                                                    int64_t& overlapped) {
  ::setenv("RLCADE_COLLECTIVES", mode, 1);
  std::map<int, std::vector<torch::Tensor>> results{{0, {}}, {1, {}}};
  std::mutex mutex;
  const torch::nn::Sequential nets[2] = {small_net(3), small_net(99)};
  run_two_ranks([&](GlooGroup& group) {
    torch::nn::Sequential net = nets[group.rank()];
    group.broadcast(net->parameters(), 0);
    Learner learner(net, /*flat=*/true);
    const std::vector<torch::Tensor> all = net->parameters();
    const std::vector<torch::Tensor> middle = {all[2], all[1]};  // Any order.
    const torch::Tensor x = inputs().narrow(0, 8 * group.rank(), 8);
    const torch::Tensor y = targets().narrow(0, 8 * group.rank(), 8);
    for (int step = 0; step < kSteps; ++step) {
      learner.step(x, y, [&] {
        group.gradients_ready(middle);
        group.average_gradients(all);
      });
    }
    std::lock_guard<std::mutex> lock(mutex);
    results[group.rank()] = learner.parameters();
    if (group.rank() == 0) overlapped = group.traffic().overlapped_reduces;
  });
  ::unsetenv("RLCADE_COLLECTIVES");
  return results;
}

TEST_CASE("distributed: overlapped gradient sums (direct_overlap) equal the calling thread's") {
  int64_t overlapped = -1;
  std::map<int, std::vector<torch::Tensor>> results =
      half_batches_with_overlap("direct_overlap", overlapped);
  CHECK(overlapped == kSteps);
  test::check_ranks_match(results, whole_batch_parameters(/*flat=*/true));
  int64_t not_overlapped = -1;
  const std::map<int, std::vector<torch::Tensor>> direct =
      half_batches_with_overlap("direct", not_overlapped);
  CHECK(not_overlapped == 0);  // gradients_ready is ignored.
  for (int rank = 0; rank < 2; ++rank) {
    for (size_t i = 0; i < direct.at(rank).size(); ++i) {
      CAPTURE(rank);
      CAPTURE(i);
      CHECK(torch::equal(results[rank][i], direct.at(rank)[i]));  // Bit for bit.
    }
  }
}

// Rank 0 starts an overlapped gradient average; rank 1 either leaves the group at once (its
// connections close) or is 6 s late. Returns rank 0's error and how long it took.
std::pair<std::string, double> overlapped_average_against(bool rank1_leaves) {
  ::setenv("RLCADE_COLLECTIVES", "direct_overlap", 1);
  StoreServer store;
  std::string error;
  double waited = 0;
  torch::nn::Sequential nets[2] = {small_net(3), small_net(4)};  // Not in the threads.
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      FlatOptimizer optimizer(*nets[rank], FlatOptimizerOptions{});  // Gradients: one buffer.
      const std::vector<torch::Tensor> all = nets[rank]->parameters();
      try {
        const auto group = GlooGroup::connect(loopback_rank(rank, 2, store.port(), "test"),
                                              {std::chrono::milliseconds(1500), "same"});
        if (rank == 1) {
          if (rank1_leaves) return;
          std::this_thread::sleep_for(std::chrono::seconds(6));
        }
        const auto start = std::chrono::steady_clock::now();
        try {
          group->gradients_ready({all[2], all[3]});
          group->average_gradients(all);
        } catch (const std::exception& e) {
          if (rank == 0) error = e.what();
        }
        if (rank == 0) {
          waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        }
      } catch (const std::exception&) {
      }
    });
  }
  for (auto& t : ranks) t.join();
  ::unsetenv("RLCADE_COLLECTIVES");
  return {error, waited};
}

TEST_CASE("distributed: an overlapped gradient sum fails, never hangs, naming the missing rank") {
  const auto [left_error, left_waited] = overlapped_average_against(/*rank1_leaves=*/true);
  CHECK(left_error.find("rank 0: the gradient all-reduce failed: rank 1 of 2 stopped") !=
        std::string::npos);
  CHECK(left_waited < 5.5);
  const auto [late_error, late_waited] = overlapped_average_against(/*rank1_leaves=*/false);
  CHECK(late_error.find("rank 0: the gradient all-reduce failed: the other ranks are alive but "
                        "did not answer within 1.5 s") != std::string::npos);
  CHECK(late_waited < 5.5);  // The timeout and the heartbeat check, not rank 1's sleep.
}

TEST_CASE("distributed: an unknown RLCADE_COLLECTIVES is refused, naming the variable") {
  ::setenv("RLCADE_COLLECTIVES", "threads", 1);
  std::string error;
  try {
    GlooGroup::connect(LaunchSpec{}, {std::chrono::seconds(5), "x"});
  } catch (const DistributedError& e) {
    error = e.what();
  }
  ::unsetenv("RLCADE_COLLECTIVES");
  CHECK(error.find("RLCADE_COLLECTIVES is 'threads'") != std::string::npos);
}

}  // namespace
}  // namespace rl::distributed
