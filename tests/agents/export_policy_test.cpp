// rl::Policy (agents/policy.h), the embedding API, on exported policies.
#include "torch_doctest.h"
// (torch_doctest.h first: see there.)
#include <torch/script.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "agents/export/policy_export.h"
#include "agents/policy.h"
#include "test_util.h"

namespace rl {
namespace {

const char kCartPoleDqn[] =
    "name: t\nseed: 4\nenv: {id: classic/cartpole-v1}\n"
    "agent: {type: dqn, hidden: [16], buffer_size: 100}\n"
    "train: {total_steps: 100}\n";

TEST_CASE("Policy: acts as the agent, one observation or a batch, with masks") {
  test::TempDir dir("policy_api");
  std::filesystem::create_directories(dir.path);
  Experiment experiment = test::experiment_from(kCartPoleDqn);
  const std::string path = (dir.path / "p.pt").string();
  save_policy(export_policy(experiment), path);
  Policy policy = Policy::load(path);
  CHECK(policy.env_id() == "classic/cartpole-v1");
  CHECK(policy.agent_type() == "dqn");
  CHECK(policy.action_space() == experiment.env_spec.action_space);
  CHECK(policy.observation_space().shape == experiment.env_spec.observation_space.shape);

  const std::vector<float> observations = {0.1f,  0.5f, -0.2f, 1.0f, -1.f, 0.3f, 0.05f, -2.f,
                                           0.02f, 0.f,  0.f,   0.f,  2.f,  -1.f, 0.2f,  0.4f};
  const auto bytes = std::as_bytes(std::span(observations));
  const std::span<const uint8_t> raw(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  std::vector<int64_t> expected(4), batch(4);
  experiment.agent->act(raw, 4, ActMode::kGreedy, {expected, {}});
  policy.act(raw, 4, batch, {});
  CHECK(batch == expected);
  for (int i = 0; i < 4; ++i) CHECK(policy.act(raw.subspan(i * 16, 16)).index == expected[i]);
  const std::vector<uint8_t> only_left = {1, 0};
  CHECK(policy.act(raw.subspan(0, 16), only_left).index == 0);
  const std::vector<uint8_t> only_right = {0, 1};
  CHECK(policy.act(raw.subspan(0, 16), only_right).index == 1);

  CHECK_THROWS_WITH_AS(policy.act(raw.subspan(0, 12)), doctest::Contains("16 bytes"),
                       std::invalid_argument);
  const std::vector<uint8_t> none_legal = {0, 0};
  CHECK_THROWS_AS(policy.act(raw.subspan(0, 16), none_legal), std::invalid_argument);
}

TEST_CASE("Policy: missing, corrupt and foreign files are refused naming the file") {
  test::TempDir dir("policy_bad");
  std::filesystem::create_directories(dir.path);
  const std::string missing = (dir.path / "missing.pt").string();
  CHECK_THROWS_WITH_AS(Policy::load(missing), doctest::Contains((missing + ": no such").c_str()),
                       PolicyLoadError);
  const std::string corrupt = (dir.path / "corrupt.pt").string();
  std::ofstream(corrupt) << "PK but not really";
  CHECK_THROWS_WITH_AS(Policy::load(corrupt),
                       doctest::Contains((corrupt + ": not a TorchScript policy file").c_str()),
                       PolicyLoadError);
  const std::string foreign = (dir.path / "foreign.pt").string();
  torch::jit::Module other("Foreign");
  other.define("def forward(self, x: Tensor) -> Tensor:\n    return x\n");
  other.save(foreign);
  CHECK_THROWS_WITH_AS(
      Policy::load(foreign),
      doctest::Contains((foreign + ": a TorchScript module, but not an rlcade policy").c_str()),
      PolicyLoadError);
}

}  // namespace
}  // namespace rl
