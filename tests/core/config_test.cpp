#include "core/config.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace rl {
namespace {

// The message of the ConfigError thrown by `fn` ("" when nothing is thrown).
template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const char kAgentYaml[] =
    "name: demo\n"
    "agent:\n"
    "  lr: 0.001\n"
    "  batch_size: 64\n"
    "  optimizer: adam\n";

// Reads the fields of the `agent` section of kAgentYaml-like documents.
struct AgentFields {
  double lr;
  int64_t batch_size;
  std::string optimizer;
  bool dueling;
};

AgentFields read_agent(ConfigDocument& doc) {
  ConfigSection root = doc.root();
  root.get_required_string("name", "Run name");
  ConfigSection agent = root.section("agent", "Agent");
  AgentFields f;
  f.lr = agent.get_float("lr", 1e-3, "Learning rate", 1e-9, 1.0);
  f.batch_size = agent.get_int("batch_size", 32, "Batch size", 1, 4096);
  f.optimizer = agent.get_choice("optimizer", "adam", "Optimizer", {"adam", "rmsprop"});
  f.dueling = agent.get_bool("dueling", false, "Dueling head");
  agent.finish();
  root.finish();
  return f;
}

TEST_CASE("config: valid values are read and defaults fill the resolved YAML") {
  ConfigDocument doc = ConfigDocument::parse(kAgentYaml, "demo.yaml");
  const AgentFields f = read_agent(doc);
  CHECK(f.lr == doctest::Approx(0.001));
  CHECK(f.batch_size == 64);
  CHECK(f.optimizer == "adam");
  CHECK_FALSE(f.dueling);
  const std::string resolved = doc.resolved_yaml();
  CHECK(contains(resolved, "dueling: false"));
  CHECK(contains(resolved, "lr: 0.001"));
  // The resolved YAML is itself a valid config that reads back to the same values.
  ConfigDocument again = ConfigDocument::parse(resolved, "resolved.yaml");
  const AgentFields g = read_agent(again);
  CHECK(g.lr == f.lr);
  CHECK(g.batch_size == f.batch_size);
  CHECK(g.optimizer == f.optimizer);
  CHECK(g.dueling == f.dueling);
  // Every field was recorded with its doc.
  bool found = false;
  for (const ConfigField& field : doc.fields()) {
    if (field.path == "agent.batch_size") {
      found = true;
      CHECK(field.type == "int");
      CHECK(field.valid == "[1, 4096]");
      CHECK(field.doc == "Batch size");
    }
  }
  CHECK(found);
}

TEST_CASE("config: an unknown key names file, line, key path and the valid keys") {
  ConfigDocument doc =
      ConfigDocument::parse("name: demo\nagent:\n  lr: 0.001\n  batch_sise: 64\n", "demo.yaml");
  const std::string message = error_of([&] { read_agent(doc); });
  CHECK(contains(message, "demo.yaml:4:3"));
  CHECK(contains(message, "unknown key 'agent.batch_sise'"));
  CHECK(contains(message, "batch_size, dueling, lr, optimizer"));
}

TEST_CASE("config: an unknown top-level key is reported after the sections") {
  ConfigDocument doc = ConfigDocument::parse("name: demo\nseeed: 3\n", "demo.yaml");
  const std::string message = error_of([&] { read_agent(doc); });
  CHECK(contains(message, "demo.yaml:2:1"));
  CHECK(contains(message, "unknown key 'seeed'"));
  CHECK(contains(message, "valid keys of the top level: agent, name"));
}

TEST_CASE("config: wrong types are errors naming what was expected") {
  auto message_for = [](const std::string& agent_body) {
    ConfigDocument doc = ConfigDocument::parse("name: demo\nagent:\n" + agent_body, "t.yaml");
    return error_of([&] { read_agent(doc); });
  };
  std::string m = message_for("  batch_size: lots\n");
  CHECK(contains(m, "t.yaml:3:15"));
  CHECK(contains(m, "agent.batch_size: expected an integer"));
  CHECK(contains(m, "'lots'"));
  CHECK(contains(message_for("  batch_size: 64.5\n"), "expected an integer"));
  CHECK(contains(message_for("  lr: \"0.1\"\n"), "expected a number, got a quoted string"));
  CHECK(contains(message_for("  lr: [1, 2]\n"), "expected a number, got a list"));
  CHECK(contains(message_for("  dueling: 1\n"), "agent.dueling: expected true or false"));
  CHECK(contains(message_for("  optimizer: {a: 1}\n"), "expected one of adam, rmsprop"));
  ConfigDocument doc = ConfigDocument::parse("name: demo\nagent: 5\n", "t.yaml");
  CHECK(contains(error_of([&] { read_agent(doc); }), "agent: expected a mapping"));
}

TEST_CASE("config: out-of-range numbers and unknown choices list what is valid") {
  ConfigDocument big = ConfigDocument::parse("name: d\nagent:\n  batch_size: 5000\n", "r.yaml");
  std::string m = error_of([&] { read_agent(big); });
  CHECK(contains(m, "r.yaml:3:15"));
  CHECK(contains(m, "agent.batch_size: must be in [1, 4096], got 5000"));
  ConfigDocument lr = ConfigDocument::parse("name: d\nagent:\n  lr: 2\n", "r.yaml");
  CHECK(contains(error_of([&] { read_agent(lr); }), "agent.lr: must be in [1e-09, 1], got 2"));
  ConfigDocument choice = ConfigDocument::parse("name: d\nagent:\n  optimizer: sgd\n", "r.yaml");
  m = error_of([&] { read_agent(choice); });
  CHECK(contains(m, "unknown value 'sgd'"));
  CHECK(contains(m, "valid choices: adam, rmsprop"));
}

TEST_CASE("config: integers may be written in float notation when exact") {
  ConfigDocument doc = ConfigDocument::parse("name: d\nagent:\n  batch_size: 1e3\n", "i.yaml");
  CHECK(read_agent(doc).batch_size == 1000);
}

TEST_CASE("config: missing required fields, duplicates, bad YAML and missing files") {
  ConfigDocument no_name = ConfigDocument::parse("agent: {}\n", "m.yaml");
  CHECK(contains(error_of([&] { read_agent(no_name); }), "name: is required"));
  CHECK(contains(error_of([] { ConfigDocument::parse("a: 1\na: 2\n", "d.yaml").root(); }),
                 "duplicate key 'a'"));
  const std::string bad = error_of([] { ConfigDocument::parse("a: [1, 2\nb: 3\n", "b.yaml"); });
  CHECK(contains(bad, "b.yaml:"));
  CHECK(contains(bad, "invalid YAML"));
  CHECK(contains(error_of([] { ConfigDocument::parse("- 1\n- 2\n", "l.yaml"); }),
                 "the top level must be a mapping"));
  CHECK(contains(error_of([] { ConfigDocument::parse("", "e.yaml"); }),
                 "e.yaml: the config is empty"));
  CHECK(contains(error_of([] { ConfigDocument::load_file("/nonexistent/x.yaml"); }),
                 "/nonexistent/x.yaml: cannot open"));
}

TEST_CASE("config: --set overrides apply before validation and are named in errors") {
  ConfigDocument doc = ConfigDocument::parse(kAgentYaml, "o.yaml");
  doc.apply_override("agent.lr=1e-4");
  doc.apply_override("agent.dueling=true");  // Absent from the file: still settable.
  const AgentFields f = read_agent(doc);
  CHECK(f.lr == doctest::Approx(1e-4));
  CHECK(f.dueling);
  CHECK(contains(doc.resolved_yaml(), "lr: 1e-04"));

  ConfigDocument typo = ConfigDocument::parse(kAgentYaml, "o.yaml");
  typo.apply_override("agent.lrr=1e-4");
  std::string m = error_of([&] { read_agent(typo); });
  CHECK(contains(m, "--set agent.lrr=1e-4"));
  CHECK(contains(m, "unknown key 'agent.lrr'"));

  ConfigDocument range = ConfigDocument::parse(kAgentYaml, "o.yaml");
  range.apply_override("agent.batch_size=0");
  m = error_of([&] { read_agent(range); });
  CHECK(contains(m, "--set agent.batch_size=0: agent.batch_size: must be in [1, 4096]"));

  ConfigDocument path = ConfigDocument::parse(kAgentYaml, "o.yaml");
  m = error_of([&] { path.apply_override("name.first=x"); });
  CHECK(contains(m, "'name' is a scalar, not a mapping"));
  CHECK(contains(error_of([&] { path.apply_override("agent.lr"); }), "expected KEY.PATH=VALUE"));
  CHECK(contains(error_of([&] { path.apply_override("=3"); }), "expected KEY.PATH=VALUE"));
  CHECK(contains(error_of([&] { path.apply_override("agent..lr=3"); }), "empty part"));
  CHECK(contains(error_of([&] { path.apply_override("agent.lr=[1,"); }), "cannot parse the value"));
}

TEST_CASE("config: int lists, typed parameter maps and lists of sections") {
  ConfigDocument doc = ConfigDocument::parse(
      "hidden: [64, 32]\n"
      "params: {size: 7, mode: fast}\n"
      "wrappers:\n"
      "  - {name: a}\n"
      "  - {name: b, extra: 1}\n",
      "p.yaml");
  ConfigSection root = doc.root();
  CHECK(root.get_int_list("hidden", {1}, "Layers", 1, 100) == std::vector<int64_t>{64, 32});
  const std::vector<ParamSpec> specs = {
      {"size", int64_t{5}, "Grid size", 3.0, 9.0, {}},
      {"mode", std::string("slow"), "Speed", std::nullopt, std::nullopt, {"slow", "fast"}},
      {"noisy", false, "Noise", std::nullopt, std::nullopt, {}}};
  const auto params = root.get_params("params", specs, "Env parameters");
  CHECK(std::get<int64_t>(params.at("size")) == 7);
  CHECK(std::get<std::string>(params.at("mode")) == "fast");
  CHECK(std::get<bool>(params.at("noisy")) == false);  // Default filled in.
  const auto items = root.section_list("wrappers", "Wrappers");
  REQUIRE(items.size() == 2);
  ConfigSection first = items[0];
  CHECK(first.get_required_string("name", "Name") == "a");
  first.finish();
  ConfigSection second = items[1];
  second.get_required_string("name", "Name");
  const std::string m = error_of([&] { second.finish(); });
  CHECK(contains(m, "p.yaml:5:15"));
  CHECK(contains(m, "unknown key 'wrappers[1].extra'"));

  ConfigDocument bad = ConfigDocument::parse(
      "params: {size: 12, colour: red}\n"
      "hidden: [4, x]\n",
      "q.yaml");
  ConfigSection bad_root = bad.root();
  CHECK(contains(error_of([&] { bad_root.get_params("params", specs, "Env"); }),
                 "params.size: must be in [3, 9], got 12"));
  CHECK(contains(error_of([&] { bad_root.get_int_list("hidden", {}, "Layers", 1, 100); }),
                 "q.yaml:2:13: hidden[1]: expected an integer in [1, 100], got 'x'"));
  ConfigDocument unknown = ConfigDocument::parse("params: {colour: red}\n", "u.yaml");
  ConfigSection unknown_root = unknown.root();
  const std::string u = error_of([&] { unknown_root.get_params("params", specs, "Env"); });
  CHECK(contains(u, "unknown key 'params.colour'"));
  CHECK(contains(u, "mode, noisy, size"));
}

TEST_CASE("config: load_file reads a file from disk and names it in errors") {
  const auto path = std::filesystem::temp_directory_path() / "rlcade_config_test.yaml";
  {
    std::ofstream out(path);
    out << "# comment\nname: demo\nagent:\n  batch_size: -1\n";
  }
  ConfigDocument doc = ConfigDocument::load_file(path.string());
  const std::string m = error_of([&] { read_agent(doc); });
  CHECK(contains(m, path.string() + ":4:15"));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace rl
