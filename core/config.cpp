#include "core/config.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <type_traits>

#include "core/key_value.h"

namespace rl {

struct ConfigDocument::State {
  std::string source;
  YAML::Node root;
  YAML::Node resolved = YAML::Node(YAML::NodeType::Map);
  std::map<std::string, std::string> overrides;  // Key path -> "--set" assignment text.
  std::vector<ConfigField> fields;
};

namespace {

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string format_number(double x) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", x);
  return buffer;
}

std::string mark_text(const std::string& source, const YAML::Mark& mark) {
  if (mark.is_null()) return source;
  return source + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

// Finds `key` in a mapping without inserting it (non-const operator[] would).
bool find_child(const YAML::Node& map, const std::string& key, YAML::Node* value,
                YAML::Node* key_node) {
  if (!map.IsMap()) return false;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first.Scalar() == key) {
      // reset() rebinds; operator= would write into the node the handle refers to.
      if (value) value->reset(it->second);
      if (key_node) key_node->reset(it->first);
      return true;
    }
  }
  return false;
}

const char* node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return node.Tag() == "!" ? "a quoted string" : "a scalar";
    default:
      return "nothing";
  }
}

bool is_plain_scalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

// Built by appending: GCC 12 warns falsely (-Wrestrict) on "[" + std::string temporaries.
std::string bracket_range(const std::string& min, const std::string& max) {
  std::string out = "[";
  out.append(min).append(", ").append(max).append("]");
  return out;
}

std::string bracket_list(const std::vector<std::string>& items) {
  std::string out = "[";
  out.append(join(items, ", ")).append("]");
  return out;
}

std::string int_range(int64_t min, int64_t max) {
  return bracket_range(std::to_string(min), std::to_string(max));
}

std::string float_range(double min, double max) {
  return bracket_range(format_number(min), format_number(max));
}

std::vector<std::string> split_path(const std::string& path, const std::string& assignment) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : path + ".") {
    if (c != '.') {
      current += c;
      continue;
    }
    if (current.empty()) {
      throw ConfigError("--set " + assignment + ": key path '" + path + "' has an empty part");
    }
    parts.push_back(current);
    current.clear();
  }
  return parts;
}

}  // namespace

std::pair<std::string, std::string> split_assignment(const std::string& assignment) {
  auto key_value = split_key_value(assignment);
  if (!key_value) {
    throw ConfigError("--set " + assignment + ": expected KEY.PATH=VALUE, e.g. agent.lr=1e-4");
  }
  return *std::move(key_value);
}

// ---- ConfigDocument -------------------------------------------------------------------------

ConfigDocument ConfigDocument::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open config file (no such file or unreadable)");
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

ConfigDocument ConfigDocument::parse(const std::string& text, const std::string& source) {
  auto state = std::make_shared<State>();
  state->source = source;
  try {
    state->root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(mark_text(source, e.mark) + ": invalid YAML: " + e.msg);
  }
  if (state->root.IsNull()) throw ConfigError(source + ": the config is empty");
  if (!state->root.IsMap()) {
    throw ConfigError(mark_text(source, state->root.Mark()) +
                      ": the top level must be a mapping of keys, found " + node_kind(state->root));
  }
  return ConfigDocument(std::move(state));
}

void ConfigDocument::apply_override(const std::string& assignment) {
  const auto [path, value_text] = split_assignment(assignment);
  const std::vector<std::string> parts = split_path(path, assignment);
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::Exception& e) {
    throw ConfigError("--set " + assignment + ": cannot parse the value as YAML: " + e.msg);
  }
  YAML::Node node = state_->root;
  std::string walked;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (walked.empty() ? "" : ".") + parts[i];
    YAML::Node child;
    if (!find_child(node, parts[i], &child, nullptr)) {
      node[parts[i]] = YAML::Node(YAML::NodeType::Map);
      find_child(node, parts[i], &child, nullptr);
    } else if (child.IsNull()) {
      node[parts[i]] = YAML::Node(YAML::NodeType::Map);
      find_child(node, parts[i], &child, nullptr);
    } else if (!child.IsMap()) {
      throw ConfigError("--set " + assignment + ": '" + walked + "' is " + node_kind(child) +
                        ", not a mapping, so '" + path + "' cannot be set");
    }
    node.reset(child);
  }
  node[parts.back()] = value;
  state_->overrides[path] = assignment;
}

ConfigSection ConfigDocument::root() {
  return ConfigSection(state_, state_->root, state_->resolved, "");
}

