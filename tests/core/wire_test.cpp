#include "core/wire.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>

#include "core/json.h"
#include "test_support.h"

namespace rl::wire {
namespace {

float* as_floats(std::span<uint8_t> bytes) { return reinterpret_cast<float*>(bytes.data()); }

std::vector<uint8_t> tensor_bytes(TensorDType dtype, std::vector<uint32_t> dims,
                                  std::span<const uint8_t> data) {
  std::vector<uint8_t> out(tensor_header_bytes(static_cast<int>(dims.size())));
  write_tensor_header(out.data(), dtype, dims);
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

template <typename T>
std::span<const uint8_t> raw(const std::vector<T>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
}

ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const WireError& e) {
    return e.code();
  }
  FAIL("expected a WireError");
  return ErrorCode::kInternal;
}

TEST_CASE("json: parses and writes the strict subset") {
  const json::Value v =
      json::parse(R"( {"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude00\n"], "b": {}} )");
  REQUIRE(v.is_object());
  const auto& a = v.find("a")->items();
  CHECK(a[0].as_number() == 1);
  CHECK(a[1].as_number() == -2500);
  CHECK(a[2].as_bool());
  CHECK(a[3].is_null());
  CHECK(a[4].as_string() == "x\xc3\xa9\xf0\x9f\x98\x80\n");
  CHECK(json::dump(v) == R"({"a":[1,-2500,true,null,"xé😀\n"],"b":{}})");
  CHECK(json::parse(json::dump(json::Value(0.1))).as_number() == 0.1);
  CHECK_THROWS_AS(json::dump(json::Value(std::nan(""))), json::JsonError);
  CHECK_THROWS_AS(v.find("a")->as_string(), json::JsonError);
}

TEST_CASE("json: rejects malformed text with the byte offset") {
  for (const char* bad : {"",
                          "{",
                          "[1,]",
                          "{\"a\":1,}",
                          "01",
                          "1.",
                          "-",
                          "tru",
                          "\"abc",
                          "{\"a\":1 \"b\":2}",
                          "{\"a\":1,\"a\":2}",
                          "[1] x",
                          "\"\\x\"",
                          "\"\\ud800\"",
                          "\"\x01\"",
                          "\"\xff\"",
                          "\"\xc0\x80\"",
                          "1e999",
                          "NaN",
                          "// c\n1",
                          "{a:1}"}) {
    INFO("input: ", bad);
    CHECK_THROWS_AS(json::parse(bad), json::JsonError);
  }
  try {
    json::parse("[1, 2, }");
    FAIL("expected an error");
  } catch (const json::JsonError& e) {
    CHECK(std::string(e.what()).find("byte 7") != std::string::npos);
  }
  std::string deep(100, '[');
  deep += std::string(100, ']');
  CHECK_THROWS_AS(json::parse(deep), json::JsonError);
}

TEST_CASE("frame header: round trip and every framing error") {
  std::vector<uint8_t> frame;
  const std::string body = "hello";
  build_frame(frame, MessageType::kPing, 77, body, kFlagJsonBody);
  REQUIRE(frame.size() == kHeaderBytes + body.size());
  const auto header = std::span<const uint8_t, kHeaderBytes>(frame.data(), kHeaderBytes);
  const FrameHeader h = decode_header(header, 1024);
  CHECK(h.type == static_cast<uint8_t>(MessageType::kPing));
  CHECK(h.flags == kFlagJsonBody);
  CHECK(h.body_bytes == 5);
  CHECK(h.request_id == 77);
  CHECK(std::memcmp(frame.data(), "RLCW", 4) == 0);

  CHECK(code_of([&] { decode_header(header, 4); }) == ErrorCode::kFrameTooLarge);
  std::vector<uint8_t> bad = frame;
  bad[0] = 'X';
  try {
    decode_header(std::span<const uint8_t, kHeaderBytes>(bad.data(), kHeaderBytes), 1024);
    FAIL("expected an error");
  } catch (const WireError& e) {
    CHECK(e.code() == ErrorCode::kBadFrame);
    CHECK(e.fatal());
    CHECK(std::string(e.what()).find("magic") != std::string::npos);
  }
  bad = frame;
  bad[11] = 1;
  CHECK(code_of([&] {
          decode_header(std::span<const uint8_t, kHeaderBytes>(bad.data(), kHeaderBytes), 1024);
        }) == ErrorCode::kBadFrame);
  CHECK(message_type_name(200) == "UNKNOWN(200)");
}

TEST_CASE("tensor: parse, truncation, bad dtype and rank, overflowing dims") {
  const std::vector<float> values{1.f, 2.f, 3.f, 4.f, 5.f, 6.f};
  const auto bytes = tensor_bytes(TensorDType::kF32, {2, 3}, raw(values));
  TensorView t;
  CHECK(parse_tensor(bytes, t) == bytes.size());
  CHECK(t.describe() == "f32[2,3]");
  CHECK(t.numel() == 6);
  float last;
  std::memcpy(&last, t.data.data() + 20, 4);
  CHECK(last == 6.f);

  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    INFO("cut at ", cut);
    CHECK(code_of([&] { parse_tensor(std::span(bytes).first(cut), t); }) == ErrorCode::kBadMessage);
  }
  auto bad = bytes;
  bad[0] = 9;
  CHECK(code_of([&] { parse_tensor(bad, t); }) == ErrorCode::kBadMessage);
  bad = bytes;
  bad[1] = kMaxRank + 1;
  CHECK(code_of([&] { parse_tensor(bad, t); }) == ErrorCode::kBadMessage);
  const auto huge = tensor_bytes(TensorDType::kI64, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {});
  CHECK(code_of([&] { parse_tensor(huge, t); }) == ErrorCode::kBadMessage);
  const auto empty = tensor_bytes(TensorDType::kU8, {0, 5}, {});
  CHECK(parse_tensor(empty, t) == empty.size());
  CHECK(t.numel() == 0);
}

