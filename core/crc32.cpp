#include "core/crc32.h"

#include <array>

namespace rl {

// Hand-written on purpose: two table-driven loops of a few lines each. zlib would add a
// dependency for CRC-32 alone and has no CRC-32C; Boost.CRC is header-heavy for the same two
// loops, and both polynomials are fixed by the formats we read and write.
namespace {

constexpr uint32_t kIeeeReflectedPolynomial = 0xEDB88320u;
constexpr uint32_t kCastagnoliReflectedPolynomial = 0x82F63B78u;

using Table = std::array<uint32_t, 256>;

constexpr Table make_table(uint32_t reflected_polynomial) {
  Table table{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t value = byte;
    for (int bit = 0; bit < 8; ++bit)
      value = (value & 1u) ? (value >> 1) ^ reflected_polynomial : value >> 1;
    table[byte] = value;
  }
  return table;
}

constexpr Table kIeeeTable = make_table(kIeeeReflectedPolynomial);
constexpr Table kCastagnoliTable = make_table(kCastagnoliReflectedPolynomial);

uint32_t table_crc(const Table& table, std::span<const uint8_t> bytes, uint32_t crc) {
  crc = ~crc;
  for (uint8_t b : bytes) crc = table[(crc ^ b) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

}  // namespace

uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc) {
  return table_crc(kIeeeTable, bytes, crc);
}

uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc) {
  return table_crc(kCastagnoliTable, bytes, crc);
}

}  // namespace rl
