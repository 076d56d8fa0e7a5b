// What the command lines of rltrain, rlwatch, rlserve and rlbench share, on top of CLI11: one
// help layout, one wording of usage errors, one exit-code scheme, and numeric flags read by
// the value rule of core/key_value.h (so --episodes 1e3 means 1000 wherever it is given).
//
// Header-only on purpose, and included only by the argument-parsing sources (apps/*/main.cpp,
// render/watch_cli.cpp): CLI11 is slow to compile, and core itself never needs it.
//
//   CLI::App app("", "rlbench");
//   cli::configure(app, "rlbench [--seed N]", "Speed benchmarks.\n", "Exit codes: ...\n");
//   cli::add_int(app, "--seed", args.seed, 0, INT64_MAX, "seed of envs and agents");
//   if (!cli::parse(app, {argv + 1, argv + argc})) print app.help() and exit with kExitOk;
//   a cli::UsageError: print usage_error_line("rlbench", e.what()), exit with kExitUsage.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <climits>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/key_value.h"

namespace rl::cli {

// Exit codes of every app (each --help states them, with any app-specific addition).
inline constexpr int kExitOk = 0;       // Done; for a check: it passed.
inline constexpr int kExitFailure = 1;  // The work ran and failed, or a check found a problem.
inline constexpr int kExitUsage = 2;    // Bad option, value or config: nothing was done.

// A command line that cannot be accepted. The message names the flag or argument and the
// offending value. (An invalid_argument, so callers of in-process parsers can catch either.)
class UsageError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// The help layout of every app: usage lines, a description, the options (descriptions wrapped
// to 100 columns), a footer.
class HelpFormatter : public CLI::Formatter {
 public:
  static constexpr size_t kWidth = 100;

  explicit HelpFormatter(std::string usage) : usage_(std::move(usage)) { column_width(30); }

  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode mode) const override {
    std::string description = app->get_description();
    while (!description.empty() && description.back() == '\n') description.pop_back();
    std::string out = "usage: " + usage_ + "\n\n" + description + "\n";
    out += make_positionals(app) + make_groups(app, mode);
    const std::string footer = make_footer(app);
    if (!footer.empty()) out += "\n" + footer;
    return out;
  }

  std::string make_option_desc(const CLI::Option* option) const override {
    return wrap(CLI::Formatter::make_option_desc(option), kWidth - column_width_);
  }

 private:
  // Breaks `text` at spaces into lines of at most `width` characters (longer words stay whole).
  static std::string wrap(const std::string& text, size_t width) {
    std::string out;
    size_t line_start = 0;
    for (size_t word = 0; word < text.size();) {
      const size_t end = std::min(text.find(' ', word), text.size());
      if (end - line_start > width && word > line_start) {
        out.back() = '\n';  // The space before this word.
        line_start = word;
      }
      out.append(text, word, end - word);
      if (end < text.size()) out += ' ';
      word = end + 1;
    }
    return out;
  }

  std::string usage_;
};

// Sets up `app` in the shared layout. `usage` holds the synopsis lines (continuation lines
// indented by 7 spaces to sit under the first), `description` what the app does, `footer` the
// notes after the options (ending with the exit codes). -h/--help prints the help.
inline void configure(CLI::App& app, const std::string& usage, const std::string& description,
                      const std::string& footer) {
  app.description(description);
  app.footer(footer);
  app.formatter(std::make_shared<HelpFormatter>(usage));
  app.option_defaults()->group("options");
  app.get_formatter()->label("Positionals", "arguments");
  app.set_help_flag("-h,--help", "print this help and exit");
  app.allow_extras();  // Leftovers are reported by parse() in our wording.
}

namespace detail {

// "--set: 1 required TEXT missing" -> "--set needs a value"; other CLI11 messages as they are.
inline std::string describe(const CLI::ParseError& error) {
  const std::string what = error.what();
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error)) {
    const size_t colon = what.find(':');
    if (colon != std::string::npos && what.find("missing") != std::string::npos)
      return what.substr(0, colon) + " needs a value";
  }
  return what;
}

}  // namespace detail

// Parses `args` (argv without the program name). Returns false when -h/--help was given (the
// caller prints app.help() and exits with kExitOk); throws UsageError for an unknown option,
// a surplus argument, a missing value, or whatever an option's callback rejects.
inline bool parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first.
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    return false;
  } catch (const CLI::ParseError& e) {
    throw UsageError(detail::describe(e));
  }
  for (const std::string& extra : app.remaining()) {
    if (extra.size() > 1 && extra[0] == '-') throw UsageError("unknown option '" + extra + "'");
    throw UsageError("unexpected argument '" + extra + "'");
  }
  return true;
}

// The one line every app prints for a usage error: "rlserve: <message> (see rlserve --help)".
inline std::string usage_error_line(const std::string& app_name, const std::string& message) {
  return app_name + ": " + message + " (see " + app_name + " --help)\n";
}

// An integer by the int rule of core/key_value.h, within [min, max]; otherwise UsageError
// "<flag> expects an integer >= 1, got '0'".
inline int64_t int_value(const std::string& flag, const std::string& text, int64_t min,
                         int64_t max) {
  const std::optional<int64_t> value = parse_int(text);
  if (!value || *value < min || *value > max) {
    const std::string range =
        max == INT64_MAX ? " >= " + std::to_string(min)
                         : " in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
    throw UsageError(flag + " expects an integer" + range + ", got '" + text + "'");
  }
  return *value;
}

// A number by the float rule of core/key_value.h that `valid` accepts; otherwise UsageError
// "<flag> expects <expected>, got 'x'" (e.g. expected = "a number in (0, 10000]").
inline double float_value(const std::string& flag, const std::string& text,
                          const std::function<bool(double)>& valid, const std::string& expected) {
  const std::optional<double> value = parse_float(text);
  if (!value || !valid(*value))
    throw UsageError(flag + " expects " + expected + ", got '" + text + "'");
  return *value;
}

// Adds `flag` taking one value that `convert` turns into what it stores (convert throws
// UsageError for a bad value). Given twice, the last value wins.
inline CLI::Option* add_value(CLI::App& app, const std::string& flag, const std::string& doc,
                              std::function<void(const std::string&)> convert) {
  return app.add_option_function<std::string>(flag, std::move(convert), doc)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

// `flag` INT in [min, max] stored into `target` (an integer type or std::optional of one).
template <typename T>
CLI::Option* add_int(CLI::App& app, const std::string& flag, T& target, int64_t min, int64_t max,
                     const std::string& doc) {
  return add_value(app, flag, doc,
                   [&target, flag, min, max](const std::string& text) {
                     const int64_t value = int_value(flag, text, min, max);
                     if constexpr (std::is_integral_v<T>)
                       target = static_cast<T>(value);
                     else
                       target = static_cast<typename T::value_type>(value);
                   })
      ->type_name("N");
}

// `flag` VALUE appended to `target` on every occurrence (e.g. --set K=V, repeatable); the help
// shows `placeholder` for the value.
inline CLI::Option* add_repeated(CLI::App& app, const std::string& flag,
                                 std::vector<std::string>& target, const std::string& placeholder,
                                 const std::string& doc) {
  return app.add_option(flag, target, doc)->allow_extra_args(false)->option_text(placeholder);
}

}  // namespace rl::cli
