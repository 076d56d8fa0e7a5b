// Fuzzes what rlwatch does with a replay file (.rlr) from elsewhere: read_replay (framing,
// body, env id and parameters against the registry), then re-simulation of the episode.
// The body CRC rejects nearly every mutation, so each input is also read with its header's
// body size and CRC recomputed: the body decoder and the re-simulation then see the bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "core/crc32.h"
#include "core/replay_file.h"
#include "tests/fuzz/file_fuzz.h"

namespace {

constexpr size_t kSizeOffset = 12;  // After the magic and the format version.
constexpr size_t kHeaderBytes = 24;

void read_and_replay(const std::string& path) {
  rl::Replay replay;
  try {
    replay = rl::read_replay(path);
  } catch (const rl::ReplayError& e) {
    rl::fuzz::require_names_file(e.what(), path);
    return;
  }
  // A replay that reads must re-simulate without throwing: divergences are reported.
  const rl::ReplayVerification result = rl::verify_replay(replay);
  if (result.steps_simulated > replay.steps()) {
    std::fprintf(stderr, "simulated %lld of %lld steps\n",
                 static_cast<long long>(result.steps_simulated),
                 static_cast<long long>(replay.steps()));
    std::abort();
  }
}

// The input with the header's body size and CRC made to match the rest of it.
std::string with_valid_header(std::string_view bytes) {
  std::string fixed(bytes.substr(0, kSizeOffset));
  const std::string_view body = bytes.substr(kHeaderBytes);
  rl::fuzz::put_le(fixed, body.size(), 8);
  rl::fuzz::put_le(fixed, rl::crc32({reinterpret_cast<const uint8_t*>(body.data()), body.size()}),
                   4);
  fixed.append(body);
  return fixed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  read_and_replay(rl::fuzz::write_scratch("as_is.rlr", bytes));
  if (size >= kHeaderBytes) {
    read_and_replay(rl::fuzz::write_scratch("resealed.rlr", with_valid_header(bytes)));
  }
  return 0;
}
