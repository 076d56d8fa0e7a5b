#include "core/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>

// The fast lexer: nlohmann's own lexer and parser, reading the text through TextInput, with a
// few members specialized for speed. nlohmann's generic lexer handles every input alike: it
// keeps a copy of each token and counts lines for its error messages, and copies each number
// and string character by character (3x the old hand-written parser's time here). parse()
// runs the fast lexer first and, if it reports any error, reads the whole text again with the
// unmodified generic lexer, which names the byte and says what it expected. So the
// specializations below need not report errors, only read a subset of valid input exactly as
// the generic lexer does (a test compares them on random tokens) and call everything else an
// error:
// - get() and unget() keep no token copy and count no lines (only chars_read_total, which
//   scan() reads to detect a byte order mark).
// - scan_number() checks the JSON number grammar on the text in place and converts with
//   std::from_chars (correctly rounded, as strtod, and several times faster on 17-digit
//   numbers). It does not fill the token buffer: Reader ignores a number's text.
// - scan_string() copies runs of plain ASCII at once, two-character escapes and valid UTF-8.
// What they leave out (\u escapes, numbers beyond double's range, anything malformed) is rare
// in what we read, and the generic reading of the whole text handles it.
//
// End of input: every read of the text is bounded by TextInput::end. The specializations
// never hand a token to another lexer (whose position would have to be translated back, the
// heap-buffer-overflow of an earlier version): they stop at `end` and leave the input exactly
// past the token they read, or report an error.
//
// They name private members of nlohmann's lexer, as in version 3.11: another version fails
// the assertion below until someone checks them against its lexer.
static_assert(NLOHMANN_JSON_VERSION_MAJOR == 3 && NLOHMANN_JSON_VERSION_MINOR == 11,
              "core/json specializes nlohmann 3.11's lexer: check those specializations");

namespace rl::json {
namespace {

// The text as a plain pointer range, which the fast lexer's specializations read in place.
// Invariant: current <= end.
struct TextInput {
  using char_type = char;

  std::char_traits<char>::int_type get_character() {
    return current < end ? std::char_traits<char>::to_int_type(*current++)
                         : std::char_traits<char>::eof();
  }

