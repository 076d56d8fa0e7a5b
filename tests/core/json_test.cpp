// core/json beyond what the wire codec needs: exact 64-bit integers, the strictness rules of
// our own (duplicate keys, nesting depth) and error messages that name the byte offset.
#include "core/json.h"

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

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

// A text placed at the very end of a readable page whose next page is unreadable, so any read
// past the end of the text crashes at once, in any build (ASan or not).
class GuardedText {
 public:
  GuardedText() {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* pages =
        mmap(nullptr, 2 * page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(pages != MAP_FAILED);
    pages_ = static_cast<char*>(pages);
    REQUIRE(mprotect(pages_ + page_, page_, PROT_NONE) == 0);
  }
  ~GuardedText() { munmap(pages_, 2 * page_); }
  GuardedText(const GuardedText&) = delete;
  GuardedText& operator=(const GuardedText&) = delete;

  // A view of a copy of `text` (at most a page) ending where the unreadable page begins.
  std::string_view place(std::string_view text) {
    REQUIRE(text.size() <= page_);
    char* const start = pages_ + page_ - text.size();
    std::memcpy(start, text.data(), text.size());
    return {start, text.size()};
  }

 private:
  size_t page_ = 0;
  char* pages_ = nullptr;
};

// What parse() gives for `text`: the dumped value, or the error message.
std::string outcome_of(std::string_view text) {
  try {
    return "value " + dump(parse(text));
  } catch (const JsonError& e) {
    return std::string("error ") + e.what();
  }
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

// Whether `value` holds what nlohmann's own parser read into `reference`.
bool same_as_reference(const Value& value, const nlohmann::ordered_json& reference) {
  if (reference.is_object()) {
    if (!value.is_object() || value.keys().size() != reference.size()) return false;
    size_t i = 0;
    for (const auto& [key, member] : reference.items())
      if (value.keys()[i++] != key || !same_as_reference(*value.find(key), member)) return false;
    return true;
  }
  if (reference.is_array()) {
    if (!value.is_array() || value.items().size() != reference.size()) return false;
    for (size_t i = 0; i < reference.size(); ++i)
      if (!same_as_reference(value.items()[i], reference[i])) return false;
    return true;
  }
  if (reference.is_number_unsigned()) return value.as_uint64() == reference.get<uint64_t>();
  if (reference.is_number_integer()) return value.as_int64() == reference.get<int64_t>();
  if (reference.is_number_float()) {
    const double x = reference.get<double>();
    return value.as_number() == x && std::signbit(value.as_number()) == std::signbit(x);
  }
  if (reference.is_string()) return value.as_string() == reference.get<std::string>();
  if (reference.is_boolean()) return value.as_bool() == reference.get<bool>();
  return value.is_null();
}

// Random numbers and strings, well-formed or not, from the pieces the lexer tells apart.
std::string random_token(std::mt19937_64& gen) {
  const auto pick = [&gen](std::initializer_list<const char*> pieces) {
    return std::string(pieces.begin()[gen() % pieces.size()]);
  };
  std::string token;
  if (gen() % 2 == 0) {
    token += pick({"", "", "-", "+", "--"});
    token += pick({"0", "7", "00", "012", "123456789", "18446744073709551615",
                   "18446744073709551616", "9223372036854775808", "", "x"});
    token += pick({"", "", ".", ".5", ".0001", ".12345678901234567890123", "..5"});
    token += pick({"", "", "e", "E+", "e-", "e5", "E+308", "e309", "e-400", "e-5x", "E"});
    token += pick({"", "", "", "1", ".", "e1", ","});
  } else {
    token += '"';
    const int pieces = static_cast<int>(gen() % 6);
    for (int i = 0; i < pieces; ++i)
      token += pick({"plain",
                     " ",
                     "\\\"",
                     "\\\\",
                     "\\/",
                     "\\n",
                     "\\t",
                     "\\b\\f\\r",
                     "\\u00e9",
                     "\\ud83d\\ude00",
                     "\\ud83d",
                     "\\x",
                     "\\",
                     "\x7f",
                     "\x01",
                     "\t",
                     "caf\xc3\xa9",
                     "\xf0\x9f\x98\x80",
                     "\xe2\x82\xac",
                     "\xc3",
                     "\xc0\xaf",
                     "\xed\xa0\x80",
                     "\xf4\x90\x80\x80",
                     "\xe0\x80\xaf",
                     "\xff",
                     "\xef\xbb\xbf"});
    token += pick({"\"", "\"", "\"", ""});
  }
  return token;
}

TEST_CASE("json: parse reads tokens as nlohmann's own parser reads them") {
  // parse() reads numbers and strings on a fast path of its own and leaves the rest to
  // nlohmann's lexer: both must accept the same texts, with the same values, and name the same
  // byte for an error.
  // A third of the texts end right after their last token (read from a guarded buffer, so a
  // read past the end crashes): the end of input is where a token's scan must stop.
  std::mt19937_64 gen(11);
  GuardedText guarded;
  for (int i = 0; i < 30000; ++i) {
    const bool token_at_end = i % 3 == 0;
    std::string text = token_at_end ? "" : "[";
    text += random_token(gen);
    if (!token_at_end && gen() % 2 == 0) {
      text += ',';
      text += random_token(gen);
    }
    if (!token_at_end) text += ']';
    CAPTURE(text);
    CHECK(outcome_of(guarded.place(text)) == outcome_of(text));
    nlohmann::ordered_json reference;
    try {
      reference = nlohmann::ordered_json::parse(text);
    } catch (const nlohmann::ordered_json::parse_error& e) {
      const std::string error = error_of(text);
      CHECK(error.rfind("bad JSON at byte " + std::to_string(e.byte - 1) + ": ", 0) == 0);
      continue;
    } catch (const nlohmann::ordered_json::out_of_range&) {  // 1e999
      CHECK(error_of(text).find("number out of range") != std::string::npos);
      continue;
    }
    CHECK(same_as_reference(parse(text), reference));
  }
}

TEST_CASE("json: no read passes the end of the input, whatever the text stops in") {
  // Regression: the first fast lexer read one byte past the end of a frame body when a string
  // or number ran to the end of the input (fuzz_frame: an ERROR frame whose body was {"code).
  // Every prefix of these texts is read from the end of a guarded buffer, which crashes on any
  // read past the end, and must read as the same text in an ordinary string does.
  const std::vector<std::string> texts = {
      R"({"code": 7, "name": "bad_action", "message": "caf\u00e9 \"x\"\n"})",
      R"([-0, 0.5, -12.75e-3, 1E+2, 18446744073709551616, 1e400, 1e-400, 012, 1.e5, -])",
      "[true, false, null, tru, nul, fals, \"\xc3\xa9\xf0\x9f\x98\x80\", \"\xc3\", \"\\u\"]",
      "{\"a\" :\t[ 1 ,\r\n 2 ] } \n ",
      "\xef\xbb\xbf{\"bom\": 1}",
      "\"\\ud83d\\ude00\\ud83d\"",
  };
  GuardedText guarded;
  for (const std::string& text : texts) {
    for (size_t length = 0; length <= text.size(); ++length) {
      const std::string prefix = text.substr(0, length);
      CAPTURE(prefix);
      CHECK(outcome_of(guarded.place(prefix)) == outcome_of(prefix));
    }
  }
  const std::string_view body = guarded.place(R"({"code)");
  CHECK(outcome_of(body) ==
        "error bad JSON at byte 6: syntax error while parsing object key - "
        "invalid string: missing closing quote; expected string literal");
}

