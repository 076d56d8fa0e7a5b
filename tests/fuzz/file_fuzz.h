// Helpers of the file fuzzers (checkpoint, replay, config): the readers under test take paths,
// so each input is written to a scratch file first, and an error must name that file.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace rl::fuzz {

// A per-process scratch file `name` (in $TMPDIR, else /tmp) overwritten with each input.
inline std::string write_scratch(const std::string& name, std::string_view bytes) {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path d = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                              ("rlcade_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::string path = (dir / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Stops the fuzzer when an error message does not say which file it is about.
inline void require_names_file(const std::string& message, const std::string& path) {
  if (message.find(std::filesystem::path(path).filename().string()) == std::string::npos) {
    std::fprintf(stderr, "error message does not name %s: %s\n", path.c_str(), message.c_str());
    std::abort();
  }
}

inline void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace rl::fuzz
