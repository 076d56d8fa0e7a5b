// rlexport: turns a trained agent into a self-contained TorchScript policy file.
//   rlexport RUN|CHECKPOINT --out policy.pt
// The policy's contents and attributes: agents/export/policy_export.h, docs/export.md.

#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "agents/checkpoint.h"
#include "agents/checkpoint_history.h"
#include "agents/export/policy_export.h"
#include "core/command_line.h"

namespace {

using rl::cli::UsageError;

const char kSynopsis[] = R"(rlexport RUN|CHECKPOINT --out POLICY.pt
       rlexport --help)";

const char kDescription[] =
    R"(Exports a trained agent as a TorchScript policy: the network's weights, the observation
preprocessing the agent applies (u8 scaling, normalize_observation statistics) and the greedy
action rule, loadable with torch.jit.load (Python) or torch::jit::load (C++) without rlcade.
RUN is an rltrain run folder (checkpoints/best.pt, else final.pt, else latest.pt is exported);
CHECKPOINT a checkpoint file. docs/export.md shows how to load and use the file.
)";

const char kFooter[] =
    R"(Exit codes: 0 done (exported), 1 the checkpoint could not be read or exported, 2 bad arguments
(nothing was done).
)";

struct Args {
  std::string source;
  std::string out;
  std::optional<std::string> help;
};

Args parse_args(int argc, char** argv) {
  Args a;
  CLI::App app("", "rlexport");
  rl::cli::configure(app, kSynopsis, kDescription, kFooter);
  app.add_option("RUN|CHECKPOINT", a.source, "run folder or checkpoint file to export")
      ->type_name("");
  app.add_option("--out", a.out, "where to write the policy (e.g. policy.pt)")->type_name("PATH");
  if (!rl::cli::parse(app, std::vector<std::string>(argv + 1, argv + argc))) {
    a.help = app.help();
    return a;
  }
  if (a.source.empty()) throw UsageError("missing the run folder or checkpoint to export");
  if (a.out.empty()) throw UsageError("missing --out, the policy file to write");
  return a;
}

int run(const Args& a) {
  // A damaged checkpoint falls back to the newest intact one of its run, said on stderr.
  const rl::CheckpointChoice choice = rl::choose_valid_checkpoint(rl::checkpoint_to_read(a.source));
  for (const std::string& line : choice.report()) std::cerr << "rlexport: " << line << '\n';
  const std::string& checkpoint = choice.path;
  rl::TrainerState state;
  rl::Experiment experiment = rl::load_experiment_from_checkpoint(checkpoint, &state);
  const torch::jit::Module policy = rl::export_policy(experiment);
  rl::save_policy(policy, a.out);
  std::cout << "rlexport: " << experiment.agent->type() << " on " << experiment.run().env.id << " ("
            << checkpoint << ", step " << state.env_steps << ") -> " << a.out << "\n";
  return rl::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse_args(argc, argv);
    if (args.help) {
      std::cout << *args.help;
      return rl::cli::kExitOk;
    }
    return run(args);
  } catch (const UsageError& e) {
    std::cerr << rl::cli::usage_error_line("rlexport", e.what());
    return rl::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "rlexport: " << e.what() << "\n";
    return rl::cli::kExitFailure;
  }
}
