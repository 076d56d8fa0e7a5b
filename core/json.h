// A small, strict JSON value, parser and writer for protocol handshakes and error frames.
// Strict means RFC 8259 only: no comments, no trailing commas, no NaN/Infinity literals, no
// duplicate object keys, valid UTF-8 in strings, and a nesting-depth limit so hostile input
// cannot exhaust the stack.
#pragma once

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
  Value(double x) : type_(Type::kNumber), number_(x) {}
  Value(int x) : Value(static_cast<double>(x)) {}
  Value(int64_t x) : Value(static_cast<double>(x)) {}
  Value(uint32_t x) : Value(static_cast<double>(x)) {}
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
  double as_number() const;
  const std::string& as_string() const;
  const std::vector<Value>& items() const;  // array elements

  // Arrays: appends an element. Objects: sets `key` (replacing an existing one).
  Value& push_back(Value v);
  Value& set(const std::string& key, Value v);

  // Objects: the member named `key`, or nullptr. Throws JsonError on a non-object.
  const Value* find(std::string_view key) const;
  const std::vector<std::string>& keys() const;  // object member names in insertion order

 private:
  void expect(Type t) const;

  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0.0;
  std::string string_;
  std::vector<Value> items_;       // array elements, or object member values
  std::vector<std::string> keys_;  // object member names (parallel to items_)
};

// Name of a type for messages: "null", "bool", "number", "string", "array", "object".
const char* type_name(Value::Type t);

// Parses exactly one JSON value (surrounding whitespace allowed). Throws JsonError.
Value parse(std::string_view text, int max_depth = 32);

// Compact serialization. Integral numbers below 2^53 print without a fraction; other numbers
// print in the shortest form that reads back exactly. Throws JsonError for NaN or infinity.
std::string dump(const Value& value);

}  // namespace rl::json