TEST_CASE("reset: round trip and malformed bodies") {
  const auto body = encode_reset({true, 0x1122334455667788ULL});
  const ResetRequest r = decode_reset(body);
  CHECK(r.has_seed);
  CHECK(r.seed == 0x1122334455667788ULL);
  CHECK(!decode_reset(encode_reset({})).has_seed);
  CHECK(code_of([&] { decode_reset(std::span(body).first(15)); }) == ErrorCode::kBadMessage);
  auto bad = body;
  bad[0] = 4;
  CHECK(code_of([&] { decode_reset(bad); }) == ErrorCode::kBadMessage);
}

TEST_CASE("step: actions checked for dtype, shape and range") {
  const Space discrete = Space::discrete(3);
  const std::vector<int64_t> good{0, 2};
  const auto body = tensor_bytes(TensorDType::kI64, {2}, raw(good));
  const TensorView t = decode_step(body, discrete, 2);
  CHECK(t.numel() == 2);

  const std::vector<int64_t> out_of_range{0, 3};
  CHECK(code_of([&] {
          decode_step(tensor_bytes(TensorDType::kI64, {2}, raw(out_of_range)), discrete, 2);
        }) == ErrorCode::kActionOutOfRange);
  const std::vector<int64_t> negative{-1, 0};
  CHECK(code_of([&] {
          decode_step(tensor_bytes(TensorDType::kI64, {2}, raw(negative)), discrete, 2);
        }) == ErrorCode::kActionOutOfRange);
  const std::vector<float> as_float{0.f, 1.f};
  try {
    decode_step(tensor_bytes(TensorDType::kF32, {2}, raw(as_float)), discrete, 2);
    FAIL("expected an error");
  } catch (const WireError& e) {
    CHECK(e.code() == ErrorCode::kBadAction);
    CHECK(!e.fatal());
    CHECK(std::string(e.what()).find("expected i64[2]") != std::string::npos);
  }
  CHECK(code_of([&] {
          decode_step(tensor_bytes(TensorDType::kI64, {1}, raw(good).first(8)), discrete, 2);
        }) == ErrorCode::kBadAction);
  auto trailing = body;
  trailing.push_back(0);
  CHECK(code_of([&] { decode_step(trailing, discrete, 2); }) == ErrorCode::kBadMessage);

  const Space box = Space::box({2}, -1.f, 1.f, DType::kF32);
  const std::vector<float> ok{0.5f, -1.f, 1.f, 0.f};
  CHECK(decode_step(tensor_bytes(TensorDType::kF32, {2, 2}, raw(ok)), box, 2).numel() == 4);
  const std::vector<float> too_big{0.5f, -1.f, 1.5f, 0.f};
  CHECK(code_of([&] {
          decode_step(tensor_bytes(TensorDType::kF32, {2, 2}, raw(too_big)), box, 2);
        }) == ErrorCode::kActionOutOfRange);
  const std::vector<float> nan{0.5f, std::nanf(""), 1.f, 0.f};
  CHECK(code_of([&] {
          decode_step(tensor_bytes(TensorDType::kF32, {2, 2}, raw(nan)), box, 2);
        }) == ErrorCode::kActionOutOfRange);
  CHECK(code_of([&] { decode_step(tensor_bytes(TensorDType::kF32, {4}, raw(ok)), box, 2); }) ==
        ErrorCode::kBadAction);
}