  const char* current;
  const char* end;
};

using Json = nlohmann::ordered_json;
using FastLexer = nlohmann::detail::lexer<Json, TextInput>;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ASCII that JSON strings hold as is: no control character, quote or backslash.
bool is_plain(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u >= 0x20 && u < 0x80 && c != '"' && c != '\\';
}

// The character that the two-character escape \\c stands for, or 0 (\\u escapes included).
char unescape(char c) {
  switch (c) {
    case '"':
    case '\\':
    case '/':
      return c;
    case 'b':
      return '\b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    default:
      return 0;
  }
}

// The length of the UTF-8 encoded code point at `p` (before `end`), or 0 if it is not one that
// RFC 3629 allows (overlong forms, UTF-16 surrogates and code points above U+10FFFF are not).
size_t utf8_length(const char* p, const char* end) {
  const auto byte = [p](size_t i) { return static_cast<unsigned char>(p[i]); };
  const unsigned lead = byte(0);
  unsigned second_low = 0x80, second_high = 0xBF;
  size_t length = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_low = 0xA0;   // overlong
    if (lead == 0xED) second_high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_low = 0x90;   // overlong
    if (lead == 0xF4) second_high = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < length || byte(1) < second_low || byte(1) > second_high)
    return 0;
  for (size_t i = 2; i < length; ++i)
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  return length;
}

using TokenType = nlohmann::detail::lexer_base<Json>::token_type;

// A number read in place by the fast lexer.
struct Number {
  TokenType type = TokenType::parse_error;  // value_integer, value_unsigned or value_float if read
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double real = 0;
  const char* end = nullptr;  // just after the number, in (start, text end]; null if not read
};

// Reads the JSON number -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? at `start` (a '-' or a
// digit, before `end`), ending it where the generic lexer ends it, converted by std::from_chars
// (correctly rounded, as strtod). Leaves type parse_error for what the generic reading of the
// text handles: malformed numbers and numbers beyond the range of double (under- or overflow).
Number read_number(const char* start, const char* end) {
  Number number;
  const char* const digits = start + (*start == '-');
  if (digits == end || !is_digit(*digits)) return number;
  const char* integer_end = digits + 1;
  if (*digits != '0')
    while (integer_end != end && is_digit(*integer_end)) ++integer_end;
  const bool integral =
      integer_end == end || (*integer_end != '.' && *integer_end != 'e' && *integer_end != 'E');
  if (integral) {
    const bool negative = *start == '-';
    const std::from_chars_result result =
        negative ? std::from_chars(start, integer_end, number.integer)
                 : std::from_chars(start, integer_end, number.unsigned_integer);
    number.type = negative ? TokenType::value_integer : TokenType::value_unsigned;
    if (result.ec != std::errc()) {  // beyond 64 bits: a double, as the generic lexer reads it
      if (std::from_chars(start, integer_end, number.real).ec != std::errc()) return {};
      number.type = TokenType::value_float;
    }
    number.end = integer_end;
    return number;
  }
  // A fraction needs a digit after the '.'. From there on from_chars reads what JSON allows,
  // and stops before a '.', 'e' or 'E' that JSON would reject (as after "1e+").
  if (*integer_end == '.' && (integer_end + 1 == end || !is_digit(integer_end[1]))) return number;
  const std::from_chars_result result = std::from_chars(start, end, number.real);
  if (result.ec != std::errc() ||
      (result.ptr != end && (*result.ptr == '.' || *result.ptr == 'e' || *result.ptr == 'E')))
    return {};
  number.type = TokenType::value_float;
  number.end = result.ptr;
  return number;
}

// Reads the rest of a string whose opening quote is just before `p` into `out`, up to `end`.
// Returns the position of the closing quote, or null for what the generic reading of the text
// handles: \u escapes, control characters, invalid UTF-8, a missing closing quote.
const char* read_string(const char* p, const char* end, std::string& out) {
  while (true) {
    const char* const run = p;
    while (p != end && is_plain(*p)) ++p;
    out.append(run, p);
    if (p == end) return nullptr;
    if (*p == '"') return p;
    if (*p == '\\') {
      const char escaped = p + 1 != end ? unescape(p[1]) : 0;
      if (escaped == 0) return nullptr;
      out += escaped;
      p += 2;
    } else if (const size_t length = utf8_length(p, end)) {
      out.append(p, length);
      p += length;
    } else {
      return nullptr;
    }
  }
}

}  // namespace
}  // namespace rl::json

using rl::json::FastLexer;

template <>
FastLexer::char_int_type FastLexer::get() {
  ++position.chars_read_total;
  if (next_unget)
    next_unget = false;
  else
    current = ia.get_character();
  return current;
}

template <>
void FastLexer::unget() {
  next_unget = true;
  --position.chars_read_total;
}

// scan() calls scan_number() and scan_string() right after get() returned the token's first
// character, which is always the one just before ia.current (unget() only makes get() return
// it again), so a token starts at ia.current - 1. Both end with the input just past the token
// they read.
template <>
FastLexer::token_type FastLexer::scan_number() {
  const char* const start = ia.current - 1;
  const rl::json::Number number = rl::json::read_number(start, ia.end);
  if (number.type == token_type::parse_error) return token_type::parse_error;
  value_integer = number.integer;
  value_unsigned = number.unsigned_integer;
  value_float = number.real;
  position.chars_read_total += static_cast<size_t>(number.end - start) - 1;
  ia.current = number.end;
  current = std::char_traits<char>::to_int_type(number.end[-1]);
  return number.type;
}

template <>
FastLexer::token_type FastLexer::scan_string() {
  token_buffer.clear();
  const char* const quote = rl::json::read_string(ia.current, ia.end, token_buffer);
  if (quote == nullptr) return token_type::parse_error;
  position.chars_read_total += static_cast<size_t>(quote - ia.current) + 1;
  ia.current = quote + 1;
  current = '"';
  return token_type::value_string;
}

