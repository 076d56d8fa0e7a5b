#include "agents/common/agent_util.h"

#include <torch/optim/adam.h>
#include <torch/optim/rmsprop.h>

#include <cstring>
#include <stdexcept>

namespace rl {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> parameters,
                                                        const OptimizerSettings& s) {
  if (s.kind == "adam") {
    return std::make_unique<torch::optim::Adam>(std::move(parameters),
                                                torch::optim::AdamOptions(s.lr).eps(s.adam_eps));
  }
  if (s.kind == "rmsprop") {
    return std::make_unique<torch::optim::RMSprop>(
        std::move(parameters),
        torch::optim::RMSpropOptions(s.lr).alpha(s.rmsprop_alpha).eps(s.rmsprop_eps));
  }
  throw std::invalid_argument("unknown optimizer '" + s.kind + "' (adam, rmsprop)");
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

void polyak_update(torch::nn::Module& source, torch::nn::Module& target, double tau) {
  torch::NoGradGuard no_grad;
  const auto from = source.parameters();
  auto to = target.parameters();
  for (size_t i = 0; i < from.size(); ++i) {
    if (tau >= 1.0) {
      to[i].copy_(from[i]);
    } else {
      to[i].mul_(1.0 - tau).add_(from[i], tau);
    }
  }
}

void write_bytes(torch::serialize::OutputArchive& archive, const std::string& key,
                 std::span<const uint8_t> bytes) {
  torch::Tensor tensor = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  if (!bytes.empty()) std::memcpy(tensor.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  archive.write(key, tensor);
}

std::vector<uint8_t> read_bytes(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor tensor;
  if (!archive.try_read(key, tensor))
    throw std::runtime_error("checkpoint has no entry '" + key + "'");
  if (tensor.scalar_type() != torch::kUInt8 || tensor.dim() != 1) {
    throw std::runtime_error("checkpoint entry '" + key + "' is not a byte array");
  }
  tensor = tensor.contiguous();
  const uint8_t* data = tensor.data_ptr<uint8_t>();
  return std::vector<uint8_t>(data, data + tensor.numel());
}

void write_generator(torch::serialize::OutputArchive& archive, const std::string& key,
                     const at::Generator& generator) {
  archive.write(key, generator.get_state());
}

void read_generator(torch::serialize::InputArchive& archive, const std::string& key,
                    at::Generator& generator) {
  torch::Tensor state;
  if (!archive.try_read(key, state))
    throw std::runtime_error("checkpoint has no entry '" + key + "'");
  try {
    generator.set_state(state);
  } catch (const c10::Error& e) {
    throw std::runtime_error("checkpoint entry '" + key + "' is not a generator state");
  }
}

void write_module(torch::serialize::OutputArchive& archive, const std::string& key,
                  const torch::nn::Module& module) {
  torch::serialize::OutputArchive nested;
  module.save(nested);
  archive.write(key, nested);
}

void read_module(torch::serialize::InputArchive& archive, const std::string& key,
                 torch::nn::Module& module) {
  std::vector<std::vector<int64_t>> expected;
  for (const auto& p : module.parameters()) expected.push_back(p.sizes().vec());
  torch::serialize::InputArchive nested;
  if (!archive.try_read(key, nested))
    throw std::runtime_error("checkpoint has no entry '" + key + "'");
  try {
    module.load(nested);
  } catch (const c10::Error& e) {
    throw std::runtime_error("checkpoint entry '" + key +
                             "' does not fit the network: " + e.what_without_backtrace());
  }
  std::vector<std::vector<int64_t>> loaded;
  for (const auto& p : module.parameters()) loaded.push_back(p.sizes().vec());
  if (loaded != expected) {
    throw std::runtime_error("checkpoint entry '" + key + "' holds weights of different shapes");
  }
}

void write_optimizer(torch::serialize::OutputArchive& archive, const std::string& key,
                     const torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive nested;
  optimizer.save(nested);
  archive.write(key, nested);
}

void read_optimizer(torch::serialize::InputArchive& archive, const std::string& key,
                    torch::optim::Optimizer& optimizer) {
  torch::serialize::InputArchive nested;
  if (!archive.try_read(key, nested))
    throw std::runtime_error("checkpoint has no entry '" + key + "'");
  try {
    optimizer.load(nested);
  } catch (const c10::Error& e) {
    throw std::runtime_error("checkpoint entry '" + key +
                             "' does not fit the optimizer: " + e.what_without_backtrace());
  }
}

}  // namespace rl
