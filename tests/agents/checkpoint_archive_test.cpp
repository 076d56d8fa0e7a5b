// Checkpoints whose LibTorch archive is damaged in ways only the archive reader could notice
// (found by tests/fuzz/checkpoint_fuzz.cpp): they are corrupt files, so the fallback to an
// older checkpoint applies, never a LibTorch exception escaping or a crash in its importer.
#include <cstdint>
#include <sstream>
#include <string>

#include "agents/archive_util.h"
#include "agents/checkpoint.h"
#include "core/atomic_file.h"
#include "core/crc32.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

uint32_t u32_at(const std::string& bytes, size_t at) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= uint32_t{static_cast<uint8_t>(bytes[at + i])} << (8 * i);
  return value;
}

void set_u32_at(std::string& bytes, size_t at, uint32_t value) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

// Rewrites the CRC-32 that the central directory records for the stored (uncompressed) ZIP
// entry `name` to match its data (LibTorch's writer leaves it out of the local header).
void fix_zip_crc(std::string& zip, const std::string& name) {
  const size_t entry = zip.rfind(name) - 46;
  const uint32_t size = u32_at(zip, entry + 20);
  const size_t local = u32_at(zip, entry + 42);
  const size_t data = local + 30 + name.size() + (u32_at(zip, local + 28) & 0xFFFF);
  set_u32_at(zip, entry + 16, crc32({reinterpret_cast<const uint8_t*>(zip.data() + data), size}));
}

std::string corrupt_message(const std::string& path) {
  try {
    verify_checkpoint(path);
  } catch (const CorruptCheckpointError& e) {
    return e.what();
  }
  return "";
}

TEST_CASE(
    "checkpoint: an archive with a damaged entry is a corrupt file, checksum trailer or not") {
  test::TempDir dir("checkpoint_archive");
  const Experiment experiment = test::experiment_from(test::chain_config(100));
  std::string archive = checkpoint_bytes(experiment, TrainerState{});
  archive.resize(archive.size() - 24);  // Without its trailer, as files before it were written.
  // The pickled state names a TorchScript class that the archive's code does not define.
  const std::string type_prefix = "___torch_mangle_";
  const size_t at = archive.find(type_prefix);
  REQUIRE(at != std::string::npos);
  archive.replace(at, type_prefix.size(), "___torch_mangde_");
  const std::string path = (dir.path / "untyped.pt").string();

  // LibTorch's reader does not check the CRC-32 of each entry: the checkpoint reader does.
  write_file_atomic(path, archive);
  CHECK(corrupt_message(path) == path +
                                     ": cannot read checkpoint: corrupt: archive entry "
                                     "'archive/data.pkl' does not match its recorded CRC-32");

  // With the entry's CRC-32 made to match, LibTorch's importer fails (torch::jit::ErrorReport).
  fix_zip_crc(archive, "archive/data.pkl");
  write_file_atomic(path, archive);
  const std::string message = corrupt_message(path);
  CHECK(message.find(path + ": cannot read checkpoint: corrupt or cut short") == 0);
  CHECK(message.find("Unknown type name") != std::string::npos);
}

TEST_CASE("checkpoint: an archive without its config is a corrupt file named in the error") {
  test::TempDir dir("checkpoint_no_config");
  torch::serialize::OutputArchive archive;
  write_string(archive, "format", "rlcade-checkpoint-1");
  std::ostringstream bytes;
  archive.save_to(bytes);
  const std::string path = (dir.path / "no_config.pt").string();
  write_file_atomic(path, bytes.str());
  CHECK_THROWS_WITH_AS(
      read_checkpoint_config(path),
      (path + ": cannot read checkpoint: checkpoint has no entry 'config'").c_str(),
      CorruptCheckpointError);
}

}  // namespace
}  // namespace rl