TEST_CASE("json: a null byte is an error, also after a complete value") {
  // nlohmann's lexer stops at a null byte as at the end of a C string; JSON text has none.
  using namespace std::string_literals;
  CHECK(error_of("{}\0trailing"s) ==
        "bad JSON at byte 2: syntax error while parsing value - unexpected null byte; expected "
        "end of input");
  CHECK(error_of("[1, 2] \0"s).find("bad JSON at byte 7: ") == 0);
  CHECK(error_of("[1,\0 2]"s).find("bad JSON at byte 3: ") == 0);
  CHECK(error_of("\"a\0b\""s).find("control character U+0000") != std::string::npos);
}

TEST_CASE("json: integral doubles print without a fraction, others read back exactly") {
  CHECK(dump(Value(3.0)) == "3");
  CHECK(dump(Value(-2500.0)) == "-2500");
  CHECK(parse(dump(Value(1e300))).as_number() == 1e300);
  CHECK(parse(dump(Value(0.1 + 0.2))).as_number() == 0.1 + 0.2);
  CHECK_THROWS_AS(dump(Value(std::numeric_limits<double>::infinity())), JsonError);
}

TEST_CASE("json: doubles are written shortest, read back exactly, laid out as nlohmann does") {
  using Reference = nlohmann::ordered_json;
  const auto nlohmann_text = [](double x) { return Reference(x).dump(); };
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<float> small(-3.f, 3.f);
  for (int i = 0; i < 20000; ++i) {
    double wide = 0;
    const uint64_t bits = gen();
    std::memcpy(&wide, &bits, sizeof wide);
    if (!std::isfinite(wide)) continue;
    for (const double x :
         {static_cast<double>(small(gen)), wide, small(gen) * 1e-3, small(gen) * 1e12}) {
      if (x == std::trunc(x)) continue;  // integral doubles are written as integers
      const std::string text = dump(Value(x));
      const std::string reference = nlohmann_text(x);
      CAPTURE(text);
      CAPTURE(reference);
      CHECK(parse(text).as_number() == x);
      // nlohmann's Grisu2 digits are sometimes one longer, or the other of two equally short
      // candidates (to_chars takes the nearer, or the even one at a tie); the layout is the same.
      CHECK(text.size() <= reference.size());
      CHECK((text.find('e') == std::string::npos) == (reference.find('e') == std::string::npos));
      CHECK(text.find('.') == reference.find('.'));
    }
  }
  for (const double x : {0.001234, -0.5, 123.456, 1.5e-5, 1e16 + 2, 5e-324, 1e-4 * 1.5, 1e15 + 0.5})
    CHECK(dump(Value(x)) == (x == std::trunc(x) && std::fabs(x) < 9007199254740992.0
                                 ? std::to_string(static_cast<int64_t>(x))
                                 : nlohmann_text(x)));
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
