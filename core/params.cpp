#include "core/params.h"

#include <sstream>
#include <stdexcept>

namespace rl {

const char* param_type_name(const ParamValue& value) {
  switch (value.index()) {
    case 0:
      return "bool";
    case 1:
      return "int";
    case 2:
      return "float";
    default:
      return "string";
  }
}

std::string param_to_string(const ParamValue& value) {
  std::ostringstream out;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>)
          out << (v ? "true" : "false");
        else
          out << v;
      },
      value);
  return out.str();
}

namespace {

std::string known_keys(const std::vector<ParamSpec>& specs) {
  if (specs.empty()) return "(this one takes no parameters)";
  std::string keys;
  for (const auto& s : specs) keys += (keys.empty() ? "" : ", ") + s.name;
  return keys;
}

// Converts `given` to the declared type of `spec` (int widens to float), or throws.
ParamValue coerce(const ParamSpec& spec, const ParamValue& given, const std::string& owner) {
  if (given.index() == spec.default_value.index()) return given;
  if (spec.default_value.index() == 2 && given.index() == 1)
    return static_cast<double>(std::get<int64_t>(given));
  throw std::invalid_argument(owner + ": parameter '" + spec.name + "' must be " +
                              param_type_name(spec.default_value) + ", got " +
                              param_type_name(given) + " (" + param_to_string(given) + ")");
}

void check_range(const ParamSpec& spec, const ParamValue& value, const std::string& owner) {
  if (value.index() == 1 || value.index() == 2) {
    const double x = value.index() == 1 ? static_cast<double>(std::get<int64_t>(value))
                                        : std::get<double>(value);
    if ((spec.min && x < *spec.min) || (spec.max && x > *spec.max)) {
      std::ostringstream msg;
      auto bound = [](const std::optional<double>& limit, const char* unlimited) {
        if (!limit) return std::string(unlimited);
        std::ostringstream text;
        text << *limit;  // 1e+09, not 1000000000.000000.
        return text.str();
      };
      msg << owner << ": parameter '" << spec.name << "' = " << x << " is out of range ["
          << bound(spec.min, "-inf") << ", " << bound(spec.max, "inf") << "]";
      throw std::invalid_argument(msg.str());
    }
  }
  if (value.index() == 3 && !spec.choices.empty()) {
    const auto& s = std::get<std::string>(value);
    for (const auto& c : spec.choices)
      if (c == s) return;
    std::string valid;
    for (const auto& c : spec.choices) valid += (valid.empty() ? "" : ", ") + c;
    throw std::invalid_argument(owner + ": parameter '" + spec.name + "' = '" + s +
                                "' is not one of: " + valid);
  }
}

}  // namespace

Params Params::resolve(const std::vector<ParamSpec>& specs,
                       const std::map<std::string, ParamValue>& given, const std::string& owner) {
  Params params;
  for (const auto& spec : specs) params.values_[spec.name] = spec.default_value;
  for (const auto& [name, value] : given) {
    const ParamSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == name) spec = &s;
    if (!spec)
      throw std::invalid_argument(owner + ": unknown parameter '" + name +
                                  "'; valid parameters: " + known_keys(specs));
    ParamValue converted = coerce(*spec, value, owner);
    check_range(*spec, converted, owner);
    params.values_[name] = std::move(converted);
  }
  return params;
}

const ParamValue& Params::at(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::invalid_argument("no parameter named '" + name + "'");
  return it->second;
}

bool Params::get_bool(const std::string& name) const { return std::get<bool>(at(name)); }

int64_t Params::get_int(const std::string& name) const { return std::get<int64_t>(at(name)); }

double Params::get_float(const std::string& name) const {
  const auto& v = at(name);
  if (v.index() == 1) return static_cast<double>(std::get<int64_t>(v));
  return std::get<double>(v);
}

const std::string& Params::get_string(const std::string& name) const {
  return std::get<std::string>(at(name));
}

}  // namespace rl
