// Maps env ids ("family/name-vN") to factories. Envs register themselves at static-init time
// with RLCADE_REGISTER_ENV; the envs library is an OBJECT library so no registration is
// dropped by the linker.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/params.h"

namespace rl {

using EnvFactory = std::function<std::unique_ptr<Env>(const Params&)>;

struct EnvEntry {
  std::string id;
  std::string description;        // One line, shown by `rltrain --list`.
  std::vector<ParamSpec> params;  // Declared parameters with defaults and docs.
  EnvFactory factory;
  // False for envs that need something outside the process (e.g. a remote server); the
  // generic conformance tests build only self-contained envs with default parameters.
  bool self_contained = true;
};

class EnvRegistry {
 public:
  static EnvRegistry& global();

  // Throws std::invalid_argument on a duplicate or malformed id (must look like "a/b-vN").
  void add(EnvEntry entry);
  // Builds an env; unknown ids suggest the nearest known ones; parameters are validated by
  // Params.
  std::unique_ptr<Env> make(const std::string& id,
                            const std::map<std::string, ParamValue>& params = {}) const;
  // Throws std::invalid_argument with unknown_id_message() for an unknown id.
  const EnvEntry& find(const std::string& id) const;
  bool contains(const std::string& id) const { return entries_.count(id) > 0; }
  // All ids, sorted.
  std::vector<std::string> ids() const;
  // Up to `count` registered ids nearest to `id`, nearest first: by edit distance to the whole
  // id, to the id without its version and to its bare name, so "cartpool", "classic/cartpole"
  // and "classic/cartpole-v0" all find "classic/cartpole-v1".
  std::vector<std::string> nearest_ids(const std::string& id, size_t count = 5) const;
  // "nearest: a, b, c; `rltrain --list` shows all N": the tail of an unknown-id message.
  std::string suggestions(const std::string& id) const;
  // "unknown env id 'x'; " + suggestions(x).
  std::string unknown_id_message(const std::string& id) const;

 private:
  std::map<std::string, EnvEntry> entries_;
};

// An entry whose id and description are read from the env's spec, so an env writes them once.
// `make_spec` is the function the env's constructor builds its spec with; it is called here once,
// with the defaults of `params`.
EnvEntry entry_from_spec(std::vector<ParamSpec> params,
                         const std::function<EnvSpec(const Params&)>& make_spec,
                         EnvFactory factory);

namespace detail {
struct EnvRegistrar {
  explicit EnvRegistrar(EnvEntry entry) { EnvRegistry::global().add(std::move(entry)); }
};
}  // namespace detail

#define RLCADE_CONCAT_INNER(a, b) a##b
#define RLCADE_CONCAT(a, b) RLCADE_CONCAT_INNER(a, b)
// Usage at namespace scope in a .cpp of envs/, with an EnvEntry or the fields of one:
//   RLCADE_REGISTER_ENV(rl::entry_from_spec({params...}, cartpole_spec,
//                       [](const rl::Params& p) { return std::make_unique<CartPole>(p); }));
//   RLCADE_REGISTER_ENV({"family/name-v0", "One line", {params...}, factory});
#define RLCADE_REGISTER_ENV(...)                                                           \
  static const ::rl::detail::EnvRegistrar RLCADE_CONCAT(rlcade_env_registrar_, __LINE__) { \
    ::rl::EnvEntry(__VA_ARGS__)                                                            \
  }

}  // namespace rl
