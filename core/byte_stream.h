// Little helpers to write plain values and arrays into a byte vector and read them back with
// bounds checks, for the binary sections of checkpoints (replay buffer, vector env log).
// Values are stored in the machine's byte order: checkpoints are read where they are written.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace rl {

class ByteWriter {
 public:
  template <typename T>
  void value(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  template <typename T>
  void array(std::span<const T> values) {
    static_assert(std::is_trivially_copyable_v<T>);
    const auto* p = reinterpret_cast<const uint8_t*>(values.data());
    bytes_.insert(bytes_.end(), p, p + values.size_bytes());
  }
  std::vector<uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

// Reads what a ByteWriter wrote. Every read past the end throws std::invalid_argument naming
// `what` (the kind of data, e.g. "replay buffer").
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, std::string what)
      : bytes_(bytes), what_(std::move(what)) {}

  template <typename T>
  T value() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  template <typename T>
  void array(std::span<T> out) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!out.empty()) std::memcpy(out.data(), take(out.size_bytes()), out.size_bytes());
  }
  size_t remaining() const { return bytes_.size() - offset_; }
  // Throws unless every byte was read.
  void expect_end() const {
    if (remaining() != 0)
      throw std::invalid_argument(what_ + ": " + std::to_string(remaining()) +
                                  " unexpected bytes at the end");
  }

 private:
  const uint8_t* take(size_t n) {
    if (n > remaining())
      throw std::invalid_argument(what_ + ": cut short (needs " + std::to_string(n) +
                                  " more bytes at offset " + std::to_string(offset_) + ", has " +
                                  std::to_string(remaining()) + ")");
    const uint8_t* p = bytes_.data() + offset_;
    offset_ += n;
    return p;
  }

  std::span<const uint8_t> bytes_;
  std::string what_;
  size_t offset_ = 0;
};

}  // namespace rl
