#include "core/registry.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>
#include <string_view>

namespace rl {

EnvRegistry& EnvRegistry::global() {
  static EnvRegistry registry;
  return registry;
}

namespace {

bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }
bool is_digit_char(char c) { return c >= '0' && c <= '9'; }

// Whether `text` is one or more characters, each passing `allowed`.
template <typename Allowed>
bool nonempty_of(std::string_view text, Allowed allowed) {
  return !text.empty() && std::all_of(text.begin(), text.end(), allowed);
}

// The env id rule: a plain name [a-z0-9_]+, or family/name-vN, i.e.
// [a-z0-9_]+(/[a-z0-9_-]+)*-v[0-9]+ (the first segment without '-').
bool is_valid_env_id(std::string_view id) {
  if (nonempty_of(id, is_name_char)) return true;
  const size_t version = id.rfind("-v");
  if (version == std::string_view::npos || !nonempty_of(id.substr(version + 2), is_digit_char))
    return false;
  std::string_view path = id.substr(0, version);
  size_t slash = path.find('/');
  if (!nonempty_of(path.substr(0, slash), is_name_char)) return false;
  while (slash != std::string_view::npos) {
    path.remove_prefix(slash + 1);
    slash = path.find('/');
    if (!nonempty_of(path.substr(0, slash), [](char c) { return is_name_char(c) || c == '-'; }))
      return false;
  }
  return true;
}

}  // namespace

void EnvRegistry::add(EnvEntry entry) {
  if (!is_valid_env_id(entry.id))
    throw std::invalid_argument("env id '" + entry.id +
                                "' is malformed: expected family/name-vN (lowercase)");
  if (entries_.count(entry.id))
    throw std::invalid_argument("env id '" + entry.id + "' is registered twice");
  if (!entry.factory) throw std::invalid_argument("env id '" + entry.id + "' has no factory");
  std::string id = entry.id;
  entries_.emplace(std::move(id), std::move(entry));
}

const EnvEntry& EnvRegistry::find(const std::string& id) const {
  auto it = entries_.find(id);
  if (it != entries_.end()) return it->second;
  throw std::invalid_argument(unknown_id_message(id));
}

namespace {

// Levenshtein distance: insertions, deletions and substitutions of one character each.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({substitute, row[j] + 1, row[j - 1] + 1});
    }
  }
  return row[b.size()];
}

// "classic/cartpole-v1" without its version ("classic/cartpole") and its bare name ("cartpole").
std::string_view without_version(std::string_view id) {
  const size_t dash = id.rfind("-v");
  return dash == std::string_view::npos ? id : id.substr(0, dash);
}

std::string_view bare_name(std::string_view id) {
  const std::string_view unversioned = without_version(id);
  const size_t slash = unversioned.rfind('/');
  return slash == std::string_view::npos ? unversioned : unversioned.substr(slash + 1);
}

size_t id_distance(std::string_view query, std::string_view id) {
  return std::min({edit_distance(query, id), edit_distance(query, without_version(id)),
                   edit_distance(query, bare_name(id))});
}

}  // namespace

std::vector<std::string> EnvRegistry::nearest_ids(const std::string& id, size_t count) const {
  std::string query = id;  // ids are lowercase: "CartPole" should find "cartpole"
  std::transform(query.begin(), query.end(), query.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::vector<std::pair<size_t, std::string>> ranked;
  for (const auto& [name, _] : entries_) ranked.emplace_back(id_distance(query, name), name);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < ranked.size() && i < count; ++i) out.push_back(ranked[i].second);
  return out;
}

std::string EnvRegistry::suggestions(const std::string& id) const {
  if (entries_.empty()) return "no env is registered";
  std::string nearest;
  for (const std::string& name : nearest_ids(id)) nearest += (nearest.empty() ? "" : ", ") + name;
  return "nearest: " + nearest + "; `rltrain --list` shows all " + std::to_string(entries_.size());
}

std::string EnvRegistry::unknown_id_message(const std::string& id) const {
  return "unknown env id '" + id + "'; " + suggestions(id);
}

std::unique_ptr<Env> EnvRegistry::make(const std::string& id,
                                       const std::map<std::string, ParamValue>& params) const {
  const EnvEntry& entry = find(id);
  return entry.factory(Params::resolve(entry.params, params, id));
}

EnvEntry entry_from_spec(std::vector<ParamSpec> params,
                         const std::function<EnvSpec(const Params&)>& make_spec,
                         EnvFactory factory) {
  const EnvSpec spec = make_spec(Params::resolve(params, {}, "the env being registered"));
  return EnvEntry{spec.id, spec.description, std::move(params), std::move(factory)};
}

std::vector<std::string> EnvRegistry::ids() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : entries_) out.push_back(name);
  return out;
}

}  // namespace rl
