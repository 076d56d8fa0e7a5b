// Atomic file writes: the data goes to a temporary file in the target's directory, is flushed
// to disk, then renamed over the target. A reader (or a crash) sees either the old file or the
// new one, never a half-written file.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace rl {

// Thrown when a file cannot be written; the message names the path and the OS reason.
class FileWriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Replaces `path` with `contents` (text or binary bytes) atomically, creating missing parent
// directories. On failure the previous file (if any) is left untouched and no temporary file
// remains.
//
// Tests inject failures through the environment: with RLCADE_INJECT_WRITE_FAILURE=<text>, every
// write to a path containing <text> fails as on a full disk (ENOSPC, after part of the data
// went to the temporary file), once RLCADE_INJECT_WRITE_FAILURE_AFTER=<n> (default 0) such
// writes have succeeded in this process.
void write_file_atomic(const std::string& path, std::string_view contents);

// Reads a whole file; throws std::runtime_error naming the path when it cannot.
std::string read_file(const std::string& path);

}  // namespace rl
