// rlreport in a real browser: small real runs (rltrain --seeds on CartPole, a few seconds),
// their report opened by headless Chromium (Debian's chromium), which must log no console
// message, and whose screenshot must show the curves: pixels of the first config's colour,
// and of its confidence band, inside the first plot area (tests/apps/report_screenshot.py
// decodes the PNG with Python's standard library).
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "core/atomic_file.h"
#include "run_app.h"

namespace rl {
namespace {

namespace fs = std::filesystem;
using test::contains;
using test::run_app;
using test::shell_quoted;
using test::TempDir;

constexpr char kChromium[] = "/usr/bin/chromium";
constexpr char kPlotBackground[] = "f7f9fc";  // rlreport's plot area (apps/rlreport/svg_chart.h)
constexpr char kFirstColour[] = "1f77b4";     // rlreport's first config colour

// Opens `page` in headless Chromium, saves a screenshot to `png`; returns Chromium's log.
test::AppResult open_in_chromium(const fs::path& page, const fs::path& png,
                                 const fs::path& profile) {
  REQUIRE_MESSAGE(fs::exists(kChromium),
                  "Chromium is missing: install Debian's chromium (setup.sh)");
  return test::run_command(std::string(kChromium) +
                           " --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run"
                           " --enable-logging=stderr --v=0 --user-data-dir=" +
                           shell_quoted(profile) +
                           " --window-size=1280,1000 --screenshot=" + shell_quoted(png) + " " +
                           shell_quoted("file://" + page.string()) + " 2>&1");
}

// The console lines of a Chromium log ("...:INFO:CONSOLE(12)] \"message\", source: ...").
std::string console_lines(const std::string& log) {
  std::istringstream in(log);
  std::string line, found;
  while (std::getline(in, line))
    if (contains(line, ":CONSOLE")) found += line + "\n";
  return found;
}

// report_screenshot.py's verdict on `png`: "plot X0 Y0 X1 Y1 curve N band M".
struct Screenshot {
  bool plot_found = false;
  int curve_pixels = 0, band_pixels = 0;
  std::string text;
};
Screenshot inspect(const fs::path& png) {
  const fs::path script = test::source_dir() / "tests" / "apps" / "report_screenshot.py";
  const auto r =
      test::run_command("/usr/bin/python3 " + shell_quoted(script) + " " + shell_quoted(png) + " " +
                        kPlotBackground + " " + kFirstColour + " 2>&1");
  Screenshot shot;
  shot.text = r.output;
  int x0, y0, x1, y1;
  shot.plot_found =
      r.exit_code == 0 && std::sscanf(r.output.c_str(), "plot %d %d %d %d curve %d band %d", &x0,
                                      &y0, &x1, &y1, &shot.curve_pixels, &shot.band_pixels) == 6;
  return shot;
}

TEST_CASE(
    "rlreport: Chromium opens the report of real runs without console errors and draws the "
    "curves") {
  TempDir dir("report_browser");
  const fs::path config = test::source_dir() / "configs" / "dqn_cartpole.yaml";
  const auto trained = run_app(
      "rltrain",
      shell_quoted(config) +
          " --seeds 1-3 --jobs 2 --out runs/cartpole --set train.total_steps=2000"
          " --set train.eval_every=500 --set train.eval_episodes=3 --set agent.learning_starts=500",
      dir.path);
  INFO(trained.output);
  REQUIRE(trained.exit_code == 0);
  const auto reported = run_app("rlreport", "runs/cartpole --out report.html", dir.path);
  INFO(reported.output);
  REQUIRE(reported.exit_code == 0);
  std::ifstream in(dir.path / "report.html");
  const std::string html{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  CHECK(contains(html, "cartpole (3 seeds)"));
  CHECK(contains(html, "data:image/gif;base64,R0lGODlh"));          // The best episode, embedded.
  CHECK(contains(html, "eval_mean &gt;= 475 within 50000 steps"));  // The shipped target.

  const auto browser =
      open_in_chromium(dir.path / "report.html", dir.path / "shot.png", dir.path / "profile");
  INFO(browser.output);
  REQUIRE(browser.exit_code == 0);
  CHECK(console_lines(browser.output).empty());
  const Screenshot shot = inspect(dir.path / "shot.png");
  INFO(shot.text);
  REQUIRE(shot.plot_found);
  CHECK(shot.curve_pixels > 200);  // The mean line, opaque.
  CHECK(shot.band_pixels > 2000);  // The 95% band under it.
}

TEST_CASE("the browser checks see console errors and pages without curves") {
  TempDir dir("report_browser_control");
  write_file_atomic((dir.path / "bad.html").string(),
                    "<!DOCTYPE html><html><body><p>no curves</p>"
                    "<script>console.error('deliberate error')</script></body></html>\n");
  const auto browser =
      open_in_chromium(dir.path / "bad.html", dir.path / "shot.png", dir.path / "profile");
  INFO(browser.output);
  REQUIRE(browser.exit_code == 0);
  CHECK(contains(console_lines(browser.output), "deliberate error"));
  CHECK_FALSE(inspect(dir.path / "shot.png").plot_found);
}

}  // namespace
}  // namespace rl