std::string ConfigDocument::resolved_yaml() const {
  YAML::Emitter emitter;
  emitter << state_->resolved;
  return std::string(emitter.c_str()) + "\n";
}

const std::vector<ConfigField>& ConfigDocument::fields() const { return state_->fields; }
const std::string& ConfigDocument::source() const { return state_->source; }

// ---- ConfigSection --------------------------------------------------------------------------

ConfigSection::ConfigSection(std::shared_ptr<ConfigDocument::State> state, YAML::Node node,
                             YAML::Node out, std::string path)
    : state_(std::move(state)),
      node_(node),
      out_(out),
      path_(std::move(path)),
      known_(std::make_shared<std::vector<std::string>>()) {
  if (!node_.IsMap()) return;
  std::vector<std::string> seen;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      throw ConfigError(where(it->first, path_of(key)) + ": duplicate key '" + path_of(key) + "'");
    }
    seen.push_back(key);
  }
}

std::string ConfigSection::path_of(const std::string& key) const {
  if (key.empty()) return path_;
  return path_.empty() ? key : path_ + "." + key;
}

std::string ConfigSection::where(const YAML::Node& node, const std::string& path) const {
  // Values set on the command line have no file position: name the --set instead.
  for (const auto& [override_path, assignment] : state_->overrides) {
    if (path == override_path || path.rfind(override_path + ".", 0) == 0) {
      return "--set " + assignment;
    }
  }
  return mark_text(state_->source, node.Mark());
}

std::string ConfigSection::where(const std::string& key) const {
  YAML::Node value;
  if (!key.empty() && find_child(node_, key, &value, nullptr)) return where(value, path_of(key));
  return where(node_, path_);
}

void ConfigSection::fail(const std::string& key, const std::string& message) const {
  throw ConfigError(where(key) + ": " + path_of(key) + ": " + message);
}

bool ConfigSection::has(const std::string& key) const {
  return find_child(node_, key, nullptr, nullptr);
}

std::vector<std::string> ConfigSection::keys() const {
  std::vector<std::string> out;
  if (!node_.IsMap()) return out;
  for (auto it = node_.begin(); it != node_.end(); ++it) out.push_back(it->first.Scalar());
  return out;
}

YAML::Node ConfigSection::lookup(const std::string& key, const std::string& type,
                                 const std::string& default_value, const std::string& valid,
                                 const std::string& doc) {
  if (std::find(known_->begin(), known_->end(), key) == known_->end()) {
    known_->push_back(key);
    state_->fields.push_back({path_of(key), type, default_value, valid, doc});
  }
  YAML::Node value;
  if (!find_child(node_, key, &value, nullptr)) return YAML::Node();
  return value;
}

template <typename T>
void ConfigSection::resolve(const std::string& key, const T& value) {
  if constexpr (std::is_floating_point_v<T>) {
    // Shortest text that reads back exactly: 0.99, not 0.98999999999999999.
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    std::string text(buffer, result.ptr);
    if (text.find_first_of(".eEn") == std::string::npos) text += ".0";  // Keep it a float.
    out_[key] = text;
  } else {
    out_[key] = value;
  }
}

void ConfigSection::set_resolved(const std::string& key, const YAML::Node& value) {
  out_[key] = value;
}

bool ConfigSection::get_bool(const std::string& key, bool default_value, const std::string& doc) {
  const YAML::Node node = lookup(key, "bool", default_value ? "true" : "false", "true|false", doc);
  bool value = default_value;
  if (node && !node.IsNull()) {
    const auto parsed = is_plain_scalar(node) ? parse_bool(node.Scalar()) : std::nullopt;
    if (!parsed)
      fail(key, std::string("expected true or false, got ") + node_kind(node) +
                    (node.IsScalar() ? " '" + node.Scalar() + "'" : ""));
    value = *parsed;
  }
  resolve(key, value);
  return value;
}

int64_t ConfigSection::get_int(const std::string& key, int64_t default_value,
                               const std::string& doc, int64_t min, int64_t max) {
  const YAML::Node node =
      lookup(key, "int", std::to_string(default_value), int_range(min, max), doc);
  int64_t value = default_value;
  if (node && !node.IsNull()) {
    const auto parsed = is_plain_scalar(node) ? parse_int(node.Scalar()) : std::nullopt;
    if (!parsed)
      fail(key, std::string("expected an integer, got ") + node_kind(node) +
                    (node.IsScalar() ? " '" + node.Scalar() + "'" : ""));
    value = *parsed;
    if (value < min || value > max) {
      fail(key, "must be in " + int_range(min, max) + ", got " + std::to_string(value));
    }
  }
  resolve(key, value);
  return value;
}