TEST_CASE("step result: writer output parses back, with final observations") {
  const Space obs_space = Space::box({2}, -10.f, 10.f, DType::kF32);
  StepResultWriter writer(3, obs_space);
  for (int round = 0; round < 2; ++round) {  // a second reply must not keep the first's finals
    writer.begin();
    for (uint32_t i = 0; i < 3; ++i) {
      float* o = as_floats(writer.observation(i));
      o[0] = static_cast<float>(i);
      o[1] = static_cast<float>(round);
    }
    writer.set(0, StepType::kMid, 1.f);
    writer.set(1, round == 0 ? StepType::kTerminated : StepType::kMid, -2.f);
    writer.set(2, StepType::kTruncated, 0.5f);
    if (round == 0) writer.add_final(1);
    writer.add_final(2);
    const auto frame = writer.finish(round + 10);
    const FrameHeader h =
        decode_header(std::span<const uint8_t, kHeaderBytes>(frame.data(), kHeaderBytes), 1 << 20);
    CHECK(h.request_id == static_cast<uint32_t>(round + 10));
    CHECK(h.body_bytes == frame.size() - kHeaderBytes);
    const StepResultView r = parse_step_result(writer.body());
    check_step_result(r, obs_space, 3);
    CHECK(r.num_final == (round == 0 ? 2u : 1u));
    CHECK(r.step_type(2) == StepType::kTruncated);
    CHECK(r.reward(1) == -2.f);
    CHECK(r.final_observations.describe() == (round == 0 ? "f32[2,2]" : "f32[1,2]"));
    float v;
    std::memcpy(&v, r.final_observations.data.data() + (round == 0 ? 8 : 0), 4);
    CHECK(v == 2.f);
    CHECK_THROWS_AS(check_step_result(r, obs_space, 4), WireError);
    CHECK_THROWS_AS(check_step_result(r, Space::box({3}, 0.f, 1.f, DType::kF32), 3), WireError);

    // JSON form converts back to the same bytes.
    std::vector<uint8_t> back;
    step_result_from_json(step_result_to_json(r), obs_space, back);
    const auto body = writer.body();
    CHECK(std::vector<uint8_t>(body.begin(), body.end()) == back);
  }
}

TEST_CASE("step result: inconsistent bodies are rejected") {
  const Space obs_space = Space::box({2}, 0.f, 255.f, DType::kU8);
  StepResultWriter writer(2, obs_space);
  writer.set(0, StepType::kMid, 0.f);
  writer.set(1, StepType::kTerminated, 1.f);
  writer.add_final(1);
  writer.finish(1);
  const auto good = std::vector<uint8_t>(writer.body().begin(), writer.body().end());
  CHECK_NOTHROW(parse_step_result(good));
  for (size_t cut = 0; cut < good.size(); ++cut)
    CHECK(code_of([&] { parse_step_result(std::span(good).first(cut)); }) ==
          ErrorCode::kBadMessage);
  auto bad = good;
  bad[8] = 7;  // unknown step type
  CHECK(code_of([&] { parse_step_result(bad); }) == ErrorCode::kBadMessage);
  bad = good;
  bad[9] = static_cast<uint8_t>(StepType::kMid);  // final count no longer matches
  CHECK(code_of([&] { parse_step_result(bad); }) == ErrorCode::kBadMessage);
  bad = good;
  bad.push_back(0);
  CHECK(code_of([&] { parse_step_result(bad); }) == ErrorCode::kBadMessage);
}

