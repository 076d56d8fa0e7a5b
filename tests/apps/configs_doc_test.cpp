// docs/configs.md cannot drift from the config reader: every key the reader knows (top level,
// env, train and each registered agent's settings) has a row in the doc's tables with the
// reader's default, and every documented key is one the reader knows. The reader's schema is
// what ConfigDocument::fields() records while a default config of each agent is read.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "agents/experiment.h"
#include "core/atomic_file.h"
#include "test_support.h"

namespace rl {
namespace {

// One key of a doc table: "agent:ppo" scope, key "lr", default "2.5e-4", line 123.
struct DocRow {
  std::string default_value;
  int line = 0;
};
// scope ("" top level, "env", "train", "agent:<type>") -> key -> row.
using DocTables = std::map<std::string, std::map<std::string, DocRow>>;

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") + 1 - first);
}

std::string unquote(const std::string& s) {
  const std::string t = trim(s);
  return t.size() >= 2 && t.front() == '`' && t.back() == '`' ? t.substr(1, t.size() - 2) : t;
}

std::vector<std::string> split(const std::string& s, const std::string& separator) {
  std::vector<std::string> parts;
  size_t from = 0;
  for (size_t at; (at = s.find(separator, from)) != std::string::npos; from = at + separator.size())
    parts.push_back(trim(s.substr(from, at - from)));
  parts.push_back(trim(s.substr(from)));
  return parts;
}

// The scopes a "## ..." heading documents: "## `env`" -> env, "## Top level" -> "",
// "## `agent: {type: ppo}` and `agent: {type: a2c}`" -> agent:ppo, agent:a2c (in that order).
std::vector<std::string> heading_scopes(const std::string& heading) {
  if (heading == "## Top level") return {""};
  if (heading == "## `env`") return {"env"};
  if (heading == "## `train`") return {"train"};
  if (heading == "## `target`") return {"target"};
  std::vector<std::string> scopes;
  const std::string marker = "`agent: {type: ";
  for (size_t at = heading.find(marker); at != std::string::npos;
       at = heading.find(marker, at + 1)) {
    const size_t start = at + marker.size();
    scopes.push_back("agent:" + heading.substr(start, heading.find('}', start) - start));
  }
  return scopes;
}

// Reads the key tables of docs/configs.md. A table right after a line "PPO only:" belongs to
// that agent alone; a default "128 / 5" gives one value per scope of the heading, in order; a
// row "`a`, `b` | 1, 2" documents two keys.
DocTables read_doc_tables(const std::string& text) {
  DocTables tables;
  std::vector<std::string> scopes, table_scopes;
  std::istringstream in(text);
  std::string line, previous_text;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.rfind("## ", 0) == 0) {
      scopes = heading_scopes(line);
      table_scopes = scopes;
    } else if (line.size() > 6 && line.ends_with(" only:")) {
      std::string type = line.substr(0, line.size() - 6);
      for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      table_scopes = {"agent:" + type};
    } else if (line.rfind("| `", 0) == 0 && !table_scopes.empty()) {
      const std::vector<std::string> cells = split(line.substr(1), "|");
      REQUIRE_MESSAGE(cells.size() >= 3, "docs/configs.md:", number, ": a row needs 3 cells");
      const std::vector<std::string> keys = split(cells[0], ",");
      const std::vector<std::string> per_scope = split(cells[1], " / ");
      for (size_t s = 0; s < table_scopes.size(); ++s) {
        const std::string& defaults = per_scope.size() > 1 ? per_scope.at(s) : per_scope[0];
        const std::vector<std::string> values =
            keys.size() > 1 ? split(defaults, ",") : std::vector<std::string>{defaults};
        REQUIRE_MESSAGE(values.size() == keys.size(), "docs/configs.md:", number,
                        ": one default per key");
        for (size_t k = 0; k < keys.size(); ++k)
          tables[table_scopes[s]][unquote(keys[k])] = {unquote(values[k]), number};
      }
    } else if (trim(line).empty() && !previous_text.empty() && previous_text[0] == '|') {
      table_scopes = scopes;  // a table ended: the next one belongs to the heading again
    }
    previous_text = trim(line);
  }
  return tables;
}

// The reader's fields, by scope and key, read from a default config of `agent_type`.
std::map<std::string, std::map<std::string, ConfigField>> reader_schema(
    const std::string& agent_type) {
  const AgentEntry& agent = AgentRegistry::global().find(agent_type);
  const std::string env = agent.discrete_actions ? "classic/cartpole-v1" : "classic/pendulum-v1";
  // `name` defaults to the config file's stem, which the docs call "file stem": a source of
  // that stem makes the reader's recorded default read the same.
  Experiment experiment = build_experiment(
      ConfigDocument::parse("env: {id: " + env + "}\nagent: {type: " + agent_type +
                                "}\ntarget: {metric: eval_mean, threshold: 1, within_steps: 1}\n",
                            "file stem.yaml"));
  std::map<std::string, std::map<std::string, ConfigField>> schema;
  for (const ConfigField& field : experiment.config.document.fields()) {
    const size_t dot = field.path.find('.');
    if (dot == std::string::npos) {
      schema[""][field.path] = field;
      continue;
    }
    const std::string section = field.path.substr(0, dot), key = field.path.substr(dot + 1);
    if (key.find_first_of(".[") != std::string::npos) continue;  // deeper: not in the tables
    if (section == "agent" && key == "type") continue;           // picks the agent's table
    schema[section == "agent" ? "agent:" + agent_type : section][key] = field;
  }
  return schema;
}

