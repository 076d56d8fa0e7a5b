#include "core/key_value.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "core/registry.h"

namespace rl {

std::optional<bool> parse_bool(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "true") return true;
  if (lower == "false") return false;
  return std::nullopt;
}

std::optional<double> parse_float(const std::string& text) {
  if (text.empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> parse_int(const std::string& text) {
  int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc() && ptr == text.data() + text.size()) return value;
  // Float notation with an exact integer value (1e3); 9e18 keeps clear of int64's limit.
  const auto as_float = parse_float(text);
  if (!as_float || std::floor(*as_float) != *as_float || std::fabs(*as_float) > 9.0e18) {
    return std::nullopt;
  }
  return static_cast<int64_t>(*as_float);
}

std::optional<std::pair<std::string, std::string>> split_key_value(const std::string& argument) {
  const size_t eq = argument.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return std::make_pair(argument.substr(0, eq), argument.substr(eq + 1));
}

ParamValue parse_param_text(const ParamSpec& spec, const std::string& text) {
  auto fail = [&](const char* expected) -> ParamValue {
    throw std::invalid_argument(spec.name + ": expected " + expected + ", got '" + text + "'");
  };
  switch (spec.default_value.index()) {
    case 0:
      if (const auto value = parse_bool(text)) return *value;
      return fail("true or false");
    case 1:
      if (const auto value = parse_int(text)) return *value;
      return fail("an integer (e.g. 500 or 1e3)");
    case 2:
      if (const auto value = parse_float(text)) return *value;
      return fail("a number (e.g. 0.5 or 1e-4)");
    default:
      return text;
  }
}

std::map<std::string, ParamValue> parse_key_values(const std::vector<ParamSpec>& specs,
                                                   const std::vector<std::string>& arguments,
                                                   const std::string& flag,
                                                   const std::string& owner) {
  std::map<std::string, ParamValue> values;
  for (const std::string& argument : arguments) {
    const auto key_value = split_key_value(argument);
    if (!key_value) {
      throw std::invalid_argument(
          flag + " '" + argument + "': expected KEY=VALUE, e.g. " +
          (specs.empty()
               ? std::string("seed=3")
               : specs.front().name + "=" + param_to_string(specs.front().default_value)));
    }
    const auto& [key, text] = *key_value;
    try {
      const auto spec = std::find_if(specs.begin(), specs.end(),
                                     [&](const ParamSpec& s) { return s.name == key; });
      // An unknown key: Params::resolve names it with the valid ones.
      if (spec == specs.end()) Params::resolve(specs, {{key, text}}, owner);
      const ParamValue value = parse_param_text(*spec, text);
      Params::resolve(specs, {{key, value}}, owner);  // Range and choices.
      values[key] = value;
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(flag + " " + argument + ": " + e.what());
    }
  }
  return values;
}

std::map<std::string, ParamValue> parse_env_params(const std::string& env_id,
                                                   const std::vector<std::string>& arguments,
                                                   const std::string& flag) {
  return parse_key_values(EnvRegistry::global().find(env_id).params, arguments, flag, env_id);
}

}  // namespace rl
