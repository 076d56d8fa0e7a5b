#include "core/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>

// nlohmann's lexer converts each number with a fraction or exponent by std::strtod. For the
// 17-digit numbers that floats widen to, glibc's strtod takes its exact multi-precision path
// and is most of the parse time. std::from_chars returns the same correctly rounded double
// several times faster, so this explicit specialization swaps it in for the lexer that
// parse() instantiates (plain `const char*` input; no other code instantiates it). Whatever
// from_chars does not take in full goes to std::strtod as before: values out of range
// (nlohmann reports overflow, accepts underflow) and a locale's decimal comma, which nlohmann
// writes into the token in place of '.'. The specialization names a private member of
// nlohmann's lexer: if a newer nlohmann drops it, this fails to compile, never silently.
template <>
[[gnu::nonnull]] void nlohmann::detail::
    lexer<nlohmann::ordered_json, nlohmann::detail::iterator_input_adapter<const char*>>::strtof(
        double& f, const char* str, char** endptr) noexcept {
  const char* const end = str + std::strlen(str);
  const std::from_chars_result result = std::from_chars(str, end, f);
  if (result.ec == std::errc() && result.ptr == end) {
    *endptr = const_cast<char*>(end);
    return;
  }
  f = std::strtod(str, endptr);
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

Value& Value::push_back(Value v) {
  expect(Type::kArray);
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

using Json = nlohmann::ordered_json;

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
// The events carry no position, so an error of ours (duplicate key, depth) names the byte the
// parser had reached only when the text is read through a TrackingIterator, which costs a
// store per byte and nlohmann's generic iterator input. The hot path therefore reads the text
// as plain `const char*` and, at such an error, throws OffsetNeeded; parse() then reads the
// text again with tracking, which stops at the same event and names the byte.
class Reader final : public nlohmann::json_sax<Json> {
 public:
  struct OffsetNeeded {};

  Reader(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  Value read() {
    sax_parse(text_.data(), text_.data() + text_.size());
    return std::move(root_);
  }

  Value read_tracking_offsets() {
    const char* furthest = text_.data();
    furthest_ = &furthest;
    sax_parse(TrackingIterator(text_.data(), &furthest),
              TrackingIterator(text_.data() + text_.size(), &furthest));
    return std::move(root_);
  }

  bool null() override { return add(Value()); }
  bool boolean(bool b) override { return add(Value(b)); }
  bool number_integer(number_integer_t x) override { return add(Value(int64_t{x})); }
  bool number_unsigned(number_unsigned_t x) override { return add(Value(uint64_t{x})); }
  bool number_float(number_float_t x, const string_t&) override { return add(Value(x)); }
  bool string(string_t& s) override { return add(Value(std::move(s))); }
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

  template <typename Iterator>
  void sax_parse(Iterator first, Iterator last) {
    Json::sax_parse(first, last, this, nlohmann::detail::input_format_t::json, /*strict=*/true,
                    /*ignore_comments=*/false);
  }

  [[noreturn]] void fail(const std::string& what) const {
    if (furthest_ == nullptr) throw OffsetNeeded{};
    const size_t last_read = static_cast<size_t>(*furthest_ - text_.data());
    throw JsonError("bad JSON at byte " + std::to_string(last_read > 0 ? last_read - 1 : 0) + ": " +
                    what);
  }

  // Places `v` in the innermost open container (or as the root) and returns where it lives.
  Value* place(Value&& v) {
    if (open_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Value& parent = *open_.back().value;
    if (parent.is_object()) parent.keys_.push_back(std::move(pending_key_));
    parent.items_.push_back(std::move(v));
    return &parent.items_.back();
  }

  bool add(Value&& v) {
    place(std::move(v));
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

// Writes a Value as compact JSON straight into a string, with nlohmann doing what it does
// for its own dump(): its serializer escapes strings (invalid UTF-8 becomes U+FFFD) and its
// to_chars formats non-integral doubles, so the text is byte for byte what converting to
// nlohmann's tree and dumping it would give, without building that tree.
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

  // Plain printable ASCII is written as is, which is what nlohmann's serializer writes for it;
  // anything else (escapes, UTF-8, invalid bytes) goes through that serializer.
  void append_string(const std::string& s) {
    const bool plain = std::all_of(
        s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
    if (plain) {
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
          end = nlohmann::detail::to_chars(buffer, buffer + sizeof buffer, x);
        break;
      }
    }
    out_.append(buffer, end);
  }

  std::string out_;
  std::optional<nlohmann::detail::serializer<Json>> strings_;  // appends escaped strings to out_
};

Value parse(std::string_view text, int max_depth) {
  try {
    return Reader(text, max_depth).read();
  } catch (const Reader::OffsetNeeded&) {
    // Rare: one of our rules failed. Read again, tracking offsets, to name the byte.
    return Reader(text, max_depth).read_tracking_offsets();
  }
}

std::string dump(const Value& value) { return Writer().write(value); }

}  // namespace rl::json
