// Training metrics: a CSV writer with a fixed set of columns (and row sinks fed the same rows,
// e.g. TensorBoard event files) and a console progress line (steps, steps/s, recent return, ETA).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace rl {

// Receives every row a CsvWriter writes, right after the row reached the CSV file.
class MetricsRowSink {
 public:
  virtual ~MetricsRowSink() = default;
  // `row` holds the cells of this row only (a column left out of the row is absent).
  virtual void write_row(const std::map<std::string, double>& row) = 0;
};

// Appends rows to a CSV file whose columns are fixed at construction. Each row is flushed so a
// crash loses at most the row being written. Cells left out of a row stay empty.
class CsvWriter {
 public:
  // Opens `path`. With `append` and an existing file, its header must equal `columns` (rows
  // continue, e.g. on resume); otherwise the file is created with a header line. Throws
  // std::runtime_error when the file cannot be opened or the header differs.
  CsvWriter(const std::string& path, std::vector<std::string> columns, bool append = false);

  // Writes one row, then hands it to every sink in the order they were added. Throws
  // std::invalid_argument for a name that is not a column (nothing is written then).
  void write(const std::map<std::string, double>& values);
  // Feeds `sink` every row written from now on; the writer owns it.
  void add_sink(std::unique_ptr<MetricsRowSink> sink);

  const std::vector<std::string>& columns() const { return columns_; }

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::ofstream out_;
  std::vector<std::unique_ptr<MetricsRowSink>> sinks_;
};

// Mean of the last `capacity` values (e.g. episode returns).
class RecentMean {
 public:
  explicit RecentMean(size_t capacity = 20) : capacity_(capacity) {}
  void add(double value);
  bool empty() const { return values_.empty(); }
  size_t count() const { return values_.size(); }
  double mean() const;  // 0 when empty.

 private:
  size_t capacity_;
  std::deque<double> values_;
  double sum_ = 0.0;
};

// What the progress line shows.
struct ProgressState {
  int64_t step = 0;
  int64_t total_steps = 0;
  double steps_per_second = 0.0;
  std::optional<double> recent_return;  // Mean return of recent training episodes.
  std::optional<double> last_eval;      // Latest greedy evaluation mean.
};

// One line, e.g. "[#####     ]  50%  25.0k/50.0k steps  12.3k steps/s  return 187.2
// eval 500.0  ETA 0:02". `width` is the bar's character count.
std::string format_progress(const ProgressState& state, int width = 24);
// "1.5k", "12.3k", "2.1M" (3 significant figures), plain below 1000.
std::string format_count(double value);
// "0:07", "3:05", "1:02:03".
std::string format_duration(double seconds);

// Prints progress to a stream. Interactive (a terminal): the line is redrawn in place with
// '\r', at most ~10 times per second. Otherwise (a log file, a pipe): a full line is printed
// whenever `print_every` steps have passed since the last line.
class ProgressPrinter {
 public:
  ProgressPrinter(std::ostream& out, bool interactive, int64_t print_every);
  void update(const ProgressState& state);
  // Prints a message on its own line without garbling the progress line.
  void message(const std::string& text);
  // Ends the progress line (prints the final state).
  void finish(const ProgressState& state);

 private:
  std::ostream& out_;
  bool interactive_;
  int64_t print_every_;
  int64_t last_printed_step_ = -1;
  std::chrono::steady_clock::time_point last_draw_{};
  bool line_open_ = false;
  size_t last_length_ = 0;
};

// True when `stream` is stderr/stdout attached to a terminal.
bool is_terminal(const std::ostream& stream);

}  // namespace rl
