#include "agents/archive_util.h"

#include <ATen/core/ivalue.h>
#include <torch/types.h>

#include <cstring>
#include <stdexcept>

namespace rl {

namespace {

c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  if (!archive.try_read(key, value)) {
    throw std::runtime_error("checkpoint has no entry '" + key + "'");
  }
  return value;
}

}  // namespace

void write_int(torch::serialize::OutputArchive& archive, const std::string& key, int64_t value) {
  archive.write(key, c10::IValue(value));
}

void write_double(torch::serialize::OutputArchive& archive, const std::string& key, double value) {
  archive.write(key, c10::IValue(value));
}

void write_string(torch::serialize::OutputArchive& archive, const std::string& key,
                  const std::string& value) {
  archive.write(key, c10::IValue(value));
}

void write_rng(torch::serialize::OutputArchive& archive, const std::string& key, const Rng& rng) {
  const Rng::State state = rng.state();
  int64_t words[6];
  std::memcpy(words, state.words.data(), sizeof(uint64_t) * 4);
  std::memcpy(&words[4], &state.spare_normal, sizeof(double));
  words[5] = state.has_spare_normal ? 1 : 0;
  archive.write(key, torch::from_blob(words, {6}, torch::kInt64).clone());
}

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  const c10::IValue value = read_value(archive, key);
  if (!value.isInt()) throw std::runtime_error("checkpoint entry '" + key + "' is not an integer");
  return value.toInt();
}

double read_double(torch::serialize::InputArchive& archive, const std::string& key) {
  const c10::IValue value = read_value(archive, key);
  if (!value.isDouble()) throw std::runtime_error("checkpoint entry '" + key + "' is not a number");
  return value.toDouble();
}

std::string read_string(torch::serialize::InputArchive& archive, const std::string& key) {
  const c10::IValue value = read_value(archive, key);
  if (!value.isString()) throw std::runtime_error("checkpoint entry '" + key + "' is not a string");
  return value.toStringRef();
}

void read_rng(torch::serialize::InputArchive& archive, const std::string& key, Rng& rng) {
  torch::Tensor words;
  if (!archive.try_read(key, words) || words.scalar_type() != torch::kInt64 || words.numel() != 6) {
    throw std::runtime_error("checkpoint entry '" + key + "' is missing or not an RNG state");
  }
  words = words.contiguous();
  const int64_t* data = words.data_ptr<int64_t>();
  Rng::State state{};
  std::memcpy(state.words.data(), data, sizeof(uint64_t) * 4);
  std::memcpy(&state.spare_normal, &data[4], sizeof(double));
  state.has_spare_normal = data[5] != 0;
  rng.set_state(state);
}

void write_network_signature(torch::serialize::OutputArchive& archive,
                             const std::string& signature) {
  write_string(archive, "network", signature);
}

void check_network_signature(torch::serialize::InputArchive& archive,
                             const std::string& signature) {
  const std::string stored = read_string(archive, "network");
  if (stored != signature) {
    throw std::runtime_error("the checkpoint holds a different network (" + stored +
                             ") than the config builds (" + signature + ")");
  }
}

}  // namespace rl
