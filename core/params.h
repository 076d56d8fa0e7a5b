// Typed, documented parameters for environments (and anything else built from a name).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace rl {

using ParamValue = std::variant<bool, int64_t, double, std::string>;

// Declaration of one parameter: name, default (which also fixes the type), one-line doc and,
// for numbers, an optional inclusive range; for strings, an optional list of allowed values.
struct ParamSpec {
  std::string name;
  ParamValue default_value;
  std::string doc;
  std::optional<double> min;
  std::optional<double> max;
  std::vector<std::string> choices;
};

// Type name of a parameter value: "bool", "int", "float" or "string".
const char* param_type_name(const ParamValue& value);
// Printable form of a value.
std::string param_to_string(const ParamValue& value);

// A set of parameter values, validated against specs. Getters throw std::invalid_argument
// when the name is unknown or the type differs (an int is accepted where a float is declared).
class Params {
 public:
  Params() = default;

  // Fills defaults from `specs`, then applies `given`. Throws std::invalid_argument naming the
  // offending key with the valid keys, or the expected type, or the allowed range.
  static Params resolve(const std::vector<ParamSpec>& specs,
                        const std::map<std::string, ParamValue>& given, const std::string& owner);

  bool get_bool(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;

  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

}  // namespace rl
