// Checks the CRC-32 that every entry of a ZIP archive records, before LibTorch reads it.
// LibTorch's archive reader skips these checks (its miniz is built without them), and its
// TorchScript importer can crash on a damaged code entry (found by tests/fuzz): a file written
// without rlcade's checksum trailer, or with damage the trailer does not cover, is then still
// refused with an error instead of reaching it.
#pragma once

#include <string>
#include <string_view>

namespace rl {

// What is wrong with the entries of the ZIP archive `bytes`: the first entry whose header
// disagrees with the central directory, or whose data does not match its recorded CRC-32 or
// size or cannot be inflated, named; or a damaged directory. Zip64 sizes and offsets are read
// from their extra fields and the zip64 end record; a 32-bit field at the zip64 marker without
// them is damage. Empty when all match, and when there is no end-of-directory record: the
// archive reader then reports that itself. Memory use does not depend on the sizes the archive
// claims.
std::string zip_entry_damage(std::string_view bytes);

}  // namespace rl