template <typename... Parts>
std::string text(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

bool same_number(const std::string& a, const std::string& b) {
  char* end_a = nullptr;
  char* end_b = nullptr;
  const double x = std::strtod(a.c_str(), &end_a), y = std::strtod(b.c_str(), &end_b);
  if (a.empty() || b.empty() || *end_a != '\0' || *end_b != '\0') return false;
  return std::fabs(x - y) <= 1e-12 * std::max(std::fabs(x), std::fabs(y));
}

// The doc's default matches the reader's: "required" for required keys, numbers compared by
// value (2.5e-4 and 0.00025), sections may say anything (their keys have tables of their own).
bool same_default(const DocRow& row, const ConfigField& field) {
  if (field.type == "mapping") return true;
  if (field.default_value.empty()) return row.default_value == "required";
  return row.default_value == field.default_value ||
         same_number(row.default_value, field.default_value);
}

std::string scope_name(const std::string& scope) {
  if (scope.empty()) return "the top level";
  if (scope.rfind("agent:", 0) == 0) return "agent type " + scope.substr(6);
  return "section " + scope;
}

TEST_CASE("docs/configs.md documents exactly the keys and defaults the config reader knows") {
  const std::string doc_path = (test::source_dir() / "docs/configs.md").string();
  const DocTables doc = read_doc_tables(read_file(doc_path));
  std::map<std::string, std::map<std::string, ConfigField>> schema;
  for (const std::string& type : AgentRegistry::global().types())
    for (auto& [scope, fields] : reader_schema(type))
      schema[scope].insert(fields.begin(), fields.end());
  REQUIRE(schema.count("agent:dqn"));
  REQUIRE(schema.count("train"));

  for (const auto& [scope, fields] : schema) {
    const auto documented = doc.find(scope);
    for (const auto& [key, field] : fields) {
      INFO(scope_name(scope), ", key '", key, "'");
      if (documented == doc.end() || !documented->second.count(key)) {
        FAIL_CHECK(text("docs/configs.md lacks the key '", key, "' of ", scope_name(scope), " (",
                        field.type, ", default '", field.default_value, "': ", field.doc, ")"));
        continue;
      }
      const DocRow& row = documented->second.at(key);
      if (!same_default(row, field))
        FAIL_CHECK(text("docs/configs.md:", row.line, ": '", key, "' of ", scope_name(scope),
                        " documents the default '", row.default_value, "', the reader uses '",
                        field.default_value.empty() ? "required" : field.default_value, "'"));
    }
  }
  for (const auto& [scope, rows] : doc) {
    for (const auto& [key, row] : rows) {
      const auto known = schema.find(scope);
      if (known == schema.end() || !known->second.count(key))
        FAIL_CHECK(text("docs/configs.md:", row.line, ": documents the key '", key, "' of ",
                        scope_name(scope), ", which the config reader does not know"));
    }
  }
}

TEST_CASE("the docs check reads tables, per-agent defaults and 'only' tables") {
  const DocTables doc = read_doc_tables(
      "## `agent: {type: ppo}` and `agent: {type: a2c}`\n"
      "| key | default | meaning |\n|---|---|---|\n"
      "| `lr` | 2.5e-4 / 7e-4 | learning rate |\n"
      "| `a`, `b` | 1, `x` | two keys |\n"
      "\nPPO only:\n\n| key | default | meaning |\n|---|---|---|\n"
      "| `clip_coef` | 0.2 | clipping |\n\n"
      "| `after` | 3 | the heading's again |\n"
      "## The run folder\n| `config.yaml` | resolved | not a key table |\n");
  CHECK(doc.at("agent:ppo").at("lr").default_value == "2.5e-4");
  CHECK(doc.at("agent:a2c").at("lr").default_value == "7e-4");
  CHECK(doc.at("agent:a2c").at("b").default_value == "x");
  CHECK(doc.at("agent:ppo").count("clip_coef") == 1);
  CHECK(doc.at("agent:a2c").count("clip_coef") == 0);
  CHECK(doc.at("agent:a2c").count("after") == 1);
  CHECK(doc.size() == 2);
  CHECK(same_default({"2.5e-4", 1}, ConfigField{"agent.lr", "float", "0.00025", "", ""}));
  CHECK_FALSE(same_default({"1e-3", 1}, ConfigField{"agent.lr", "float", "0.00025", "", ""}));
  CHECK(same_default({"required", 1}, ConfigField{"name", "string", "", "", ""}));
}

}  // namespace
}  // namespace rl