TEST_CASE("handshake: hello and welcome round trip, bad json and fields") {
  Hello hello;
  hello.token = "s3cret";
  hello.num_envs = 4;
  hello.capabilities = {"final_observation"};
  hello.client_name = "test";
  const Hello h = parse_hello(encode_hello(hello));
  CHECK(h.token == "s3cret");
  CHECK(h.num_envs == 4);
  CHECK(h.version_major == kVersionMajor);
  CHECK(h.capabilities == hello.capabilities);

  Welcome w;
  w.env_id = "classic/cartpole-v1";
  w.num_envs = 2;
  const float big = std::numeric_limits<float>::max();
  w.observation_space =
      Space::box({4}, {-4.8f, -big, -0.4f, -std::numeric_limits<float>::infinity()},
                 {4.8f, big, 0.4f, std::numeric_limits<float>::infinity()}, DType::kF32);
  w.action_space = Space::discrete(2);
  w.reward_min = 0.f;
  w.reward_max = 1.f;
  w.max_episode_steps = 500;
  const Welcome back = parse_welcome(encode_welcome(w));
  CHECK(back.observation_space == w.observation_space);
  CHECK(back.action_space == w.action_space);
  CHECK(back.num_envs == 2);
  CHECK(back.max_episode_steps == 500);
  CHECK(back.reward_max == 1.f);
  w.observation_space = Space::box({2, 3}, 0.f, 255.f, DType::kU8);
  w.action_space = Space::box({2}, -1.f, 1.f, DType::kF32);
  const Welcome back2 = parse_welcome(encode_welcome(w));
  CHECK(back2.observation_space == w.observation_space);
  CHECK(back2.action_space == w.action_space);

  CHECK(code_of([] { parse_hello("{\"protocol\":"); }) == ErrorCode::kBadJson);
  CHECK(code_of([] { parse_hello("[]"); }) == ErrorCode::kBadMessage);
  CHECK(code_of([] { parse_hello(R"({"protocol":"rlcade-wire"})"); }) == ErrorCode::kBadMessage);
  CHECK(code_of([] { parse_hello(R"({"protocol":"x","version":[1,0]})"); }) ==
        ErrorCode::kBadMessage);
  CHECK(code_of([] {
          parse_hello(R"({"protocol":"rlcade-wire","version":[1,0],"num_envs":0})");
        }) == ErrorCode::kBadMessage);
  CHECK(code_of([] { parse_hello(R"({"protocol":"rlcade-wire","version":[1,0],"token":5})"); }) ==
        ErrorCode::kBadMessage);
  // Unknown keys are allowed for forward compatibility.
  CHECK(parse_hello(R"({"protocol":"rlcade-wire","version":[1,3],"later":1})").version_minor == 3);
  CHECK(code_of([] {
          parse_welcome(
              R"({"protocol":"rlcade-wire","version":[1,0],"env_id":"x","num_envs":1,)"
              R"("observation_space":{"kind":"box","dtype":"f64","shape":[1],"low":0,"high":1},)"
              R"("action_space":{"kind":"discrete","n":2}})");
        }) == ErrorCode::kBadMessage);
  CHECK(code_of([] {
          parse_welcome(
              R"({"protocol":"rlcade-wire","version":[1,0],"env_id":"x","num_envs":1,)"
              R"("observation_space":{"kind":"box","dtype":"u8","shape":[2],"low":[0],"high":1},)"
              R"("action_space":{"kind":"discrete","n":2}})");
        }) == ErrorCode::kBadMessage);
}

