// A small JSON value for protocol handshakes, error frames and run summaries, read and written
// by nlohmann-json (kept out of this header: it is large and slow to compile).
// Parsing is strict RFC 8259: no comments, no trailing commas, no NaN/Infinity literals, valid
// UTF-8 in strings, plus two rules of our own: duplicate object keys are rejected and nesting
// is limited so hostile input cannot exhaust the stack. Byte-size limits belong to whoever
// reads the text (the wire codec checks a frame's length before allocating its body).
// Integers are exact: 64-bit values (seeds) survive a write/read round trip unchanged.
#pragma once

#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace rl::json {

// Thrown by parse() for malformed text; what() names the byte offset and what was expected.
// Also thrown by the typed accessors of Value when the type differs.
class JsonError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Value {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };

  Value() = default;  // null
  Value(bool b) : type_(Type::kBool), bool_(b) {}
  Value(double x) : type_(Type::kNumber), real_(x) {}
  // Integers are stored exactly (not as double), signed or unsigned as given.
  template <std::integral T>
  requires(!std::same_as<T, bool> && !std::same_as<T, char>) Value(T x) : type_(Type::kNumber) {
    if constexpr (std::is_signed_v<T>) {
      rep_ = NumberRep::kSigned;
      signed_ = x;
    } else {
      rep_ = NumberRep::kUnsigned;
      unsigned_ = x;
    }
  }
  Value(const char* s) : type_(Type::kString), string_(s) {}
  Value(std::string s) : type_(Type::kString), string_(std::move(s)) {}

  static Value array(std::vector<Value> items = {});
  static Value object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  // Typed accessors; throw JsonError when the value has another type.
  bool as_bool() const;
  double as_number() const;  // integers beyond 2^53 round to the nearest double
  // Exact integer reads; throw JsonError unless the number is integral and fits the type
  // (a written 1e3 counts as the integer 1000).
  int64_t as_int64() const;
  uint64_t as_uint64() const;
  const std::string& as_string() const;
  const std::vector<Value>& items() const;  // array elements

  // Arrays: appends an element. Objects: sets `key` (replacing an existing one).
  Value& push_back(Value v);
  Value& set(const std::string& key, Value v);

  // Objects: the member named `key`, or nullptr. Throws JsonError on a non-object.
  const Value* find(std::string_view key) const;
  const std::vector<std::string>& keys() const;  // object member names in insertion order

 private:
  friend class Reader;  // json.cpp: builds values from the parser's events
  friend class Writer;  // json.cpp: hands values to the serializer

  enum class NumberRep : uint8_t { kReal, kSigned, kUnsigned };

  void expect(Type t) const;

  Type type_ = Type::kNull;
  NumberRep rep_ = NumberRep::kReal;
  bool bool_ = false;
  union {
    double real_ = 0.0;
    int64_t signed_;
    uint64_t unsigned_;
  };
  std::string string_;
  std::vector<Value> items_;       // array elements, or object member values
  std::vector<std::string> keys_;  // object member names (parallel to items_)
};

// Name of a type for messages: "null", "bool", "number", "string", "array", "object".
const char* type_name(Value::Type t);

// Parses exactly one JSON value (surrounding whitespace allowed), with at most `max_depth`
// arrays/objects nested inside each other. Throws JsonError naming the byte offset.
Value parse(std::string_view text, int max_depth = 32);

// Compact serialization. Integers print exactly; so do integral doubles below 2^53 (without a
// fraction); other numbers print in the shortest form that reads back exactly. Invalid UTF-8
// in a string is written as U+FFFD, so the output is always valid JSON. Throws JsonError for
// NaN or infinity.
std::string dump(const Value& value);

}  // namespace rl::json
