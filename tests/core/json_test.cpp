// core/json beyond what the wire codec needs: exact 64-bit integers, the strictness rules of
// our own (duplicate keys, nesting depth) and error messages that name the byte offset.
#include "core/json.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

namespace rl::json {
namespace {

std::string error_of(std::string_view text, int max_depth = 32) {
  try {
    parse(text, max_depth);
  } catch (const JsonError& e) {
    return e.what();
  }
  FAIL("expected a JsonError for: ", text);
  return "";
}

TEST_CASE("json: 64-bit integers round trip exactly") {
  const uint64_t seed = 9007199254740993ull;  // 2^53 + 1: the nearest double is 2^53
  CHECK(dump(Value(seed)) == "9007199254740993");
  CHECK(parse(dump(Value(seed))).as_uint64() == seed);
  const uint64_t max_u = std::numeric_limits<uint64_t>::max();
  CHECK(parse(dump(Value(max_u))).as_uint64() == max_u);
  const int64_t min_i = std::numeric_limits<int64_t>::min();
  CHECK(dump(Value(min_i)) == "-9223372036854775808");
  CHECK(parse(dump(Value(min_i))).as_int64() == min_i);
  Value summary = Value::object();
  summary.set("seed", seed);
  CHECK(parse(dump(summary)).find("seed")->as_uint64() == seed);
}

TEST_CASE("json: exact integer reads reject fractions, ranges and other types") {
  CHECK(parse("1e3").as_int64() == 1000);
  CHECK(parse("-5").as_int64() == -5);
  CHECK(parse("7").as_number() == 7.0);
  CHECK_THROWS_AS(parse("1.5").as_int64(), JsonError);
  CHECK_THROWS_AS(parse("-1").as_uint64(), JsonError);
  CHECK_THROWS_AS(parse("18446744073709551615").as_int64(), JsonError);
  CHECK_THROWS_AS(parse("1e30").as_uint64(), JsonError);
  CHECK_THROWS_AS(parse("\"5\"").as_int64(), JsonError);
}

TEST_CASE("json: numbers read as std::strtod reads them, at any digit count and range") {
  // parse() converts numbers with std::from_chars, falling back to strtod; both must agree.
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<float> small(-3.f, 3.f);
  std::uniform_int_distribution<uint64_t> bits;
  for (int i = 0; i < 2000; ++i) {
    double wide = 0;
    const uint64_t b = bits(gen);
    std::memcpy(&wide, &b, sizeof wide);
    if (!std::isfinite(wide)) continue;
    for (const double x : {static_cast<double>(small(gen)), wide}) {
      for (const char* format : {"%.17g", "%.6g", "%.25e"}) {
        char text[64];
        std::snprintf(text, sizeof text, format, x);
        CAPTURE(text);
        CHECK(parse(text).as_number() == std::strtod(text, nullptr));
      }
    }
  }
  CHECK(parse("4.9e-324").as_number() == std::numeric_limits<double>::denorm_min());
  CHECK(parse("1e-400").as_number() == 0.0);  // underflow reads as zero, as strtod gives
  CHECK(parse("[0.1,1E+2,-0.0e0]").items()[1].as_number() == 100.0);
}

TEST_CASE("json: integral doubles print without a fraction, others read back exactly") {
  CHECK(dump(Value(3.0)) == "3");
  CHECK(dump(Value(-2500.0)) == "-2500");
  CHECK(parse(dump(Value(1e300))).as_number() == 1e300);
  CHECK(parse(dump(Value(0.1 + 0.2))).as_number() == 0.1 + 0.2);
  CHECK_THROWS_AS(dump(Value(std::numeric_limits<double>::infinity())), JsonError);
}

TEST_CASE("json: duplicate keys are rejected at any size, naming the key and byte") {
  const std::string small = error_of(R"({"a":1,"a":2})");
  CHECK(small.find("duplicate key 'a'") != std::string::npos);
  CHECK(small.find("byte 9") != std::string::npos);  // the key's closing quote
  std::string big = "{";
  for (int i = 0; i < 40; ++i) big += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  CHECK(parse(big + "\"k40\":0}").keys().size() == 41);
  CHECK(error_of(big + "\"k17\":0}").find("duplicate key 'k17'") != std::string::npos);
  CHECK(error_of(big + "\"k3\":0}").find("duplicate key 'k3'") != std::string::npos);
  // The same key in different objects is fine.
  CHECK(parse(R"({"a":{"a":1},"b":{"a":2}})").find("b")->find("a")->as_number() == 2);
}

TEST_CASE("json: rule errors name the byte wherever they occur in the text") {
  // parse() reads fast without offsets and reads again to name the byte only on such errors.
  const std::string text = R"({"a":[1.5,-2.25e3,"x\u00e9"],"b":{"c":null},"a":true})";
  const size_t second_a_quote = text.rfind("\"a\"") + 2;
  CHECK(error_of(text) ==
        "bad JSON at byte " + std::to_string(second_a_quote) + ": duplicate key 'a'");
  const std::string deep = R"({"x":[0.5,{"y":[[true]]}]})";
  CHECK(error_of(deep, 4) == "bad JSON at byte 16: nesting deeper than 4");  // the 5th container
}

TEST_CASE("json: nesting is limited to max_depth containers") {
  const auto nested = [](int depth) {
    return std::string(depth, '[') + "1" + std::string(depth, ']');
  };
  CHECK(parse(nested(32)).is_array());
  const std::string deep = error_of(nested(33));
  CHECK(deep.find("nesting deeper than 32") != std::string::npos);
  CHECK(deep.find("byte 32") != std::string::npos);  // the 33rd '['
  CHECK(error_of(R"({"a":{"b":1}})", 1).find("nesting deeper than 1") != std::string::npos);
  CHECK(parse(std::string(2000, '[') + std::string(2000, ']'), 2000).is_array());
}

TEST_CASE("json: syntax errors say what was expected without echoing the input") {
  const std::string eof = error_of("{\"a\": ");
  CHECK(eof.find("bad JSON at byte 6") != std::string::npos);
  CHECK(eof.find("unexpected end of input") != std::string::npos);
  const std::string long_string = "\"" + std::string(100000, 'x');
  const std::string unterminated = error_of(long_string);
  CHECK(unterminated.find("missing closing quote") != std::string::npos);
  CHECK(unterminated.size() < 200);
  CHECK(error_of("[1e999]") == "bad JSON at byte 5: number out of range");
}

TEST_CASE("json: strings are written as valid UTF-8 with escapes") {
  CHECK(dump(Value("tab\tquote\"back\\\x01")) == R"("tab\tquote\"back\\\u0001")");
  CHECK(dump(Value("bad \xff byte")) == "\"bad \xef\xbf\xbd byte\"");  // U+FFFD
  const std::string text = "caf\xc3\xa9 \xf0\x9f\x98\x80";
  CHECK(parse(dump(Value(text))).as_string() == text);
}

TEST_CASE("json: dump writes what nlohmann's own dump writes for the same tree") {
  // dump() writes from Value directly; nlohmann's tree is the reference, with integral doubles
  // below 2^53 as integers (our rule).
  using Reference = nlohmann::ordered_json;
  const std::vector<double> reals{
      0.1, -0.0,        1e-5,   0.0001, 123456.789, 1e15 + 0.5, 1e300, -1e-300, 9007199254740992.0,
      3.0, 1.0f / 3.0f, -2.5e-7};
  const std::vector<std::string> strings{
      "plain", "", "tab\tquote\"back\\", "\x01\x1f\x7f", "caf\xc3\xa9", "bad \xff\xc3 bytes"};
  Value value = Value::object();
  Reference reference = Reference::object();
  Value reals_value = Value::array();
  Reference reals_reference = Reference::array();
  for (double x : reals) {
    reals_value.push_back(x);
    if (x == std::trunc(x) && std::fabs(x) < 9007199254740992.0)
      reals_reference.push_back(static_cast<int64_t>(x));
    else
      reals_reference.push_back(x);
  }
  value.set("reals", reals_value);
  reference["reals"] = reals_reference;
  value.set("ints", Value::array({Value(int64_t{-7}), Value(uint64_t{18446744073709551615ull})}));
  reference["ints"] = Reference::array({int64_t{-7}, uint64_t{18446744073709551615ull}});
  for (const std::string& s : strings) {
    value.set(s + "!", s);
    reference[s + "!"] = s;
  }
  value.set("nested", Value::array({Value(), Value(true), Value::object(), Value::array()}));
  reference["nested"] = Reference::array({nullptr, true, Reference::object(), Reference::array()});
  CHECK(dump(value) == reference.dump(-1, ' ', false, Reference::error_handler_t::replace));
}

}  // namespace
}  // namespace rl::json
