// Small pieces the agents share: optimizers by name, Polyak averaging, and
// checkpoint entries for byte blobs, torch generators and module/optimizer pairs.
#pragma once

#include <ATen/core/Generator.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "agents/common/agent_settings.h"

namespace rl {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> parameters,
                                                        const OptimizerSettings& settings);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

// target = (1 - tau) * target + tau * source, parameter by parameter (tau = 1 copies).
void polyak_update(torch::nn::Module& source, torch::nn::Module& target, double tau);

void write_bytes(torch::serialize::OutputArchive& archive, const std::string& key,
                 std::span<const uint8_t> bytes);
std::vector<uint8_t> read_bytes(torch::serialize::InputArchive& archive, const std::string& key);
void write_generator(torch::serialize::OutputArchive& archive, const std::string& key,
                     const at::Generator& generator);
void read_generator(torch::serialize::InputArchive& archive, const std::string& key,
                    at::Generator& generator);

// Saves a module under `key` (its parameters and buffers).
void write_module(torch::serialize::OutputArchive& archive, const std::string& key,
                  const torch::nn::Module& module);
// Loads a module saved by write_module; throws std::runtime_error naming `key` when the entry is
// missing or its parameter shapes differ from the module's.
void read_module(torch::serialize::InputArchive& archive, const std::string& key,
                 torch::nn::Module& module);
void write_optimizer(torch::serialize::OutputArchive& archive, const std::string& key,
                     const torch::optim::Optimizer& optimizer);
void read_optimizer(torch::serialize::InputArchive& archive, const std::string& key,
                    torch::optim::Optimizer& optimizer);

}  // namespace rl
