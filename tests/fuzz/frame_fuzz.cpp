// Fuzzes what a server does with arbitrary bytes from a peer: the frame header, then the body
// decoded as the message type the header names, against a Discrete and a Box action space
// (ACT: against an f32 observation space with Discrete actions and a u8 one with Box actions).
#include <cstddef>
#include <cstdint>
#include <span>

#include "core/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rl::wire;
  if (size < kHeaderBytes) return 0;
  static const rl::Space discrete = rl::Space::discrete(4);
  static const rl::Space box = rl::Space::box({2, 3}, -1.f, 1.f, rl::DType::kF32);
  static const rl::Space obs_f32 = rl::Space::box({4}, -1e30f, 1e30f, rl::DType::kF32);
  static const rl::Space obs_u8 = rl::Space::box({2, 3}, 0.f, 255.f, rl::DType::kU8);
  static const rl::Space three = rl::Space::discrete(3);
  static const rl::Space box2 = rl::Space::box({2}, -1.f, 1.f, rl::DType::kF32);
  try {
    const FrameHeader h =
        decode_header(std::span<const uint8_t, kHeaderBytes>(data, kHeaderBytes), 1 << 20);
    const std::span<const uint8_t> body(data + kHeaderBytes, size - kHeaderBytes);
    if (body.size() < h.body_bytes) return 0;  // the reader would wait for the rest
    const auto frame_body = body.first(h.body_bytes);
    const std::string_view text(reinterpret_cast<const char*>(frame_body.data()),
                                frame_body.size());
    switch (static_cast<MessageType>(h.type)) {
      case MessageType::kHello:
        parse_hello(text);
        break;
      case MessageType::kWelcome:
        parse_welcome(text);
        break;
      case MessageType::kError:
        parse_error(text);
        break;
      case MessageType::kReset:
        decode_reset(frame_body);
        break;
      case MessageType::kStep:
        try {
          decode_step(frame_body, discrete, 3);
        } catch (const WireError&) {
        }
        decode_step(frame_body, box, 2);
        break;
      case MessageType::kStepResult:
        parse_step_result(frame_body);
        break;
      case MessageType::kAct:
        try {
          decode_act(frame_body, obs_f32, three, 64);
        } catch (const WireError&) {
        }
        decode_act(frame_body, obs_u8, box2, 64);
        break;
      case MessageType::kActResult:
        try {
          decode_act_result(frame_body, three, 3);
        } catch (const WireError&) {
        }
        decode_act_result(frame_body, box2, 2);
        break;
      default:
        break;
    }
  } catch (const WireError&) {
  }
  return 0;
}
