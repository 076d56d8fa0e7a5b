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

}  // namespace rl
