// Small helpers to store plain values (counters, strings, RNG state) in LibTorch archives.
// Readers throw std::runtime_error naming the missing or mistyped key.
#pragma once

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdint>
#include <string>

#include "core/rng.h"

namespace rl {

void write_int(torch::serialize::OutputArchive& archive, const std::string& key, int64_t value);
void write_double(torch::serialize::OutputArchive& archive, const std::string& key, double value);
void write_string(torch::serialize::OutputArchive& archive, const std::string& key,
                  const std::string& value);
void write_rng(torch::serialize::OutputArchive& archive, const std::string& key, const Rng& rng);

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key);
double read_double(torch::serialize::InputArchive& archive, const std::string& key);
std::string read_string(torch::serialize::InputArchive& archive, const std::string& key);
void read_rng(torch::serialize::InputArchive& archive, const std::string& key, Rng& rng);

// The network's signature (its architecture in words, e.g. "mlp 4-120-84-2") under "network",
// so that a checkpoint is not loaded into a different network.
void write_network_signature(torch::serialize::OutputArchive& archive,
                             const std::string& signature);
// Throws std::runtime_error when the checkpoint's signature is not `signature`, naming both.
void check_network_signature(torch::serialize::InputArchive& archive, const std::string& signature);

}  // namespace rl
