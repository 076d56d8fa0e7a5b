// Fuzzes the strict reading of a YAML run config from elsewhere (rltrain CONFIG): the YAML
// parser, the run layout (env id and parameters, wrappers, train settings, agent type) and
// building the configured env. A config that reads must read again, unchanged, from its
// resolved YAML (what the run folder's config.yaml and every checkpoint store).
// The agent is not built: its settings may legitimately ask for gigabytes (replay capacity,
// layer widths), which says nothing about the reader.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "agents/run_config.h"
#include "core/config.h"
#include "tests/fuzz/file_fuzz.h"

namespace {

// Reads `document` as rltrain does before building the agent; returns the resolved YAML.
std::string read_config(rl::ConfigDocument document) {
  rl::LoadedConfig config = rl::read_run_config(std::move(document));
  rl::WrapperContext context;
  try {
    rl::make_configured_env(config.run.env, context);
  } catch (const std::invalid_argument&) {  // Reported by build_experiment naming the file.
  }
  return config.document.resolved_yaml();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path =
      rl::fuzz::write_scratch("config.yaml", {reinterpret_cast<const char*>(data), size});
  std::string resolved;
  try {
    resolved = read_config(rl::ConfigDocument::load_file(path));
  } catch (const rl::ConfigError& e) {
    rl::fuzz::require_names_file(e.what(), path);
    return 0;
  }
  try {
    const std::string again = read_config(rl::ConfigDocument::parse(resolved, "resolved"));
    if (again != resolved) {
      std::fprintf(stderr, "resolved YAML changes when read again:\n%s\n---\n%s\n",
                   resolved.c_str(), again.c_str());
      std::abort();
    }
  } catch (const rl::ConfigError& e) {
    std::fprintf(stderr, "the resolved YAML of a valid config is rejected: %s\n%s\n", e.what(),
                 resolved.c_str());
    std::abort();
  }
  return 0;
}
