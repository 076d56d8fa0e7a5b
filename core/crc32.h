// CRC-32 (IEEE 802.3 polynomial, the one zlib, PNG and gzip use). Used to detect corrupted
// replay files and to fingerprint observations during re-simulation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace rl {

// Continues a running CRC: pass the previous result as `crc` (0 to start).
// crc32({}) == 0 and crc32("123456789") == 0xCBF43926.
uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

}  // namespace rl
