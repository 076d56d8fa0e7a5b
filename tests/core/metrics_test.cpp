#include "core/metrics.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/atomic_file.h"
#include "test_support.h"

namespace rl {
namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

using test::TempDir;

TEST_CASE("metrics: CSV rows follow the header, missing cells stay empty, append continues") {
  TempDir dir;
  const auto file = (dir.path / "m.csv").string();
  {
    CsvWriter csv(file, {"step", "loss", "eval_mean"});
    csv.write({{"step", 100}, {"loss", 0.25}});
    csv.write({{"step", 200}, {"eval_mean", 12.5}});
    CHECK_THROWS_AS(csv.write({{"nope", 1}}), std::invalid_argument);
  }
  CHECK(slurp(file) == "step,loss,eval_mean\n100,0.25,\n200,,12.5\n");
  {
    CsvWriter resumed(file, {"step", "loss", "eval_mean"}, /*append=*/true);
    resumed.write({{"step", 300}});
  }
  CHECK(slurp(file) == "step,loss,eval_mean\n100,0.25,\n200,,12.5\n300,,\n");
  CHECK_THROWS_AS(CsvWriter(file, {"step", "other"}, /*append=*/true), std::runtime_error);
  CHECK_THROWS_AS(CsvWriter(file, {"a,b"}), std::invalid_argument);
}

TEST_CASE("metrics: recent mean keeps a window") {
  RecentMean mean(3);
  CHECK(mean.empty());
  CHECK(mean.mean() == 0.0);
  for (double x : {1.0, 2.0, 3.0, 10.0}) mean.add(x);
  CHECK(mean.count() == 3);
  CHECK(mean.mean() == doctest::Approx(5.0));
}

TEST_CASE("metrics: progress line shows steps, rate, return, eval and ETA") {
  CHECK(format_count(950) == "950");
  CHECK(format_count(1500) == "1.50k");
  CHECK(format_count(25000) == "25.0k");
  CHECK(format_count(2.5e6) == "2.50M");
  CHECK(format_duration(7) == "0:07");
  CHECK(format_duration(185) == "3:05");
  CHECK(format_duration(3723) == "1:02:03");
  ProgressState s;
  s.step = 25000;
  s.total_steps = 50000;
  s.steps_per_second = 12500;
  s.recent_return = 187.25;
  s.last_eval = 500;
  const std::string line = format_progress(s, 10);
  CHECK(line ==
        "[#####     ]  50%  25.0k/50.0k steps  12.5k steps/s  return 187.2  eval 500.0"
        "  ETA 0:02");
  s.step = 50000;
  s.recent_return.reset();
  s.last_eval.reset();
  CHECK(format_progress(s, 4) == "[####] 100%  50.0k/50.0k steps  12.5k steps/s");
}

TEST_CASE("metrics: non-interactive progress prints a line every print_every steps") {
  std::ostringstream out;
  ProgressPrinter printer(out, /*interactive=*/false, /*print_every=*/100);
  ProgressState s;
  s.total_steps = 1000;
  for (int64_t step = 10; step <= 250; step += 10) {
    s.step = step;
    printer.update(s);
  }
  printer.message("eval done");
  s.step = 260;
  printer.finish(s);
  std::istringstream lines(out.str());
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(line);
  REQUIRE(all.size() == 5);  // Steps 10, 110, 210, the message, the final state.
  CHECK(all[0].find(" 10/1.00k steps") != std::string::npos);
  CHECK(all[1].find(" 110/1.00k steps") != std::string::npos);
  CHECK(all[2].find(" 210/1.00k steps") != std::string::npos);
  CHECK(all[3] == "eval done");
  CHECK(all[4].find(" 260/1.00k steps") != std::string::npos);
}

TEST_CASE("metrics: interactive progress redraws in place") {
  std::ostringstream out;
  ProgressPrinter printer(out, /*interactive=*/true, 1);
  ProgressState s;
  s.total_steps = 10;
  s.step = 1;
  printer.update(s);
  printer.message("hello");
  s.step = 10;
  printer.finish(s);
  const std::string text = out.str();
  CHECK(text.front() == '\r');
  CHECK(text.find("hello\n") != std::string::npos);
  CHECK(text.back() == '\n');
  CHECK(text.find("10/10 steps") != std::string::npos);
}

TEST_CASE("atomic_file: replaces files whole, creates folders, leaves no temp files") {
  TempDir dir;
  const auto file = (dir.path / "sub" / "x.bin").string();
  write_file_atomic(file, std::string("first"));
  CHECK(read_file(file) == "first");
  const std::string binary("a\0b", 3);
  write_file_atomic(file, binary);
  CHECK(read_file(file) == binary);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path / "sub")) {
    ++entries;
  }
  CHECK(entries == 1);
  // A path whose parent is a file cannot be written; the error names it.
  try {
    write_file_atomic(file + "/inside", std::string("x"));
    FAIL("expected FileWriteError");
  } catch (const FileWriteError& e) {
    CHECK(std::string(e.what()).find(file) != std::string::npos);
  }
  CHECK(read_file(file) == binary);
  CHECK_THROWS_AS(read_file((dir.path / "missing").string()), std::runtime_error);
}

}  // namespace
}  // namespace rl
