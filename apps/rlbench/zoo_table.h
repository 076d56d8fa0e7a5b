// The zoo's markdown table (docs/zoo.md): rows measured by different `rlbench --zoo` commands,
// merged.
//
// A long config (hours per seed) and a quick one are rarely measured by the same command, and
// run folders do not outlive a machine, so the table is kept row by row: a zoo run with
// `--docs FILE` replaces the rows of the configs it measured and keeps every other row of FILE
// (of configs still shipped) as it was, each row naming the command and time that measured it
// (the "by" column points into the numbered list under the table).
#pragma once

#include <string>
#include <vector>

namespace rl::bench {

// Who measured a row: the command line and when (UTC, "YYYY-MM-DD HH:MM UTC").
struct ZooMeasurement {
  std::string command;
  std::string when;
  bool operator==(const ZooMeasurement&) const = default;
};

// One config's row: its cells from "config" to "time (s)" (no pipes inside a cell), and what
// measured it.
struct ZooRow {
  std::vector<std::string> cells;  // cells[0] is the config's name.
  ZooMeasurement measured;
  const std::string& config() const { return cells.front(); }
};

// The markdown of `rows` in their order, each row pointing at its measurement; `not_measured`
// lists the shipped configs without a row; `smoke` adds the smoke run's warning; `generator` is
// the command that wrote the file (named in its first line).
std::string render_zoo_table(const std::vector<ZooRow>& rows,
                             const std::vector<std::string>& not_measured, bool smoke,
                             const std::string& generator);

// The rows of a table render_zoo_table wrote, or of the earlier one-command format (whose rows
// were all measured by the command and time of its "Generated TIME by `COMMAND`." line).
// Throws std::runtime_error naming the line when the text holds a table row it cannot read.
std::vector<ZooRow> parse_zoo_table(const std::string& markdown);

// `earlier` with each row of `measured` replacing the row of its config (or added after them),
// rows of configs not in `shipped` dropped, then stably ordered by the budget in the target cell
// ("within N steps"; rows without one last).
std::vector<ZooRow> merge_zoo_rows(const std::vector<ZooRow>& earlier,
                                   const std::vector<ZooRow>& measured,
                                   const std::vector<std::string>& shipped);

}  // namespace rl::bench