int64_t ConfigSection::get_required_int(const std::string& key, const std::string& doc, int64_t min,
                                        int64_t max) {
  if (!has(key)) {
    lookup(key, "int", "", int_range(min, max), doc);
    fail(key, "is required (an integer in " + int_range(min, max) + "): " + doc);
  }
  return get_int(key, 0, doc, min, max);
}

double ConfigSection::get_float(const std::string& key, double default_value,
                                const std::string& doc, double min, double max) {
  const YAML::Node node =
      lookup(key, "float", format_number(default_value), float_range(min, max), doc);
  double value = default_value;
  if (node && !node.IsNull()) {
    const auto parsed = is_plain_scalar(node) ? parse_float(node.Scalar()) : std::nullopt;
    if (!parsed)
      fail(key, std::string("expected a number, got ") + node_kind(node) +
                    (node.IsScalar() ? " '" + node.Scalar() + "'" : ""));
    value = *parsed;
    if (value < min || value > max) {
      fail(key, "must be in " + float_range(min, max) + ", got " + node.Scalar());
    }
  }
  resolve(key, value);
  return value;
}

std::string ConfigSection::get_string(const std::string& key, const std::string& default_value,
                                      const std::string& doc) {
  const YAML::Node node = lookup(key, "string", default_value, "", doc);
  std::string value = default_value;
  if (node && !node.IsNull()) {
    if (!node.IsScalar()) fail(key, std::string("expected a string, got ") + node_kind(node));
    value = node.Scalar();
  }
  resolve(key, value);
  return value;
}

std::string ConfigSection::get_required_string(const std::string& key, const std::string& doc) {
  if (!has(key)) {
    lookup(key, "string", "", "", doc);
    fail(key, "is required: " + doc);
  }
  return get_string(key, "", doc);
}

std::string ConfigSection::get_choice(const std::string& key, const std::string& default_value,
                                      const std::string& doc,
                                      const std::vector<std::string>& choices) {
  const YAML::Node node = lookup(key, "choice", default_value, join(choices, "|"), doc);
  std::string value = default_value;
  if (node && !node.IsNull()) {
    if (!node.IsScalar()) {
      fail(key, std::string("expected one of ") + join(choices, ", ") + "; got " + node_kind(node));
    }
    value = node.Scalar();
    if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
      fail(key, "unknown value '" + value + "'; valid choices: " + join(choices, ", "));
    }
  }
  resolve(key, value);
  return value;
}

std::string ConfigSection::get_required_choice(const std::string& key, const std::string& doc,
                                               const std::vector<std::string>& choices) {
  if (!has(key)) {
    lookup(key, "choice", "", join(choices, "|"), doc);
    fail(key, "is required; valid choices: " + join(choices, ", "));
  }
  std::string value = get_choice(key, "", doc, choices);
  // A key without a value (`name:`) reads as the empty default, which no choice may be.
  if (std::find(choices.begin(), choices.end(), value) == choices.end()) {
    fail(key, "is required; valid choices: " + join(choices, ", "));
  }
  return value;
}

std::vector<int64_t> ConfigSection::get_int_list(const std::string& key,
                                                 const std::vector<int64_t>& default_value,
                                                 const std::string& doc, int64_t min, int64_t max) {
  std::vector<std::string> printable;
  for (int64_t v : default_value) printable.push_back(std::to_string(v));
  const YAML::Node node =
      lookup(key, "int list", bracket_list(printable), "each in " + int_range(min, max), doc);
  std::vector<int64_t> values = default_value;
  if (node && !node.IsNull()) {
    if (!node.IsSequence()) {
      fail(key, std::string("expected a list of integers like [64, 64], got ") + node_kind(node));
    }
    values.clear();
    for (size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      const auto parsed = is_plain_scalar(item) ? parse_int(item.Scalar()) : std::nullopt;
      const std::string item_path = path_of(key) + "[" + std::to_string(i) + "]";
      if (!parsed || *parsed < min || *parsed > max) {
        throw ConfigError(where(item, path_of(key)) + ": " + item_path +
                          ": expected an integer in " + int_range(min, max) + ", got " +
                          (item.IsScalar() ? "'" + item.Scalar() + "'" : node_kind(item)));
      }
      values.push_back(*parsed);
    }
  }
  YAML::Node out(YAML::NodeType::Sequence);
  for (int64_t v : values) out.push_back(v);
  out.SetStyle(YAML::EmitterStyle::Flow);
  out_[key] = out;
  return values;
}

