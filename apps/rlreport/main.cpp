// rlreport RUN... [--out report.html]: turns run folders into one self-contained HTML page.
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "apps/rlreport/html_report.h"
#include "apps/rlreport/run_data.h"
#include "core/atomic_file.h"
#include "core/command_line.h"
#include "core/config.h"

namespace {

using rl::cli::UsageError;

constexpr char kSynopsis[] =
    "rlreport RUN... [--out report.html] [--x steps|wall] [--metric eval_mean|eval_success]\n"
    "       [--gap-threshold X] [--no-episodes] [--title TEXT] [--resamples N]";
constexpr char kDescription[] =
    "Writes one self-contained HTML page (inline SVG and CSS, no scripts, nothing fetched) "
    "comparing\n"
    "training runs: learning curves (mean over seeds with a 95% bootstrap band), final scores\n"
    "(IQM, mean, median, optimality gap with 95% stratified-bootstrap intervals, as rliable),\n"
    "probability of improvement between configs, performance profiles, each config's target\n"
    "met or not, and each config's best recorded evaluation episode as a GIF.\n\n"
    "A RUN is a multi-seed folder (rltrain --seeds: runs/<name>/ with seed-<k>/), one config of\n"
    "several seeds, or a single run folder (metrics.csv), one config of one seed.\n";
constexpr char kFooter[] =
    "Scores are each seed's final evaluation of the metric (default: the config's target metric,\n"
    "else eval_mean). The optimality gap needs a threshold: --gap-threshold, else the target's.\n\n"
    "Exit codes: 0 done (the report is written), 1 failed: an unusable RUN (a missing or\n"
    "malformed metrics.csv, a bad target; the message names the file and line) or the report\n"
    "could not be written, 2 bad arguments. Nothing is written unless the code is 0.\n";

struct Args {
  std::vector<std::string> runs;
  std::string out = "report.html";
  rl::report::ReportOptions report;
  std::optional<std::string> help;
};

Args parse_args(int argc, char** argv) {
  Args a;
  CLI::App app("", "rlreport");
  rl::cli::configure(app, kSynopsis, kDescription, kFooter);
  app.add_option("RUN", a.runs, "run folders or multi-seed folders, one config each")
      ->type_name("");
  app.add_option("--out", a.out, "the page to write (default report.html)")->type_name("FILE");
  rl::cli::add_value(app, "--x", "x axis of the learning curves: steps (default) or wall",
                     [&a](const std::string& text) {
                       if (text != "steps" && text != "wall")
                         throw UsageError("--x expects steps or wall, got '" + text + "'");
                       a.report.x_axis = text == "wall" ? rl::report::XAxis::kWallSeconds
                                                        : rl::report::XAxis::kSteps;
                     })
      ->type_name("AXIS");
  rl::cli::add_value(
      app, "--metric", "score every config by eval_mean or eval_success",
      [&a](const std::string& text) {
        if (text != "eval_mean" && text != "eval_success")
          throw UsageError("--metric expects eval_mean or eval_success, got '" + text + "'");
        a.report.metric = text;
      })
      ->type_name("NAME");
  rl::cli::add_value(app, "--gap-threshold", "optimality-gap threshold for every config",
                     [&a](const std::string& text) {
                       a.report.gap_threshold = rl::cli::float_value(
                           "--gap-threshold", text, [](double v) { return std::isfinite(v); },
                           "a number");
                     })
      ->type_name("X");
  app.add_flag_callback(
      "--no-episodes", [&a] { a.report.episodes = false; },
      "leave out the GIFs of the best evaluation episodes");
  app.add_option("--title", a.report.title, "the page's title (default rlreport)")
      ->type_name("TEXT");
  rl::cli::add_int(app, "--resamples", a.report.bootstrap.resamples, 1, 1000000,
                   "bootstrap replicates of the score intervals (default 2000)");
  if (!rl::cli::parse(app, std::vector<std::string>(argv + 1, argv + argc))) {
    a.help = app.help();
    return a;
  }
  if (a.runs.empty()) throw UsageError("missing RUN: name at least one run folder");
  if (a.out.empty()) throw UsageError("--out needs a file name");
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  try {
    args = parse_args(argc, argv);
  } catch (const UsageError& e) {
    std::cerr << rl::cli::usage_error_line("rlreport", e.what());
    return rl::cli::kExitUsage;
  }
  if (args.help) {
    std::cout << *args.help;
    return rl::cli::kExitOk;
  }
  std::string page;
  std::vector<std::string> warnings;
  try {
    std::vector<std::filesystem::path> dirs(args.runs.begin(), args.runs.end());
    page = rl::report::html_report(rl::report::load_all(dirs), args.report, &warnings);
  } catch (const std::exception& e) {  // ReportError, ConfigError, ReplayError: unusable files.
    std::cerr << "rlreport: " << e.what() << "\n";
    return rl::cli::kExitFailure;
  }
  for (const std::string& warning : warnings) std::cerr << "rlreport: warning: " << warning << "\n";
  try {
    rl::write_file_atomic(args.out, page);
  } catch (const std::exception& e) {
    std::cerr << "rlreport: " << e.what() << "\n";
    return rl::cli::kExitFailure;
  }
  std::cout << "rlreport: wrote " << args.out << " (" << args.runs.size() << " run argument"
            << (args.runs.size() == 1 ? "" : "s") << ")\n";
  return rl::cli::kExitOk;
}
