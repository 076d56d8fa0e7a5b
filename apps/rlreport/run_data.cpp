#include "apps/rlreport/run_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

#include "core/config.h"
#include "core/json.h"

namespace rl::report {

namespace fs = std::filesystem;

namespace {

constexpr double kEmptyCell = std::numeric_limits<double>::quiet_NaN();

std::vector<std::string> split_cells(const std::string& line) {
  std::vector<std::string> cells;
  size_t from = 0;
  for (size_t comma; (comma = line.find(',', from)) != std::string::npos; from = comma + 1)
    cells.push_back(line.substr(from, comma - from));
  cells.push_back(line.substr(from));
  return cells;
}

// A cell's number: empty -> NaN; otherwise the whole text must be a number.
std::optional<double> parse_cell(const std::string& cell) {
  if (cell.empty()) return kEmptyCell;
  char* end = nullptr;
  const double value = std::strtod(cell.c_str(), &end);
  if (end != cell.c_str() + cell.size()) return std::nullopt;
  return value;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ReportError(path.string() + ": cannot open (missing or unreadable)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<Evaluation> read_evaluations(const fs::path& path) {
  const MetricsTable table = read_metrics_csv(path);
  const int step = table.column("step"), wall = table.column("wall_seconds"),
            mean = table.column("eval_mean"), success = table.column("eval_success");
  std::vector<Evaluation> evaluations;
  for (const std::vector<double>& row : table.rows) {
    if (std::isnan(row[mean])) continue;  // A training row.
    Evaluation e;
    e.step = static_cast<int64_t>(row[step]);
    e.wall_seconds = row[wall];
    e.eval_mean = row[mean];
    if (success >= 0 && !std::isnan(row[success])) e.eval_success = row[success];
    evaluations.push_back(e);
  }
  if (evaluations.empty())
    throw ReportError(path.string() + ": no evaluation rows (no row has an eval_mean cell)");
  return evaluations;
}

SeedRun load_seed(const fs::path& dir, const std::string& label) {
  SeedRun seed;
  seed.label = label;
  seed.dir = dir;
  seed.evaluations = read_evaluations(dir / "metrics.csv");
  const fs::path replay = dir / "replays" / "best.rlr";
  if (fs::is_regular_file(replay)) seed.best_replay = replay;
  return seed;
}

// The seeds of a multi-seed folder: seeds.json's list, else the seed-<k> folders by k.
std::vector<uint64_t> folder_seeds(const fs::path& dir, std::string& name) {
  std::vector<uint64_t> seeds;
  const fs::path listing = dir / "seeds.json";
  if (fs::exists(listing)) {
    try {
      const json::Value value = json::parse(read_text(listing));
      if (const json::Value* n = value.find("name"); n && n->is_string()) name = n->as_string();
      const json::Value* list = value.find("seeds");
      if (!list) throw json::JsonError("no \"seeds\" list");
      for (const json::Value& seed : list->items()) seeds.push_back(seed.as_uint64());
    } catch (const json::JsonError& e) {
      throw ReportError(listing.string() + ": " + e.what());
    }
    return seeds;
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string folder = entry.path().filename().string();
    uint64_t k = 0;
    const char* digits = folder.c_str() + 5;
    if (entry.is_directory() && folder.rfind("seed-", 0) == 0 && folder.size() > 5 &&
        std::from_chars(digits, folder.c_str() + folder.size(), k).ptr ==
            folder.c_str() + folder.size())
      seeds.push_back(k);
  }
  std::sort(seeds.begin(), seeds.end());
  return seeds;
}

std::optional<RunTarget> read_target(const fs::path& config) {
  if (!fs::exists(config)) return std::nullopt;
  ConfigDocument document = ConfigDocument::load_file(config.string());
  ConfigSection root = document.root();
  return read_run_target(root);
}

}  // namespace

int MetricsTable::column(const std::string& name) const {
  const auto at = std::find(columns.begin(), columns.end(), name);
  return at == columns.end() ? -1 : static_cast<int>(at - columns.begin());
}

MetricsTable read_metrics_csv(const fs::path& path) {
  std::istringstream in(read_text(path));
  const std::string where = path.string() + ":";
  MetricsTable table;
  std::string line;
  if (!std::getline(in, line) || line.empty())
    throw ReportError(where + "1: empty file, expected a header line of column names");
  table.columns = split_cells(line);
  for (const char* required : {"step", "wall_seconds", "eval_mean"})
    if (table.column(required) < 0)
      throw ReportError(where + "1: no '" + required + "' column in the header '" + line + "'");
  for (int number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const std::vector<std::string> cells = split_cells(line);
    if (cells.size() != table.columns.size())
      throw ReportError(where + std::to_string(number) + ": " + std::to_string(cells.size()) +
                        " cells, the header has " + std::to_string(table.columns.size()));
    std::vector<double>& row = table.rows.emplace_back();
    for (size_t i = 0; i < cells.size(); ++i) {
      const std::optional<double> value = parse_cell(cells[i]);
      if (!value)
        throw ReportError(where + std::to_string(number) + ": column '" + table.columns[i] +
                          "': expected a number, got '" + cells[i] + "'");
      row.push_back(*value);
    }
    if (std::isnan(row[table.column("step")]))
      throw ReportError(where + std::to_string(number) + ": the 'step' cell is empty");
  }
  return table;
}

bool is_multi_seed_folder(const fs::path& dir) {
  if (fs::exists(dir / "seeds.json")) return true;
  std::string ignored;
  return fs::is_directory(dir) && !fs::exists(dir / "metrics.csv") &&
         !folder_seeds(dir, ignored).empty();
}

ConfigRuns load_config_runs(const fs::path& dir) {
  ConfigRuns config;
  config.dir = dir;
  config.name = fs::absolute(dir).lexically_normal().filename().string();
  if (config.name.empty())
    config.name = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  if (!fs::is_directory(dir))
    throw ReportError(dir.string() + ": no such folder (expected a run folder or runs/<name>/)");
  if (is_multi_seed_folder(dir)) {
    for (const uint64_t k : folder_seeds(dir, config.name)) {
      const std::string label = "seed-" + std::to_string(k);
      config.seeds.push_back(load_seed(dir / label, label));
    }
    if (config.seeds.empty())
      throw ReportError(dir.string() + ": a multi-seed folder without seeds (no seed-<k>/)");
    const fs::path resolved = dir / "seeds_config.yaml";
    config.target =
        read_target(fs::exists(resolved) ? resolved : config.seeds.front().dir / "config.yaml");
    return config;
  }
  if (!fs::exists(dir / "metrics.csv"))
    throw ReportError(dir.string() +
                      ": not a run folder (no metrics.csv) nor a multi-seed folder (no seed-<k>/)");
  config.seeds.push_back(load_seed(dir, config.name));
  config.target = read_target(dir / "config.yaml");
  return config;
}

std::vector<ConfigRuns> load_all(const std::vector<fs::path>& dirs) {
  std::vector<ConfigRuns> configs;
  std::map<std::string, int> uses;
  for (const fs::path& dir : dirs) {
    ConfigRuns config = load_config_runs(dir);
    if (const int n = ++uses[config.name]; n > 1) config.name += " (" + std::to_string(n) + ")";
    configs.push_back(std::move(config));
  }
  return configs;
}

}  // namespace rl::report
