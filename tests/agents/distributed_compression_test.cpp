// Gradients summed in 16 bits (distributed.gradient_dtype, agents/distributed/gradient_dtype.h):
// every rank gets the same bits, the average is that of the gradients rounded to 16 bits
// (bfloat16's 8 bits of mantissa, float16's 11), the weighted average keeps its weights exact,
// and the calling-thread ring and ProcessGroupGloo agree.
#include <torch/torch.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agents/distributed/gloo_group.h"
#include "agents/distributed/gradient_dtype.h"
#include "agents/distributed/launch.h"
#include "core/config.h"
#include "distributed_test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl::distributed {
namespace {

using test::run_two_ranks;

// Each rank's gradients: two parameters whose gradients are views of one flat buffer (as the
// engine's) or tensors of their own (as LibTorch's), filled from the rank's seed.
struct RankGradients {
  torch::Tensor flat;  // Undefined when the gradients are separate tensors.
  std::vector<torch::Tensor> parameters;

  RankGradients(int rank, bool flat_buffer) {
    const torch::Tensor values = torch::randn(
        {1000}, torch::Generator(at::detail::createCPUGenerator(static_cast<uint64_t>(rank + 7))));
    parameters = {torch::zeros({600}), torch::zeros({20, 20})};
    if (flat_buffer) {
      flat = values.clone();
      parameters[0].mutable_grad() = flat.narrow(0, 0, 600);
      parameters[1].mutable_grad() = flat.narrow(0, 600, 400).view({20, 20});
    } else {
      parameters[0].mutable_grad() = values.narrow(0, 0, 600).clone();
      parameters[1].mutable_grad() = values.narrow(0, 600, 400).clone().view({20, 20});
    }
  }
  torch::Tensor gradient() const {
    return torch::cat({parameters[0].grad().reshape({-1}), parameters[1].grad().reshape({-1})});
  }
};

// The averaged gradients of both ranks with `dtype` (and `weights`, when given).
std::vector<torch::Tensor> averaged(GradientDtype dtype, bool flat_buffer,
                                    const std::vector<double>& weights = {}) {
  std::vector<torch::Tensor> results(2);
  std::mutex mutex;
  run_two_ranks(
      [&](GlooGroup& group) {
        RankGradients gradients(group.rank(), flat_buffer);
        for (int repeat = 0; repeat < 2; ++repeat) {  // The second call reuses the buffers.
          if (repeat == 1) gradients = RankGradients(group.rank(), flat_buffer);
          if (weights.empty()) {
            group.average_gradients(gradients.parameters);
          } else {
            group.average_gradients(gradients.parameters, weights[group.rank()]);
          }
        }
        std::lock_guard<std::mutex> lock(mutex);
        results[group.rank()] = gradients.gradient();
      },
      dtype);
  return results;
}

// What the average should be: the ranks' gradients (times their weights) rounded to `type`,
// summed and rounded again, widened, divided by the total weight.
torch::Tensor expected_average(at::ScalarType type, const std::vector<double>& weights) {
  torch::Tensor sum;
  double total = 0;
  for (int rank = 0; rank < 2; ++rank) {
    const double weight = weights.empty() ? 1.0 : weights[rank];
    const torch::Tensor term = (RankGradients(rank, true).flat * weight).to(type);
    sum = rank == 0 ? term : (sum.to(torch::kFloat) + term.to(torch::kFloat)).to(type);
    total += weight;
  }
  return sum.to(torch::kFloat) / total;
}

TEST_CASE("distributed compression: 16-bit sums give every rank the rounded average") {
  for (const auto& [dtype, type] : {std::pair{GradientDtype::kBfloat16, torch::kBFloat16},
                                    std::pair{GradientDtype::kFloat16, torch::kHalf}}) {
    for (const bool flat_buffer : {true, false}) {
      CAPTURE(gradient_dtype_name(dtype));
      CAPTURE(flat_buffer);
      const std::vector<torch::Tensor> results = averaged(dtype, flat_buffer);
      CHECK(torch::equal(results[0], results[1]));
      CHECK(torch::equal(results[0], expected_average(type, {})));
      // Rounded, so not the float32 average, but close to it.
      const torch::Tensor exact = averaged(GradientDtype::kFloat32, flat_buffer)[0];
      CHECK_FALSE(torch::equal(results[0], exact));
      const double tolerance = dtype == GradientDtype::kBfloat16 ? 1e-2 : 2e-3;
      CHECK(torch::allclose(results[0], exact, tolerance, tolerance));
    }
  }
}

TEST_CASE("distributed compression: weighted averages keep the weights exact") {
  const std::vector<double> weights = {257.0, 130.0};  // 257 and 387 are not bfloat16 values.
  const std::vector<torch::Tensor> results = averaged(GradientDtype::kBfloat16, true, weights);
  CHECK(torch::equal(results[0], results[1]));
  CHECK(torch::equal(results[0], expected_average(torch::kBFloat16, weights)));
}

TEST_CASE("distributed compression: ProcessGroupGloo's float16 sums equal the calling thread's") {
  const std::vector<torch::Tensor> direct = averaged(GradientDtype::kFloat16, true);
  ::setenv("RLCADE_COLLECTIVES", "process_group", 1);
  const std::vector<torch::Tensor> process_group = averaged(GradientDtype::kFloat16, true);
  ::unsetenv("RLCADE_COLLECTIVES");
  CHECK(torch::equal(process_group[0], process_group[1]));
  CHECK(torch::equal(direct[0], process_group[0]));
}

TEST_CASE("distributed compression: bfloat16 without the calling-thread sums is refused") {
  ::setenv("RLCADE_COLLECTIVES", "process_group", 1);
  StoreServer store;
  std::vector<std::string> errors(2);
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      try {
        GlooGroup::connect(loopback_rank(rank, 2, store.port(), "test"),
                           {std::chrono::seconds(20), "same", GradientDtype::kBfloat16});
      } catch (const ConfigError& e) {
        errors[rank] = e.what();
      }
    });
  }
  for (auto& t : ranks) t.join();
  ::unsetenv("RLCADE_COLLECTIVES");
  for (const std::string& error : errors) {
    CHECK(error.find("distributed.gradient_dtype: bfloat16") != std::string::npos);
    CHECK(error.find("use float16 or float32") != std::string::npos);
  }
}

TEST_CASE("distributed compression: dtype names parse, others are refused with the choices") {
  CHECK(parse_gradient_dtype("float32") == GradientDtype::kFloat32);
  CHECK(parse_gradient_dtype("bfloat16") == GradientDtype::kBfloat16);
  CHECK(gradient_dtype_name(GradientDtype::kFloat16) == "float16");
  CHECK_THROWS_WITH_AS(parse_gradient_dtype("fp8"),
                       doctest::Contains("'fp8' is not one of float32, bfloat16, float16"),
                       std::invalid_argument);
}

}  // namespace
}  // namespace rl::distributed