namespace rl::json {

const char* type_name(Value::Type t) {
  switch (t) {
    case Value::Type::kNull:
      return "null";
    case Value::Type::kBool:
      return "bool";
    case Value::Type::kNumber:
      return "number";
    case Value::Type::kString:
      return "string";
    case Value::Type::kArray:
      return "array";
    case Value::Type::kObject:
      return "object";
  }
  return "?";
}

Value Value::array(std::vector<Value> items) {
  Value v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}

Value Value::object() {
  Value v;
  v.type_ = Type::kObject;
  return v;
}

void Value::expect(Type t) const {
  if (type_ != t)
    throw JsonError(std::string("expected a JSON ") + type_name(t) + ", got " + type_name(type_));
}

bool Value::as_bool() const {
  expect(Type::kBool);
  return bool_;
}

double Value::as_number() const {
  expect(Type::kNumber);
  switch (rep_) {
    case NumberRep::kSigned:
      return static_cast<double>(signed_);
    case NumberRep::kUnsigned:
      return static_cast<double>(unsigned_);
    case NumberRep::kReal:
      break;
  }
  return real_;
}

namespace {

constexpr double kTwoTo63 = 9223372036854775808.0;
constexpr double kTwoTo64 = 18446744073709551616.0;

[[noreturn]] void not_an_integer(const std::string& what) {
  throw JsonError("expected a JSON integer in the range of " + what);
}

}  // namespace

int64_t Value::as_int64() const {
  expect(Type::kNumber);
  switch (rep_) {
    case NumberRep::kSigned:
      return signed_;
    case NumberRep::kUnsigned:
      if (unsigned_ > static_cast<uint64_t>(INT64_MAX)) not_an_integer("int64");
      return static_cast<int64_t>(unsigned_);
    case NumberRep::kReal:
      break;
  }
  if (real_ != std::trunc(real_) || real_ < -kTwoTo63 || real_ >= kTwoTo63) not_an_integer("int64");
  return static_cast<int64_t>(real_);
}

uint64_t Value::as_uint64() const {
  expect(Type::kNumber);
  switch (rep_) {
    case NumberRep::kSigned:
      if (signed_ < 0) not_an_integer("uint64");
      return static_cast<uint64_t>(signed_);
    case NumberRep::kUnsigned:
      return unsigned_;
    case NumberRep::kReal:
      break;
  }
  if (real_ != std::trunc(real_) || real_ < 0 || real_ >= kTwoTo64) not_an_integer("uint64");
  return static_cast<uint64_t>(real_);
}

const std::string& Value::as_string() const {
  expect(Type::kString);
  return string_;
}

const std::vector<Value>& Value::items() const {
  expect(Type::kArray);
  return items_;
}

const std::vector<std::string>& Value::keys() const {
  expect(Type::kObject);
  return keys_;
}

namespace {

// Small arrays and objects are the common case (an observation row, a space, a version): their
// storage starts at room for 4 elements, which saves reallocating at 1 and 2.
template <typename T>
void grow_by_one(std::vector<T>& items) {
  if (items.capacity() == 0) items.reserve(4);
}

}  // namespace

Value& Value::push_back(Value v) {
  expect(Type::kArray);
  grow_by_one(items_);
  items_.push_back(std::move(v));
  return *this;
}

Value& Value::set(const std::string& key, Value v) {
  expect(Type::kObject);
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) {
      items_[i] = std::move(v);
      return *this;
    }
  grow_by_one(keys_);
  grow_by_one(items_);
  keys_.push_back(key);
  items_.push_back(std::move(v));
  return *this;
}

const Value* Value::find(std::string_view key) const {
  expect(Type::kObject);
  for (size_t i = 0; i < keys_.size(); ++i)
    if (keys_[i] == key) return &items_[i];
  return nullptr;
}

namespace {

// Reads the text like a const char* but records the furthest byte the parser has read, so the
// errors raised from Reader's callbacks (depth, duplicate keys) can name a byte offset as
// nlohmann's own syntax errors do.
class TrackingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  TrackingIterator(const char* at, const char** furthest) : at_(at), furthest_(furthest) {}
  reference operator*() const { return *at_; }
  TrackingIterator& operator++() {
    *furthest_ = ++at_;
    return *this;
  }
  bool operator==(const TrackingIterator& other) const { return at_ == other.at_; }

