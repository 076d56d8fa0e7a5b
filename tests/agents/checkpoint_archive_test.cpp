// Checkpoints whose LibTorch archive is damaged in ways only the archive reader notices (found
// by tests/fuzz/checkpoint_fuzz.cpp): they are corrupt files, so the fallback to an older
// checkpoint applies, never an escaping LibTorch exception.
#include <string>

#include "agents/checkpoint.h"
#include "core/atomic_file.h"
#include "test_util.h"
#include "torch_doctest.h"  // First: see the header.

namespace rl {
namespace {

TEST_CASE("checkpoint: an archive naming an unknown TorchScript type is a corrupt file") {
  test::TempDir dir("checkpoint_archive");
  const Experiment experiment = test::experiment_from(test::chain_config(100));
  std::string archive = checkpoint_bytes(experiment, TrainerState{});
  archive.resize(archive.size() - 24);  // Without its trailer, as files before it were written.
  const std::string type_prefix = "___torch_mangle_";
  const size_t at = archive.find(type_prefix);
  REQUIRE(at != std::string::npos);
  archive.replace(at, type_prefix.size(), "___torch_mangde_");
  const std::string path = (dir.path / "untyped.pt").string();
  write_file_atomic(path, archive);

  std::string message;
  try {
    verify_checkpoint(path);
  } catch (const CorruptCheckpointError& e) {
    message = e.what();
  }
  CHECK(message.find(path + ": cannot read checkpoint: corrupt or cut short") == 0);
  CHECK(message.find("Unknown type name") != std::string::npos);
}

}  // namespace
}  // namespace rl
