#include "core/metrics.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace rl {

namespace {

std::string join_csv(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + cells[i];
  return out;
}

std::string format_cell(double value) {
  if (std::isnan(value)) return "nan";
  char buffer[32];
  if (std::floor(value) == value && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.6g", value);
  }
  return buffer;
}

std::string read_first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

CsvWriter::CsvWriter(const std::string& path, std::vector<std::string> columns, bool append)
    : path_(path), columns_(std::move(columns)) {
  for (const auto& c : columns_) {
    if (c.find_first_of(",\n\"") != std::string::npos) {
      throw std::invalid_argument("CSV column name '" + c + "' contains a comma, quote or newline");
    }
  }
  const std::string header = join_csv(columns_);
  const bool continuing = append && std::filesystem::exists(path);
  if (continuing && read_first_line(path) != header) {
    throw std::runtime_error(path + ": existing CSV header '" + read_first_line(path) +
                             "' differs from the expected '" + header + "'");
  }
  out_.open(path, continuing ? std::ios::app : std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot open " + path + " for writing");
  if (!continuing) out_ << header << '\n' << std::flush;
}

void CsvWriter::write(const std::map<std::string, double>& values) {
  std::vector<std::string> cells(columns_.size());
  for (const auto& [name, value] : values) {
    const auto it = std::find(columns_.begin(), columns_.end(), name);
    if (it == columns_.end()) {
      throw std::invalid_argument(path_ + ": '" + name +
                                  "' is not a column; columns: " + join_csv(columns_));
    }
    cells[static_cast<size_t>(it - columns_.begin())] = format_cell(value);
  }
  out_ << join_csv(cells) << '\n' << std::flush;
  if (!out_) throw std::runtime_error("cannot write to " + path_);
  for (const auto& sink : sinks_) sink->write_row(values);
}

void CsvWriter::add_sink(std::unique_ptr<MetricsRowSink> sink) {
  sinks_.push_back(std::move(sink));
}

void RecentMean::add(double value) {
  values_.push_back(value);
  sum_ += value;
  if (values_.size() > capacity_) {
    sum_ -= values_.front();
    values_.pop_front();
  }
}

double RecentMean::mean() const {
  return values_.empty() ? 0.0 : sum_ / static_cast<double>(values_.size());
}

std::string format_count(double value) {
  char buffer[32];
  const double magnitude = std::fabs(value);
  if (magnitude < 1000) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else if (magnitude < 1e6) {
    std::snprintf(buffer, sizeof buffer, magnitude < 1e4 ? "%.2fk" : "%.1fk", value / 1e3);
  } else if (magnitude < 1e9) {
    std::snprintf(buffer, sizeof buffer, magnitude < 1e7 ? "%.2fM" : "%.1fM", value / 1e6);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2fG", value / 1e9);
  }
  return buffer;
}

std::string format_duration(double seconds) {
  const int64_t total = std::max<int64_t>(0, std::llround(seconds));
  const int64_t h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buffer[32];
  if (h > 0) {
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld:%02lld", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s));
  } else {
    std::snprintf(buffer, sizeof buffer, "%lld:%02lld", static_cast<long long>(m),
                  static_cast<long long>(s));
  }
  return buffer;
}

// The progress line is hand-written on purpose: one line of text, redrawn in place on a
// terminal and printed every print_every steps otherwise (CI logs). Progress-bar libraries
// for C++ are not packaged in Debian 12 (only Go, Perl and Python ones are), and the line must
// also read well in a log file.
std::string format_progress(const ProgressState& state, int width) {
  const double fraction =
      state.total_steps > 0
          ? std::clamp(static_cast<double>(state.step) / static_cast<double>(state.total_steps),
                       0.0, 1.0)
          : 0.0;
  const int filled = static_cast<int>(std::floor(fraction * width));
  std::ostringstream line;
  line << '[' << std::string(filled, '#') << std::string(width - filled, ' ') << "] ";
  char percent[8];
  std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(fraction * 100));
  line << percent << "  " << format_count(static_cast<double>(state.step)) << '/'
       << format_count(static_cast<double>(state.total_steps)) << " steps  "
       << format_count(state.steps_per_second) << " steps/s";
  char number[32];
  if (state.recent_return) {
    std::snprintf(number, sizeof number, "%.1f", *state.recent_return);
    line << "  return " << number;
  }
  if (state.last_eval) {
    std::snprintf(number, sizeof number, "%.1f", *state.last_eval);
    line << "  eval " << number;
  }
  if (state.steps_per_second > 0 && state.step < state.total_steps) {
    line << "  ETA "
         << format_duration(static_cast<double>(state.total_steps - state.step) /
                            state.steps_per_second);
  }
  return line.str();
}

ProgressPrinter::ProgressPrinter(std::ostream& out, bool interactive, int64_t print_every)
    : out_(out), interactive_(interactive), print_every_(std::max<int64_t>(1, print_every)) {}

void ProgressPrinter::update(const ProgressState& state) {
  if (interactive_) {
    const auto now = std::chrono::steady_clock::now();
    if (line_open_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
    last_draw_ = now;
    const std::string line = format_progress(state);
    out_ << '\r' << line;
    if (line.size() < last_length_) out_ << std::string(last_length_ - line.size(), ' ');
    out_ << std::flush;
    last_length_ = line.size();
    line_open_ = true;
    return;
  }
  if (last_printed_step_ >= 0 && state.step - last_printed_step_ < print_every_) return;
  last_printed_step_ = state.step;
  out_ << format_progress(state) << '\n' << std::flush;
}

void ProgressPrinter::message(const std::string& text) {
  if (line_open_) {
    out_ << '\r' << std::string(last_length_, ' ') << '\r';
    line_open_ = false;
    last_length_ = 0;
  }
  out_ << text << '\n' << std::flush;
}

void ProgressPrinter::finish(const ProgressState& state) {
  if (interactive_) {
    line_open_ = false;  // Force a redraw.
    update(state);
    out_ << '\n' << std::flush;
    line_open_ = false;
    last_length_ = 0;
  } else if (state.step != last_printed_step_) {
    last_printed_step_ = state.step;
    out_ << format_progress(state) << '\n' << std::flush;
  }
}

bool is_terminal(const std::ostream& stream) {
  if (&stream == &std::cerr || &stream == &std::clog) return ::isatty(STDERR_FILENO);
  if (&stream == &std::cout) return ::isatty(STDOUT_FILENO);
  return false;
}

}  // namespace rl
