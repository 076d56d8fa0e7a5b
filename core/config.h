// Strict YAML configuration reading on top of yaml-cpp.
//
// Every field is read through ConfigSection, which records its key, type, default, range and
// a one-line doc. Anything the program does not understand is an error, never ignored:
//   - an unknown key (ConfigSection::finish, after all known fields were read),
//   - a value of the wrong type, out of range, or not among the allowed choices,
//   - a missing required field.
// Every ConfigError message starts with where the value came from ("configs/dqn.yaml:12:3" or
// "--set agent.lr=1e-4"), names the full key path ("agent.lr") and says what is valid.
//
//   ConfigDocument doc = ConfigDocument::load_file("configs/dqn.yaml");
//   doc.apply_override("agent.lr=1e-4");  // before reading
//   ConfigSection root = doc.root();
//   int64_t seed = root.get_int("seed", 0, "Base seed", 0, 1e18);
//   ConfigSection agent = root.section("agent", "Agent settings");
//   ...
//   agent.finish();
//   root.finish();
//   std::string resolved = doc.resolved_yaml();  // every field with the value actually used
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/params.h"

namespace rl {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Description of one field, recorded as it is read (for --help style listings and docs).
struct ConfigField {
  std::string path;           // Full key path, e.g. "agent.lr".
  std::string type;           // "bool", "int", "float", "string", "choice", "int list", ...
  std::string default_value;  // Printable default; empty when required.
  std::string valid;          // Range or choices, e.g. "[0, 1]" or "adam|rmsprop".
  std::string doc;            // One line.
};

class ConfigSection;

// A parsed YAML document plus the command-line overrides applied to it.
class ConfigDocument {
 public:
  // Reads and parses a file. Throws ConfigError for a missing/unreadable file or bad YAML
  // (with line and column), or when the top level is not a mapping.
  static ConfigDocument load_file(const std::string& path);
  // Parses YAML text; `source` names it in messages.
  static ConfigDocument parse(const std::string& text, const std::string& source);

  // Applies "a.b.c=value" before reading. The value is parsed as YAML ("1e-4", "true",
  // "[64, 64]", "adam"). Intermediate keys must be mappings (missing ones are created); the
  // final key need not exist yet (unknown keys are then reported by finish()). Throws
  // ConfigError for a malformed assignment or a path through a non-mapping.
  void apply_override(const std::string& assignment);

  // The top-level mapping. Sections share the document's state; keep the document alive.
  ConfigSection root();

  // YAML of every field read so far, with the values actually used (defaults filled in).
  std::string resolved_yaml() const;
  // Every field read so far, in reading order.
  const std::vector<ConfigField>& fields() const;
  const std::string& source() const;

 private:
  friend class ConfigSection;
  struct State;
  explicit ConfigDocument(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// A mapping inside a document, at a key path ("" for the root, "agent", "env.params", ...).
class ConfigSection {
 public:
  // Optional fields take a default; required ones (get_required_*) throw when missing.
  // Numeric ranges are inclusive.
  bool get_bool(const std::string& key, bool default_value, const std::string& doc);
  int64_t get_int(const std::string& key, int64_t default_value, const std::string& doc,
                  int64_t min, int64_t max);
  double get_float(const std::string& key, double default_value, const std::string& doc, double min,
                   double max);
  std::string get_string(const std::string& key, const std::string& default_value,
                         const std::string& doc);
  // A string that must be one of `choices`.
  std::string get_choice(const std::string& key, const std::string& default_value,
                         const std::string& doc, const std::vector<std::string>& choices);
  std::vector<int64_t> get_int_list(const std::string& key,
                                    const std::vector<int64_t>& default_value,
                                    const std::string& doc, int64_t min, int64_t max);

  int64_t get_required_int(const std::string& key, const std::string& doc, int64_t min,
                           int64_t max);
  std::string get_required_string(const std::string& key, const std::string& doc);
  std::string get_required_choice(const std::string& key, const std::string& doc,
                                  const std::vector<std::string>& choices);

  // A nested mapping (an empty one when the key is absent).
  ConfigSection section(const std::string& key, const std::string& doc);
  // A list of mappings, e.g. `wrappers: [{name: frame_stack, params: {k: 4}}]`; each item is a
  // section with path "key[i]". Throws when the value is not a list of mappings.
  std::vector<ConfigSection> section_list(const std::string& key, const std::string& doc);
  // A mapping of typed parameters declared by `specs` (env or wrapper parameters): each value
  // is checked against its spec's type, range and choices, unknown names are errors listing
  // the declared ones, and absent ones take their defaults (all are returned).
  std::map<std::string, ParamValue> get_params(const std::string& key,
                                               const std::vector<ParamSpec>& specs,
                                               const std::string& doc);
  // A nested sequence whose items are read by the caller with `raw` access: returns the item
  // nodes (empty when absent). Throws when the value is not a sequence.
  std::vector<YAML::Node> sequence(const std::string& key, const std::string& doc);
  // Marks `key` as known without reading it through a typed getter (for values the caller
  // validates itself, e.g. env parameters typed by the env). Returns the node (maybe null).
  YAML::Node raw(const std::string& key, const std::string& doc);
  // Records the value actually used for a raw key in the resolved YAML.
  void set_resolved(const std::string& key, const YAML::Node& value);

  bool has(const std::string& key) const;
  // All keys present in this mapping, in file order.
  std::vector<std::string> keys() const;
  // Full path of `key` in this section, e.g. "agent.lr".
  std::string path_of(const std::string& key) const;
  // "file:line:col" (or "--set ...") of `key`, or of this section when `key` is absent.
  std::string where(const std::string& key = "") const;
  std::string where(const YAML::Node& node, const std::string& path) const;
  // Throws ConfigError "<where>: <path>: <message>".
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  // Throws ConfigError for the first key of this mapping that no getter asked for, listing
  // the valid keys.
  void finish() const;

 private:
  friend class ConfigDocument;
  ConfigSection(std::shared_ptr<ConfigDocument::State> state, YAML::Node node, YAML::Node out,
                std::string path);
  // The value node of `key` after recording it as known; null when absent.
  YAML::Node lookup(const std::string& key, const std::string& type,
                    const std::string& default_value, const std::string& valid,
                    const std::string& doc);
  template <typename T>
  void resolve(const std::string& key, const T& value);

  std::shared_ptr<ConfigDocument::State> state_;
  YAML::Node node_;  // The mapping being read (may be undefined/null when absent).
  YAML::Node out_;   // Resolved output mapping.
  std::string path_;
  std::shared_ptr<std::vector<std::string>> known_;  // Keys asked for, in order.
};

// Splits "k=v"; throws ConfigError naming the argument when there is no '=' or an empty key.
std::pair<std::string, std::string> split_assignment(const std::string& assignment);

}  // namespace rl