ConfigSection ConfigSection::section(const std::string& key, const std::string& doc) {
  const YAML::Node node = lookup(key, "mapping", "{}", "", doc);
  if (node && !node.IsNull() && !node.IsMap()) {
    fail(key, std::string("expected a mapping of keys, got ") + node_kind(node));
  }
  out_[key] = YAML::Node(YAML::NodeType::Map);
  YAML::Node out_child = out_[key];
  return ConfigSection(state_, node && node.IsMap() ? node : YAML::Node(YAML::NodeType::Map),
                       out_child, path_of(key));
}

std::vector<ConfigSection> ConfigSection::section_list(const std::string& key,
                                                       const std::string& doc) {
  const YAML::Node node = lookup(key, "list of mappings", "[]", "", doc);
  std::vector<ConfigSection> items;
  out_[key] = YAML::Node(YAML::NodeType::Sequence);
  if (!node || node.IsNull() || (node.IsSequence() && node.size() == 0)) {
    out_[key].SetStyle(YAML::EmitterStyle::Flow);
    return items;
  }
  if (!node.IsSequence()) fail(key, std::string("expected a list, got ") + node_kind(node));
  YAML::Node out_list = out_[key];
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item_path = path_of(key) + "[" + std::to_string(i) + "]";
    if (!node[i].IsMap()) {
      throw ConfigError(where(node[i], item_path) + ": " + item_path +
                        ": expected a mapping, got " + node_kind(node[i]));
    }
    out_list.push_back(YAML::Node(YAML::NodeType::Map));
    items.push_back(ConfigSection(state_, node[i], out_list[i], item_path));
  }
  return items;
}

std::map<std::string, ParamValue> ConfigSection::get_params(const std::string& key,
                                                            const std::vector<ParamSpec>& specs,
                                                            const std::string& doc) {
  ConfigSection params = section(key, doc);
  std::map<std::string, ParamValue> values;
  for (const ParamSpec& spec : specs) {
    const ParamValue& d = spec.default_value;
    if (const bool* b = std::get_if<bool>(&d)) {
      values[spec.name] = params.get_bool(spec.name, *b, spec.doc);
    } else if (const int64_t* i = std::get_if<int64_t>(&d)) {
      const int64_t lo = spec.min ? static_cast<int64_t>(std::ceil(*spec.min)) : INT64_MIN;
      const int64_t hi = spec.max ? static_cast<int64_t>(std::floor(*spec.max)) : INT64_MAX;
      values[spec.name] = params.get_int(spec.name, *i, spec.doc, lo, hi);
    } else if (const double* x = std::get_if<double>(&d)) {
      values[spec.name] = params.get_float(spec.name, *x, spec.doc, spec.min.value_or(-HUGE_VAL),
                                           spec.max.value_or(HUGE_VAL));
    } else {
      const std::string& text = std::get<std::string>(d);
      values[spec.name] = spec.choices.empty()
                              ? params.get_string(spec.name, text, spec.doc)
                              : params.get_choice(spec.name, text, spec.doc, spec.choices);
    }
  }
  params.finish();
  return values;
}

std::vector<YAML::Node> ConfigSection::sequence(const std::string& key, const std::string& doc) {
  const YAML::Node node = lookup(key, "list", "[]", "", doc);
  std::vector<YAML::Node> items;
  if (!node || node.IsNull()) return items;
  if (!node.IsSequence()) fail(key, std::string("expected a list, got ") + node_kind(node));
  for (size_t i = 0; i < node.size(); ++i) items.push_back(node[i]);
  return items;
}

YAML::Node ConfigSection::raw(const std::string& key, const std::string& doc) {
  return lookup(key, "any", "", "", doc);
}

void ConfigSection::finish() const {
  if (!node_.IsMap()) return;
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(known_->begin(), known_->end(), key) != known_->end()) continue;
    std::vector<std::string> valid = *known_;
    std::sort(valid.begin(), valid.end());
    const std::string scope = path_.empty() ? "the top level" : "'" + path_ + "'";
    throw ConfigError(where(it->first, path_of(key)) + ": unknown key '" + path_of(key) +
                      "'; valid keys of " + scope + ": " + join(valid, ", "));
  }
}

}  // namespace rl
