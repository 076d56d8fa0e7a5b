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

// The central directory entry of `name` (the last occurrence of the name is the directory's).
size_t directory_entry(const std::string& zip, const std::string& name) {
  return zip.rfind(name) - 46;
}

std::string checkpoint_archive_without_trailer() {
  const Experiment experiment = test::experiment_from(test::chain_config(100));
  std::string archive = checkpoint_bytes(experiment, TrainerState{});
  archive.resize(archive.size() - 24);
  return archive;
}

TEST_CASE("checkpoint: zip64 size fields are read from their extra field, never skipped") {
  test::TempDir dir("checkpoint_zip64");
  const std::string path = (dir.path / "zip64.pt").string();
  const std::string original = checkpoint_archive_without_trailer();
  const std::string entry_name = "archive/data.pkl";  // Stored, not deflated.
  const size_t entry = directory_entry(original, entry_name);
  REQUIRE((u32_at(original, entry + 10) & 0xFFFF) == 0);

  SUBCASE("a size at the zip64 marker without a zip64 extra field is damage") {
    // Found by fuzz_checkpoint: such an entry once made the whole check step aside, and LibTorch
    // then reserved the 4 GB another entry claimed.
    std::string archive = original;
    set_u32_at(archive, entry + 20, 0xFFFFFFFF);
    write_file_atomic(path, archive);
    CHECK(corrupt_message(path) == path + ": cannot read checkpoint: corrupt: archive entry '" +
                                       entry_name + "' has a damaged header");
  }
  SUBCASE("an entry whose sizes are in a zip64 extra field reads") {
    std::string archive = original;
    const uint32_t size = u32_at(archive, entry + 20);
    std::string extra = {1, 0, 16, 0};  // Zip64 extended information: two 8-byte sizes.
    for (int half = 0; half < 2; ++half) {
      for (int i = 0; i < 8; ++i) extra.push_back(i < 4 ? static_cast<char>(size >> (8 * i)) : 0);
    }
    set_u32_at(archive, entry + 20, 0xFFFFFFFF);
    set_u32_at(archive, entry + 24, 0xFFFFFFFF);
    const uint32_t name_bytes = u32_at(archive, entry + 28) & 0xFFFF;
    REQUIRE((u32_at(archive, entry + 30) & 0xFFFF) == 0);  // No extra field so far.
    archive[entry + 30] = static_cast<char>(extra.size());
    archive.insert(entry + 46 + name_bytes, extra);
    // The directory grew: its size in both end records, and the zip64 end record moved.
    const size_t end = archive.rfind("PK\x05\x06");
    const size_t record = archive.rfind("PK\x06\x06");
    set_u32_at(archive, end + 12, u32_at(archive, end + 12) + extra.size());
    set_u32_at(archive, record + 40, u32_at(archive, record + 40) + extra.size());
    set_u32_at(archive, end - 20 + 8, record);
    write_file_atomic(path, archive);
    CHECK(corrupt_message(path) == "");
    // The extra field's sizes are the ones checked: a wrong one is damage.
    archive[entry + 46 + name_bytes + 4] ^= 1;
    write_file_atomic(path, archive);
    CHECK(corrupt_message(path).find("corrupt: archive entry '" + entry_name) != std::string::npos);
  }
  SUBCASE("the directory named by the zip64 end record, which must agree with the end record") {
    // LibTorch writes a zip64 end record into every archive, found through its locator.
    std::string archive = original;
    const size_t end = archive.rfind("PK\x05\x06");
    const size_t record = archive.rfind("PK\x06\x06");
    REQUIRE(u32_at(archive, end - 20) == 0x07064b50);
    REQUIRE(u32_at(archive, record + 48) == u32_at(archive, end + 16));
    set_u32_at(archive, end + 16, 0xFFFFFFFF);  // The 32-bit offset defers to the zip64 one.
    write_file_atomic(path, archive);
    CHECK(corrupt_message(path) == "");
    set_u32_at(archive, record + 48, u32_at(original, end + 16) + 46);
    write_file_atomic(path, archive);
    CHECK(corrupt_message(path) ==
          path + ": cannot read checkpoint: corrupt: the archive's directory is damaged");
    // Two directories, one for each reader: the end records disagree.
    archive = original;
    set_u32_at(archive, record + 48, u32_at(original, end + 16) + 46);
    write_file_atomic(path, archive);
    CHECK(corrupt_message(path) ==
          path + ": cannot read checkpoint: corrupt: the archive's directory is damaged");
  }
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