TEST_CASE("handshake: version negotiation and constant-time token check") {
  CHECK(negotiate_minor(kVersionMajor, kVersionMinor + 5) == kVersionMinor);
  CHECK(negotiate_minor(kVersionMajor, 0) == 0);
  try {
    negotiate_minor(kVersionMajor + 1, 0);
    FAIL("expected an error");
  } catch (const WireError& e) {
    CHECK(e.code() == ErrorCode::kVersionMismatch);
    CHECK(e.fatal());
  }
  CHECK(tokens_equal("abc", "abc"));
  CHECK(!tokens_equal("abc", "abd"));
  CHECK(!tokens_equal("abc", "abcd"));
  CHECK(!tokens_equal("abc", ""));
  CHECK(!tokens_equal("", ""));
}

TEST_CASE("error frames round trip") {
  const ErrorInfo e = parse_error(encode_error({ErrorCode::kBadAction, "wrong \"shape\"", false}));
  CHECK(e.code == ErrorCode::kBadAction);
  CHECK(e.message == "wrong \"shape\"");
  CHECK(!e.fatal);
  CHECK(std::string(error_code_name(e.code)) == "bad_action");
  CHECK(code_of([] { parse_error(R"({"code":1,"message":"x"})"); }) == ErrorCode::kBadMessage);
  CHECK(code_of([] { parse_error("nope"); }) == ErrorCode::kBadJson);
}

}  // namespace
}  // namespace rl::wire

