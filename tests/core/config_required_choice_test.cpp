// A required choice written without a value (`name:` in YAML) is missing, not the empty
// string: found by tests/fuzz/config_fuzz.cpp, where `wrappers: [{name: }]` read past the
// wrapper catalog.
#include <doctest/doctest.h>

#include "core/config.h"

namespace rl {
namespace {

TEST_CASE("config: a required choice given without a value is reported as required") {
  for (const char* yaml : {"kind:\n", "kind: ~\n", "kind: null\n"}) {
    ConfigDocument document = ConfigDocument::parse(yaml, "t.yaml");
    ConfigSection root = document.root();
    CHECK_THROWS_WITH_AS(root.get_required_choice("kind", "What kind", {"a", "b"}),
                         doctest::Contains("kind: is required; valid choices: a, b"), ConfigError);
  }
}

}  // namespace
}  // namespace rl
