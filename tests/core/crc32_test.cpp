#include "core/crc32.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace rl {
namespace {

// The CRC one bit at a time, straight from the definition (reflected polynomial, inverted).
uint32_t bitwise_crc(const uint8_t* bytes, size_t size, uint32_t reflected_polynomial) {
  uint32_t crc = ~0u;
  for (size_t i = 0; i < size; ++i) {
    crc ^= bytes[i];
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1u) ? (crc >> 1) ^ reflected_polynomial : crc >> 1;
  }
  return ~crc;
}

TEST_CASE("crc32 and crc32c equal the bit-at-a-time CRC on every length and offset") {
  std::mt19937 rng(3);
  std::vector<uint8_t> data(200);
  for (uint8_t& b : data) b = static_cast<uint8_t>(rng());
  // Lengths around the 8-byte blocks (tails of 0-7 bytes), at unaligned starts.
  for (size_t offset : {0, 1, 3, 7}) {
    for (size_t size = 0; size + offset <= data.size(); ++size) {
      CAPTURE(offset);
      CAPTURE(size);
      const std::span<const uint8_t> bytes(data.data() + offset, size);
      CHECK(crc32(bytes) == bitwise_crc(bytes.data(), size, 0xEDB88320u));
      CHECK(crc32c(bytes) == bitwise_crc(bytes.data(), size, 0x82F63B78u));
      // Continued from a split anywhere.
      const size_t split = size / 3;
      CHECK(crc32(bytes.subspan(split), crc32(bytes.first(split))) == crc32(bytes));
    }
  }
}

}  // namespace
}  // namespace rl
