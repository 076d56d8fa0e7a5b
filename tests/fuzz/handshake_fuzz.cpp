// Fuzzes the JSON handshake parsers. Whatever parses must survive an encode/parse round trip
// unchanged (spaces, counts, limits).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/json.h"
#include "core/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rl::wire;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const Hello h = parse_hello(text);
    const Hello again = parse_hello(encode_hello(h));
    if (again.num_envs != h.num_envs || again.token != h.token ||
        again.max_body_bytes != h.max_body_bytes || again.capabilities != h.capabilities)
      std::abort();
  } catch (const WireError&) {
  }
  try {
    const Welcome w = parse_welcome(text);
    const Welcome again = parse_welcome(encode_welcome(w));
    if (!(again.observation_space == w.observation_space) ||
        !(again.action_space == w.action_space) || again.num_envs != w.num_envs)
      std::abort();
  } catch (const WireError&) {
  }
  try {
    rl::json::dump(rl::json::parse(text));
  } catch (const rl::json::JsonError&) {
  }
  return 0;
}