 private:
  const char* at_;
  const char** furthest_;
};

// nlohmann's message without its "[json.exception...] parse error at line 1, column 8: " prefix
// and without the offending token (which may be megabytes of hostile input): what is left says
// what was expected, e.g. "syntax error while parsing value - unexpected '}'; expected ...".
std::string syntax_message(const nlohmann::detail::exception& error, const std::string& token) {
  if (error.id == 406) return "number out of range";
  std::string text = error.what();
  const size_t column = text.find("column ");
  const size_t prefix_end = text.find(": ", column == std::string::npos ? 0 : column);
  if (prefix_end != std::string::npos) text.erase(0, prefix_end + 2);
  const std::string last_read = "; last read: '" + token + "'";
  if (const size_t at = text.find(last_read); at != std::string::npos)
    text.erase(at, last_read.size());
  return text;
}

}  // namespace

// Builds a Value from nlohmann's parse events (SAX), enforcing the rules nlohmann leaves to
// the caller: no duplicate keys and a nesting limit.
//
// The hot path, read_fast(), runs nlohmann's parser on the fast lexer (top of this file),
// which keeps no positions. At any error, syntax or ours, and at a token the fast lexer leaves
// out, it throws ReadAgain; parse() then reads the text again with read_generic(): nlohmann's
// unmodified lexer, through a TrackingIterator that records the furthest byte read, so an
// error stops at the same point and names its byte (nlohmann's syntax errors carry their own
// position; the events of ours, duplicate key and depth, do not).
class Reader final : public nlohmann::json_sax<Json> {
 public:
  struct ReadAgain {};

