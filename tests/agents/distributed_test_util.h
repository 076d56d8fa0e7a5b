// Two ranks of a loopback process group as two threads of the test process.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "agents/distributed/gloo_group.h"
#include "agents/distributed/launch.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl::test {

// Runs `body(group)` on two ranks (threads) joined through a store on a free port, with the
// group's `gradient_dtype`; checks that neither threw.
inline void run_two_ranks(
    const std::function<void(distributed::GlooGroup&)>& body,
    distributed::GradientDtype gradient_dtype = distributed::GradientDtype::kFloat32) {
  distributed::StoreServer store;
  std::vector<std::thread> ranks;
  std::vector<std::string> errors(2);
  for (int rank = 0; rank < 2; ++rank) {
    ranks.emplace_back([&, rank] {
      try {
        const distributed::LaunchSpec spec =
            distributed::loopback_rank(rank, 2, store.port(), "test");
        const auto group = distributed::GlooGroup::connect(
            spec, {std::chrono::seconds(20), "same", gradient_dtype});
        body(*group);
      } catch (const std::exception& e) {
        errors[rank] = e.what();
      }
    });
  }
  for (auto& t : ranks) t.join();
  CHECK(errors[0] == "");
  CHECK(errors[1] == "");
}

// Checks that each rank's `results` equal `expected`, tensor by tensor, to float tolerance.
inline void check_ranks_match(std::map<int, std::vector<torch::Tensor>>& results,
                              const std::vector<torch::Tensor>& expected) {
  for (int rank = 0; rank < 2; ++rank) {
    REQUIRE(results[rank].size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      CAPTURE(rank);
      CAPTURE(i);
      CHECK(torch::allclose(results[rank][i], expected[i], 1e-5, 1e-6));
    }
  }
}

}  // namespace rl::test