namespace rl::wire {
namespace {

std::vector<uint8_t> read_seed(const std::string& target, const std::string& name) {
  const std::string path = (rl::test::source_dir() / "tests/fuzz/corpus" / target / name).string();
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "missing seed ", path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string_view text_of(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The fuzz seeds are written by the Python implementation (tests/fuzz/make_corpus.py): every
// one must decode here, which also cross-checks the two implementations.
TEST_CASE("act: frames round trip with and without a mask; every size and mask is checked") {
  const Space obs = Space::box({2, 2}, -1.f, 1.f, DType::kF32);
  const Space actions = Space::discrete(3);
  const std::vector<float> values{0.1f, 0.2f, 0.3f, 0.4f, -0.1f, -0.2f, -0.3f, -0.4f};
  const std::vector<uint8_t> legal{1, 0, 0, 0, 1, 1};
  std::vector<uint8_t> frame;
  build_act_frame(frame, 9, obs, actions, 2, raw(values), legal);
  const FrameHeader h =
      decode_header(std::span<const uint8_t, kHeaderBytes>(frame.data(), kHeaderBytes), 1 << 20);
  CHECK(h.type == static_cast<uint8_t>(MessageType::kAct));
  CHECK(h.request_id == 9);
  const auto body = std::span<const uint8_t>(frame).subspan(kHeaderBytes);
  CHECK(body.size() == act_body_bytes(obs, actions, 2, true));
  const ActRequest r = decode_act(body, obs, actions, 4);
  CHECK(r.batch == 2);
  CHECK(r.has_legal());
  CHECK(r.observations.describe() == "f32[2,2,2]");
  CHECK(std::equal(r.legal.data.begin(), r.legal.data.end(), legal.begin()));
  CHECK(std::memcmp(r.observations.data.data(), values.data(), 32) == 0);
  build_act_frame(frame, 1, obs, actions, 2, raw(values));
  CHECK_FALSE(decode_act(std::span<const uint8_t>(frame).subspan(kHeaderBytes), obs, actions, 4)
                  .has_legal());
  CHECK_THROWS_AS(build_act_frame(frame, 1, obs, actions, 3, raw(values)), std::invalid_argument);
  CHECK_THROWS_AS(build_act_frame(frame, 1, obs, actions, 2, raw(values), {legal.data(), 5}),
                  std::invalid_argument);

  auto act_code = [&](TensorDType dtype, std::vector<uint32_t> dims, size_t bytes,
                      std::vector<uint8_t> tail = {}, uint32_t max_batch = 4) {
    std::vector<uint8_t> b = tensor_bytes(dtype, dims, std::vector<uint8_t>(bytes, 0));
    b.insert(b.end(), tail.begin(), tail.end());
    return code_of([&] { decode_act(b, obs, actions, max_batch); });
  };
  CHECK(act_code(TensorDType::kU8, {1, 2, 2}, 4) == ErrorCode::kBadObservation);
  CHECK(act_code(TensorDType::kF32, {1, 4}, 16) == ErrorCode::kBadObservation);
  CHECK(act_code(TensorDType::kF32, {2, 2}, 16) == ErrorCode::kBadObservation);
  CHECK(act_code(TensorDType::kF32, {0, 2, 2}, 0) == ErrorCode::kBadObservation);
  CHECK(act_code(TensorDType::kF32, {5, 2, 2}, 80) == ErrorCode::kBadObservation);
  CHECK(act_code(TensorDType::kF32, {}, 4) == ErrorCode::kBadObservation);
  CHECK(act_code(TensorDType::kF32, {1, 2, 2}, 15) == ErrorCode::kBadMessage);
  CHECK(act_code(TensorDType::kF32, {1, 2, 2}, 16, {0}) == ErrorCode::kBadMessage);
  const auto mask = [](TensorDType dtype, std::vector<uint32_t> dims, std::vector<uint8_t> data) {
    return tensor_bytes(dtype, dims, data);
  };
  CHECK(act_code(TensorDType::kF32, {1, 2, 2}, 16, mask(TensorDType::kU8, {1, 3}, {0, 0, 0})) ==
        ErrorCode::kBadObservation);  // no legal action
  CHECK(act_code(TensorDType::kF32, {1, 2, 2}, 16, mask(TensorDType::kU8, {1, 2}, {1, 1})) ==
        ErrorCode::kBadObservation);
  CHECK(act_code(TensorDType::kF32, {1, 2, 2}, 16,
                 mask(TensorDType::kF32, {1, 3}, std::vector<uint8_t>(12, 0))) ==
        ErrorCode::kBadObservation);
  CHECK(act_code(TensorDType::kF32, {1, 2, 2}, 16, mask(TensorDType::kU8, {}, {1})) ==
        ErrorCode::kBadObservation);
  std::vector<uint8_t> tail = mask(TensorDType::kU8, {1, 3}, {0, 0, 1});
  tail.push_back(7);
  CHECK(act_code(TensorDType::kF32, {1, 2, 2}, 16, tail) == ErrorCode::kBadMessage);
  // A mask with Box actions.
  const std::vector<uint8_t> boxed =
      tensor_bytes(TensorDType::kF32, {1, 2, 2}, std::vector<uint8_t>(16, 0));
  std::vector<uint8_t> with_mask = boxed;
  const auto m = mask(TensorDType::kU8, {1, 1}, {1});
  with_mask.insert(with_mask.end(), m.begin(), m.end());
  CHECK(code_of([&] { decode_act(with_mask, obs, Space::box({1}, -1.f, 1.f, DType::kF32), 4); }) ==
        ErrorCode::kBadObservation);
}

TEST_CASE("act result: built frames decode; wrong shapes and values are bad messages") {
  const Space discrete = Space::discrete(3);
  std::vector<uint8_t> frame;
  const auto data = begin_act_result_frame(frame, 4, discrete, 2);
  const std::vector<int64_t> chosen{2, 0};
  std::memcpy(data.data(), chosen.data(), 16);
  CHECK(frame.size() == kHeaderBytes + act_result_body_bytes(discrete, 2));
  const auto body = std::span<const uint8_t>(frame).subspan(kHeaderBytes);
  CHECK(decode_act_result(body, discrete, 2).describe() == "i64[2]");
  CHECK(code_of([&] { decode_act_result(body, discrete, 3); }) == ErrorCode::kBadMessage);
  const std::vector<int64_t> outside{3, 0};
  std::memcpy(data.data(), outside.data(), 16);
  CHECK(code_of([&] { decode_act_result(body, discrete, 2); }) == ErrorCode::kBadMessage);

  const Space box = Space::box({2}, -1.f, 1.f, DType::kF32);
  const auto values = begin_act_result_frame(frame, 5, box, 1);
  const std::vector<float> inside{0.5f, -1.f};
  std::memcpy(values.data(), inside.data(), 8);
  CHECK(decode_act_result(std::span<const uint8_t>(frame).subspan(kHeaderBytes), box, 1).numel() ==
        2);
  const std::vector<float> nan{std::nanf(""), 0.f};
  std::memcpy(values.data(), nan.data(), 8);
  CHECK(code_of([&] {
          decode_act_result(std::span<const uint8_t>(frame).subspan(kHeaderBytes), box, 1);
        }) == ErrorCode::kBadMessage);
}

TEST_CASE("act: names of the new message types and error code; WELCOME's max_act_batch") {
  CHECK(message_type_name(10) == "ACT");
  CHECK(message_type_name(11) == "ACT_RESULT");
  CHECK(message_type_name(12) == "UNKNOWN(12)");
  CHECK(std::string(error_code_name(ErrorCode::kBadObservation)) == "bad_observation");
  Welcome w;
  w.env_id = "e";
  w.observation_space = Space::box({1}, 0.f, 1.f, DType::kU8);
  w.action_space = Space::discrete(2);
  CHECK(encode_welcome(w).find("max_act_batch") == std::string::npos);  // env servers: as in 1.0
  w.max_act_batch = 256;
  CHECK(parse_welcome(encode_welcome(w)).max_act_batch == 256);
}

TEST_CASE("fuzz seed corpus: every seed is a valid message for the C++ codec") {
  const Space act_observations = Space::box({4}, -1e30f, 1e30f, DType::kF32);
  for (const char* name :
       {"hello", "welcome", "reset", "step_discrete", "step_box", "step_result", "error", "ping",
        "act_f32", "act_masked", "act_u8", "act_result_i64", "act_result_f32"}) {
    INFO("frame seed ", name);
    const auto frame = read_seed("frame", name);
    REQUIRE(frame.size() >= kHeaderBytes);
    const FrameHeader h =
        decode_header(std::span<const uint8_t, kHeaderBytes>(frame.data(), kHeaderBytes), 1 << 20);
    const auto body = std::span<const uint8_t>(frame).subspan(kHeaderBytes);
    REQUIRE(body.size() == h.body_bytes);
    switch (static_cast<MessageType>(h.type)) {
      case MessageType::kHello:
        CHECK(parse_hello(text_of(body)).num_envs == 3);
        break;
      case MessageType::kWelcome:
        CHECK(parse_welcome(text_of(body)).action_space.numel() == 2);
        break;
      case MessageType::kReset:
        CHECK(decode_reset(body).seed == 42);
        break;
      case MessageType::kStep:
        if (std::string(name) == "step_box")
          CHECK(decode_step(body, Space::box({2, 3}, -1.f, 1.f, DType::kF32), 2).numel() == 12);
        else
          CHECK(decode_step(body, Space::discrete(4), 3).numel() == 3);
        break;
      case MessageType::kStepResult:
        CHECK(parse_step_result(body).num_final == 1);
        break;
      case MessageType::kError:
        CHECK(parse_error(text_of(body)).code == ErrorCode::kBadAction);
        break;
      case MessageType::kPing:
        CHECK(body.size() == 4);
        break;
      case MessageType::kAct:
        if (std::string(name) == "act_u8")
          CHECK(decode_act(body, Space::box({2, 3}, 0.f, 255.f, DType::kU8),
                           Space::box({2}, -1.f, 1.f, DType::kF32), 64)
                    .batch == 2);
        else
          CHECK(decode_act(body, act_observations, Space::discrete(3), 64).has_legal() ==
                (std::string(name) == "act_masked"));
        break;
      case MessageType::kActResult:
        if (std::string(name) == "act_result_i64")
          CHECK(decode_act_result(body, Space::discrete(3), 3).numel() == 3);
        else
          CHECK(decode_act_result(body, Space::box({2}, -1.f, 1.f, DType::kF32), 2).numel() == 4);
        break;
      default:
        FAIL("unexpected type in seed");
    }
  }
  const Welcome w = parse_welcome(text_of(read_seed("handshake", "welcome.json")));
  CHECK(std::isinf(w.observation_space.low[1]));
  CHECK(w.observation_space.high[3] == doctest::Approx(3.4e38));
  CHECK(parse_welcome(text_of(read_seed("handshake", "welcome_policy.json"))).max_act_batch ==
        4096);
  CHECK(parse_step_result(read_seed("tensor", "step_result_u8")).final_observations.describe() ==
        "u8[2,2,3]");
}

}  // namespace
}  // namespace rl::wire
