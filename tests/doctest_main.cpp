#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

namespace rl::test {
const char* built_source_dir() { return RLCADE_SOURCE_DIR; }
}  // namespace rl::test
