#include "core/registry.h"

#include <regex>
#include <stdexcept>

namespace rl {

EnvRegistry& EnvRegistry::global() {
  static EnvRegistry registry;
  return registry;
}

void EnvRegistry::add(EnvEntry entry) {
  static const std::regex id_pattern(R"([a-z0-9_]+(/[a-z0-9_\-]+)*-v[0-9]+|[a-z0-9_]+)");
  if (!std::regex_match(entry.id, id_pattern))
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
  std::string known;
  for (const auto& [name, _] : entries_) known += "\n  " + name;
  throw std::invalid_argument("unknown env id '" + id +
                              "'; known ids:" + (known.empty() ? std::string(" (none)") : known));
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
