// The one KEY=VALUE rule (core/key_value.h) shared by rlwatch --param, rlserve --param and
// the config reader behind rltrain --set.
#include "core/key_value.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "core/config.h"
#include "core/registry.h"

namespace rl {
namespace {

std::string error_of(const std::vector<ParamSpec>& specs, const std::string& argument) {
  try {
    parse_key_values(specs, {argument}, "--param", "test/env-v0");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const std::vector<ParamSpec> kSpecs = {
    {"max_episode_steps", int64_t{500}, "Step limit", 1.0, 1e9, {}},
    {"gravity", 9.8, "Gravity", 0.0, 100.0, {}},
    {"noisy", false, "Noise", {}, {}, {}},
    {"mode", std::string("fast"), "Mode", {}, {}, {"fast", "slow"}},
    {"label", std::string(""), "Free text", {}, {}, {}},
};

TEST_CASE("key=value: the scalar readers") {
  CHECK(parse_bool("true") == true);
  CHECK(parse_bool("FALSE") == false);
  CHECK_FALSE(parse_bool("1").has_value());
  CHECK_FALSE(parse_bool("yes").has_value());
  CHECK(parse_int("500") == 500);
  CHECK(parse_int("-3") == -3);
  CHECK(parse_int("1e3") == 1000);
  CHECK(parse_int("5.0") == 5);
  CHECK_FALSE(parse_int("1.5").has_value());
  CHECK_FALSE(parse_int("1e30").has_value());
  CHECK_FALSE(parse_int("").has_value());
  CHECK_FALSE(parse_int("12abc").has_value());
  CHECK(parse_float("1e-4") == doctest::Approx(1e-4));
  CHECK(parse_float("3") == 3.0);
  CHECK_FALSE(parse_float("nan").has_value());
  CHECK_FALSE(parse_float("inf").has_value());
  CHECK_FALSE(parse_float("0.5x").has_value());
  CHECK(split_key_value("a=b=c") == std::make_pair(std::string("a"), std::string("b=c")));
  CHECK_FALSE(split_key_value("=3").has_value());
  CHECK_FALSE(split_key_value("abc").has_value());
}

TEST_CASE("key=value: values take their parameter's declared type") {
  const auto values = parse_key_values(
      kSpecs,
      {"max_episode_steps=1e3", "gravity=3", "noisy=True", "mode=slow", "label=a=b", "gravity=4.5"},
      "--param", "test/env-v0");
  CHECK(std::get<int64_t>(values.at("max_episode_steps")) == 1000);
  CHECK(std::get<double>(values.at("gravity")) == 4.5);  // Given twice: the last one wins.
  CHECK(std::get<bool>(values.at("noisy")) == true);
  CHECK(std::get<std::string>(values.at("mode")) == "slow");
  CHECK(std::get<std::string>(values.at("label")) == "a=b");
  CHECK(values.size() == 5);
}

TEST_CASE("key=value: errors name the flag, the key and the bad value") {
  CHECK(error_of(kSpecs, "max_episode_steps") ==
        "--param 'max_episode_steps': expected KEY=VALUE, e.g. max_episode_steps=500");
  CHECK(error_of(kSpecs, "max_episode_steps=1.5") ==
        "--param max_episode_steps=1.5: max_episode_steps: expected an integer (e.g. 500 or 1e3), "
        "got '1.5'");
  CHECK(contains(error_of(kSpecs, "max_episode_steps=[1, 2]"), "got '[1, 2]'"));
  CHECK(contains(error_of(kSpecs, "gravity=heavy"), "gravity: expected a number"));
  CHECK(contains(error_of(kSpecs, "noisy=1"), "noisy: expected true or false, got '1'"));
  CHECK(contains(error_of(kSpecs, "max_episode_steps=0"), "out of range [1, 1e+09]"));
  CHECK(contains(error_of(kSpecs, "mode=medium"), "'medium' is not one of: fast, slow"));
  const std::string unknown = error_of(kSpecs, "speed=3");
  CHECK(contains(unknown, "--param speed=3: test/env-v0: unknown parameter 'speed'"));
  CHECK(contains(unknown, "max_episode_steps, gravity, noisy, mode, label"));
}

TEST_CASE("key=value: env parameters by env id; the config reads 1e3 the same way") {
  const auto values = parse_env_params("classic/cartpole-v1", {"max_episode_steps=1e3"}, "--param");
  CHECK(std::get<int64_t>(values.at("max_episode_steps")) == 1000);
  CHECK_THROWS_AS(parse_env_params("classic/nope-v1", {}, "--param"), std::invalid_argument);

  // rltrain --set env.params.max_episode_steps=1e3 reaches the config reader as YAML text.
  ConfigDocument document = ConfigDocument::parse("env: {params: {}}\n", "k.yaml");
  document.apply_override("env.params.max_episode_steps=1e3");
  const auto from_config = document.root().section("env", "").get_params(
      "params", EnvRegistry::global().find("classic/cartpole-v1").params, "");
  CHECK(std::get<int64_t>(from_config.at("max_episode_steps")) == 1000);
}

}  // namespace
}  // namespace rl
