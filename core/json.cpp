#include "core/json.h"

#include <cctype>
#include <charconv>
#include <cmath>

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
  return number_;
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

class Parser {
 public:
  Parser(std::string_view text, int max_depth) : text_(text), max_depth_(max_depth) {}

  Value parse_document() {
    skip_space();
    Value v = parse_value(0);
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the JSON value");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw JsonError("bad JSON at byte " + std::to_string(pos_) + ": " + what);
  }

  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }

  void skip_space() {
    while (!at_end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r'))
      ++pos_;
  }

  void expect_literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) fail("expected '" + std::string(word) + "'");
    pos_ += word.size();
  }

  Value parse_value(int depth) {
    if (depth > max_depth_) fail("nesting deeper than " + std::to_string(max_depth_));
    switch (peek()) {
      case '{':
        return parse_object(depth);
      case '[':
        return parse_array(depth);
      case '"':
        return Value(parse_string());
      case 't':
        expect_literal("true");
        return Value(true);
      case 'f':
        expect_literal("false");
        return Value(false);
      case 'n':
        expect_literal("null");
        return Value();
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return Value(parse_number());
        fail(at_end() ? "unexpected end of input" : "unexpected character");
    }
  }

  Value parse_object(int depth) {
    Value obj = Value::object();
    ++pos_;  // '{'
    skip_space();
    if (peek() == '}') {
      ++pos_;
      return obj;
    }
    while (true) {
      skip_space();
      if (peek() != '"') fail("expected a string key");
      std::string key = parse_string();
      if (obj.find(key)) fail("duplicate key '" + key + "'");
      skip_space();
      if (peek() != ':') fail("expected ':'");
      ++pos_;
      skip_space();
      obj.set(key, parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return obj;
      }
      fail("expected ',' or '}'");
    }
  }

  Value parse_array(int depth) {
    Value arr = Value::array();
    ++pos_;  // '['
    skip_space();
    if (peek() == ']') {
      ++pos_;
      return arr;
    }
    while (true) {
      skip_space();
      arr.push_back(parse_value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return arr;
      }
      fail("expected ',' or ']'");
    }
  }

  double parse_number() {
    const size_t start = pos_;
    if (peek() == '-') ++pos_;
    if (peek() == '0') {
      ++pos_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    } else {
      fail("expected a digit");
    }
    if (peek() == '.') {
      ++pos_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected a digit after '.'");
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++pos_;
      if (peek() == '+' || peek() == '-') ++pos_;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("expected an exponent digit");
      while (std::isdigit(static_cast<unsigned char>(peek()))) ++pos_;
    }
    double value = 0.0;
    const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (ec != std::errc() || end != text_.data() + pos_) {
      pos_ = start;
      fail("number out of range");
    }
    return value;
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > text_.size()) fail("truncated \\u escape");
    unsigned code = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = text_[pos_++];
      code <<= 4;
      if (c >= '0' && c <= '9')
        code |= c - '0';
      else if (c >= 'a' && c <= 'f')
        code |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        code |= c - 'A' + 10;
      else
        fail("bad hex digit in \\u escape");
    }
    return code;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  void parse_escape(std::string& out) {
    const char c = peek();
    ++pos_;
    switch (c) {
      case '"':
        out += '"';
        return;
      case '\\':
        out += '\\';
        return;
      case '/':
        out += '/';
        return;
      case 'b':
        out += '\b';
        return;
      case 'f':
        out += '\f';
        return;
      case 'n':
        out += '\n';
        return;
      case 'r':
        out += '\r';
        return;
      case 't':
        out += '\t';
        return;
      case 'u':
        break;
      default:
        --pos_;
        fail("bad escape sequence");
    }
    unsigned cp = parse_hex4();
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (text_.substr(pos_, 2) != "\\u") fail("unpaired UTF-16 surrogate");
      pos_ += 2;
      const unsigned low = parse_hex4();
      if (low < 0xDC00 || low > 0xDFFF) fail("unpaired UTF-16 surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      fail("unpaired UTF-16 surrogate");
    }
    append_utf8(out, cp);
  }

  // Copies one UTF-8 encoded code point, rejecting overlong forms and surrogates.
  void copy_utf8(std::string& out) {
    const auto lead = static_cast<unsigned char>(text_[pos_]);
    int extra = 0;
    unsigned cp = 0;
    if (lead >= 0xC2 && lead <= 0xDF)
      extra = 1, cp = lead & 0x1F;
    else if (lead >= 0xE0 && lead <= 0xEF)
      extra = 2, cp = lead & 0x0F;
    else if (lead >= 0xF0 && lead <= 0xF4)
      extra = 3, cp = lead & 0x07;
    else
      fail("invalid UTF-8 in string");
    if (pos_ + extra >= text_.size()) fail("truncated UTF-8 in string");
    for (int i = 1; i <= extra; ++i) {
      const auto c = static_cast<unsigned char>(text_[pos_ + i]);
      if ((c & 0xC0) != 0x80) fail("invalid UTF-8 in string");
      cp = (cp << 6) | (c & 0x3F);
    }
    const unsigned min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      fail("invalid UTF-8 in string");
    out.append(text_.substr(pos_, extra + 1));
    pos_ += extra + 1;
  }

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (at_end()) fail("unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c < 0x20) fail("control character in string");
      if (c == '\\') {
        ++pos_;
        parse_escape(out);
      } else if (c < 0x80) {
        out += static_cast<char>(c);
        ++pos_;
      } else {
        copy_utf8(out);
      }
    }
  }

  std::string_view text_;
  int max_depth_;
  size_t pos_ = 0;
};

void dump_string(const std::string& s, std::string& out) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += hex[c >> 4];
          out += hex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void dump_number(double x, std::string& out) {
  if (!std::isfinite(x)) throw JsonError("cannot write a non-finite number as JSON");
  char buf[32];
  std::to_chars_result r;
  if (x == std::trunc(x) && std::fabs(x) < 9007199254740992.0)
    r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(x));
  else
    r = std::to_chars(buf, buf + sizeof buf, x);
  out.append(buf, r.ptr);
}

void dump_into(const Value& v, std::string& out) {
  switch (v.type()) {
    case Value::Type::kNull:
      out += "null";
      return;
    case Value::Type::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Type::kNumber:
      dump_number(v.as_number(), out);
      return;
    case Value::Type::kString:
      dump_string(v.as_string(), out);
      return;
    case Value::Type::kArray: {
      out += '[';
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out += ',';
        first = false;
        dump_into(item, out);
      }
      out += ']';
      return;
    }
    case Value::Type::kObject: {
      out += '{';
      const auto& keys = v.keys();
      for (size_t i = 0; i < keys.size(); ++i) {
        if (i) out += ',';
        dump_string(keys[i], out);
        out += ':';
        dump_into(*v.find(keys[i]), out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

Value parse(std::string_view text, int max_depth) {
  return Parser(text, max_depth).parse_document();
}

std::string dump(const Value& value) {
  std::string out;
  dump_into(value, out);
  return out;
}

}  // namespace rl::json