  Reader(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  Value read_fast() {
    nlohmann::detail::parser<Json, TextInput>({text_.data(), text_.data() + text_.size()}, nullptr,
                                              /*allow_exceptions_=*/true, /*skip_comments=*/false)
        .sax_parse(this, /*strict=*/true);
    return std::move(root_);
  }

  Value read_generic() {
    const char* furthest = text_.data();
    furthest_ = &furthest;
    Json::sax_parse(TrackingIterator(text_.data(), &furthest),
                    TrackingIterator(text_.data() + text_.size(), &furthest), this,
                    nlohmann::detail::input_format_t::json, /*strict=*/true,
                    /*ignore_comments=*/false);
    return std::move(root_);
  }

  bool null() override { return add(); }
  bool boolean(bool b) override { return add(b); }
  bool number_integer(number_integer_t x) override { return add(int64_t{x}); }
  bool number_unsigned(number_unsigned_t x) override { return add(uint64_t{x}); }
  // The text of a number is not used (the fast lexer leaves it out).
  bool number_float(number_float_t x, const string_t&) override { return add(x); }
  bool string(string_t& s) override { return add(std::move(s)); }
  bool binary(binary_t&) override { return false; }  // not produced by the JSON format

  bool start_object(std::size_t) override { return open(Value::object()); }
  bool key(string_t& k) override {
    Frame& frame = open_.back();
    if (frame.value->keys_.size() >= kLinearKeys) {
      if (frame.seen.empty())
        frame.seen.insert(frame.value->keys_.begin(), frame.value->keys_.end());
      if (!frame.seen.insert(k).second) fail("duplicate key '" + k + "'");
    } else {
      for (const std::string& existing : frame.value->keys_)
        if (existing == k) fail("duplicate key '" + k + "'");
    }
    pending_key_ = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(Value::array()); }
  bool end_array() override { return close(); }

  bool parse_error(std::size_t position, const std::string& last_token,
                   const nlohmann::detail::exception& error) override {
    if (furthest_ == nullptr) throw ReadAgain{};
    // nlohmann counts the characters read, the offending one included (or end of input).
    const size_t offset = std::min(position > 0 ? position - 1 : 0, text_.size());
    throw JsonError("bad JSON at byte " + std::to_string(offset) + ": " +
                    syntax_message(error, last_token));
  }

 private:
  struct Frame {
    Value* value;
    std::unordered_set<std::string> seen;  // keys of a large object, for duplicate checks
  };
  static constexpr size_t kLinearKeys = 16;  // below this, a linear scan is cheaper

  [[noreturn]] void fail(const std::string& what) const {
    if (furthest_ == nullptr) throw ReadAgain{};
    const size_t last_read = static_cast<size_t>(*furthest_ - text_.data());
    throw JsonError("bad JSON at byte " + std::to_string(last_read > 0 ? last_read - 1 : 0) + ": " +
                    what);
  }

  // Places `v` in the innermost open container (or as the root) and returns where it lives.
  // Constructs the value in place from Value's constructor arguments.
  template <typename... Args>
  Value* place(Args&&... args) {
    if (open_.empty()) {
      root_ = Value(std::forward<Args>(args)...);
      return &root_;
    }
    Value& parent = *open_.back().value;
    if (parent.is_object()) {
      grow_by_one(parent.keys_);
      parent.keys_.push_back(std::move(pending_key_));
    }
    grow_by_one(parent.items_);
    return &parent.items_.emplace_back(std::forward<Args>(args)...);
  }

  template <typename... Args>
  bool add(Args&&... args) {
    place(std::forward<Args>(args)...);
    return true;
  }

  // Pointers to open containers stay valid: a container only grows after its open child closed.
  bool open(Value&& container) {
    if (static_cast<int>(open_.size()) >= max_depth_)
      fail("nesting deeper than " + std::to_string(max_depth_));
    open_.push_back({place(std::move(container)), {}});
    return true;
  }

  bool close() {
    open_.pop_back();
    return true;
  }

  std::string_view text_;
  int max_depth_;
  const char** furthest_ = nullptr;  // set while reading through a TrackingIterator
  Value root_;
  std::vector<Frame> open_;
  std::string pending_key_;
};

// Writes a non-integral finite double as nlohmann's dump() lays it out (a decimal point for
// decimal exponents -4 to 15, else d.ddde+XX) with the digits of std::to_chars: the shortest
// that read back exactly, the nearer one (or the even one) of two equally short candidates.
// nlohmann's Grisu2 digits differ for under 1% of doubles (one digit longer, or the other
// candidate); to_chars is also faster. Writes at most 32 chars at `out`; returns the end.
char* write_real(char* out, double x) {
  char* const end = std::to_chars(out, out + 32, x, std::chars_format::scientific).ptr;
  char* const lead = out + (*out == '-');              // [-]d[.ddd]e(+|-)XX[X]
  char* const e = end[-4] == 'e' ? end - 4 : end - 5;  // the exponent has 2 or 3 digits
  const size_t count = e - lead > 1 ? static_cast<size_t>(e - lead) - 1 : 1;  // digits
  int exponent = 10 * (e[2] - '0') + (e[3] - '0');
  if (e + 5 == end) exponent = 10 * exponent + (e[4] - '0');
  const int point = e[1] == '-' ? 1 - exponent : 1 + exponent;  // digits before the point
  if (point > 15 || point <= -4) return end;  // scientific: nlohmann's layout already
  if (point == 1 && count > 1) return e;      // d.ddd
  if (point > 0) {
    const size_t before = static_cast<size_t>(point);
    std::memmove(lead + 1, lead + 2, std::min(before, count) - 1);  // over the '.'
    if (before < count) {
      lead[before] = '.';
      return e;
    }
    std::memset(lead + count, '0', before - count);  // integral: nlohmann adds ".0"
    lead[before] = '.';
    lead[before + 1] = '0';
    return lead + before + 2;
  }
  const size_t zeros = static_cast<size_t>(-point);  // 0.[000]ddd
  const char first = lead[0];
  std::memmove(lead + 3 + zeros, lead + 2, count - 1);
  lead[2 + zeros] = first;
  lead[0] = '0';
  lead[1] = '.';
  std::memset(lead + 2, '0', zeros);
  return lead + 2 + zeros + count;
}

// Writes a Value as compact JSON straight into a string, with nlohmann's serializer escaping
// strings (invalid UTF-8 becomes U+FFFD), so the text is what converting to nlohmann's tree and
// dumping it would give (but for integral doubles, written as integers, and the digits of a
// rare double: see write_real), without building that tree.
class Writer {
 public:
  std::string write(const Value& root) {
    append(root);
    return std::move(out_);
  }

