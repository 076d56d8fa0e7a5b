// CRC-32 (IEEE 802.3 polynomial, the one zlib, PNG and gzip use), used to detect corrupted
// replay files and to fingerprint observations during re-simulation, and CRC-32C (Castagnoli
// polynomial, the one TFRecord files use for TensorBoard event files).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace rl {

// Both continue a running CRC: pass the previous result as `crc` (0 to start).
// crc32({}) == 0 and crc32("123456789") == 0xCBF43926.
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);
// crc32c({}) == 0 and crc32c("123456789") == 0xE3069283.
uint32_t crc32c(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace rl
