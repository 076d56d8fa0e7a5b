// Reading a run's metrics.csv in the tests of multi-process training.
#pragma once

#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "core/atomic_file.h"

namespace rl::test {

// The values of `column` in a run's metrics.csv, in order, skipping the rows that leave it
// empty (evaluation rows leave the agent's columns empty); none when there is no such column.
inline std::vector<double> metric_values(const std::filesystem::path& run,
                                         const std::string& column) {
  std::istringstream lines(read_file((run / "metrics.csv").string()));
  std::string header, line;
  std::getline(lines, header);
  std::istringstream names(header);
  std::string name;
  int index = 0;
  while (std::getline(names, name, ',') && name != column) ++index;
  std::vector<double> values;
  if (name != column) return values;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string value;
    for (int i = 0; i <= index && std::getline(fields, value, ','); ++i) {
    }
    if (!value.empty()) values.push_back(std::stod(value));
  }
  return values;
}

// The last value of `column` in a run's metrics.csv (NaN when it has none).
inline double last_metric(const std::filesystem::path& run, const std::string& column) {
  const std::vector<double> values = metric_values(run, column);
  return values.empty() ? NAN : values.back();
}

}  // namespace rl::test