 private:
  void append(const Value& v) {
    switch (v.type_) {
      case Value::Type::kNull:
        out_ += "null";
        return;
      case Value::Type::kBool:
        out_ += v.bool_ ? "true" : "false";
        return;
      case Value::Type::kNumber:
        return append_number(v);
      case Value::Type::kString:
        return append_string(v.string_);
      case Value::Type::kArray:
      case Value::Type::kObject: {
        const bool object = v.type_ == Value::Type::kObject;  // keys_ parallels items_
        out_ += object ? '{' : '[';
        for (size_t i = 0; i < v.items_.size(); ++i) {
          if (i > 0) out_ += ',';
          if (object) {
            append_string(v.keys_[i]);
            out_ += ':';
          }
          append(v.items_[i]);
        }
        out_ += object ? '}' : ']';
        return;
      }
    }
  }

  // Plain ASCII is written as is, which is what nlohmann's serializer writes for it;
  // anything else (escapes, UTF-8, invalid bytes) goes through that serializer.
  void append_string(const std::string& s) {
    if (std::all_of(s.begin(), s.end(), is_plain)) {
      out_ += '"';
      out_ += s;
      out_ += '"';
      return;
    }
    if (!strings_)
      strings_.emplace(nlohmann::detail::output_adapter<char>(out_), ' ',
                       Json::error_handler_t::replace);
    strings_->dump(Json(s), /*pretty_print=*/false, /*ensure_ascii=*/false, /*indent_step=*/0);
  }

  void append_number(const Value& v) {
    char buffer[64];
    char* end = buffer;
    switch (v.rep_) {
      case Value::NumberRep::kSigned:
        end = std::to_chars(buffer, buffer + sizeof buffer, v.signed_).ptr;
        break;
      case Value::NumberRep::kUnsigned:
        end = std::to_chars(buffer, buffer + sizeof buffer, v.unsigned_).ptr;
        break;
      case Value::NumberRep::kReal: {
        const double x = v.real_;
        if (!std::isfinite(x)) throw JsonError("cannot write a non-finite number as JSON");
        // Integral doubles print as integers (nlohmann would print "3.0").
        if (x == std::trunc(x) && std::fabs(x) < 9007199254740992.0)
          end = std::to_chars(buffer, buffer + sizeof buffer, static_cast<int64_t>(x)).ptr;
        else
          end = write_real(buffer, x);
        break;
      }
    }
    out_.append(buffer, static_cast<size_t>(end - buffer));
  }

  std::string out_;
  std::optional<nlohmann::detail::serializer<Json>> strings_;  // appends escaped strings to out_
};

namespace {

Value read_value(std::string_view text, int max_depth) {
  try {
    return Reader(text, max_depth).read_fast();
  } catch (const Reader::ReadAgain&) {
    // Rare: the text has an error or a token the fast lexer leaves out (a \u escape, a number
    // beyond double). The generic lexer reads it, or names the error's byte and what it expected.
    return Reader(text, max_depth).read_generic();
  }
}

// nlohmann's lexer takes a null byte outside a string for the end of the input (as at the end
// of a C string), so it accepts "{}\0anything". A null byte is never valid in JSON text, and
// after a value was read one can only be the byte where nlohmann stopped reading.
void reject_null_byte(std::string_view text) {
  const size_t at = text.find('\0');
  if (at == std::string_view::npos) return;
  throw JsonError("bad JSON at byte " + std::to_string(at) +
                  ": syntax error while parsing value - unexpected null byte; expected end of "
                  "input");
}

}  // namespace

Value parse(std::string_view text, int max_depth) {
  Value value = read_value(text, max_depth);
  reject_null_byte(text);
  return value;
}

std::string dump(const Value& value) { return Writer().write(value); }

}  // namespace rl::json
