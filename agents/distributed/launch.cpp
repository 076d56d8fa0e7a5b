#include "agents/distributed/launch.h"

#include <charconv>
#include <cstdlib>
#include <stdexcept>

namespace rl::distributed {

namespace {

std::optional<int64_t> parse_integer(const std::string& text) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || stop != end) return {};
  return value;
}

int read_int_variable(const char* name, const char* value, int64_t low, int64_t high) {
  const std::optional<int64_t> parsed = parse_integer(value ? value : "");
  if (!parsed || *parsed < low || *parsed > high) {
    throw std::invalid_argument(std::string("environment variable ") + name + "='" +
                                (value ? value : "") + "' is not an integer in [" +
                                std::to_string(low) + ", " + std::to_string(high) + "]");
  }
  return static_cast<int>(*parsed);
}

}  // namespace

std::pair<std::string, int> parse_host_port(const std::string& text, const std::string& what) {
  const size_t colon = text.rfind(':');
  const std::string host = text.substr(0, colon);
  if (host.empty()) {
    throw std::invalid_argument(what + " expects HOST:PORT (e.g. 10.0.0.1:29500), got '" + text +
                                "'");
  }
  if (colon == std::string::npos) return {host, kDefaultMasterPort};
  const std::optional<int64_t> port = parse_integer(text.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535) {
    throw std::invalid_argument(what + ": the port of '" + text +
                                "' must be an integer in [1, 65535]");
  }
  return {host, static_cast<int>(*port)};
}

std::string first_slurm_host(const std::string& node_list) {
  const size_t comma = node_list.find(',');
  const size_t bracket = node_list.find('[');
  if (bracket == std::string::npos || (comma != std::string::npos && comma < bracket)) {
    const std::string host = node_list.substr(0, comma);
    if (host.empty()) throw std::invalid_argument("empty SLURM node list");
    return host;
  }
  // "prefix[03-05,7]...": the prefix and the first number of the range list.
  const size_t end = node_list.find_first_of("-,]", bracket + 1);
  const std::string first = node_list.substr(bracket + 1, end - bracket - 1);
  if (bracket == 0 || first.empty()) {
    throw std::invalid_argument("malformed SLURM node list '" + node_list + "'");
  }
  return node_list.substr(0, bracket) + first;
}

void check_launch(const LaunchSpec& spec) {
  if (spec.world_size < 1) {
    throw std::invalid_argument(spec.source + ": the world size must be at least 1, got " +
                                std::to_string(spec.world_size));
  }
  if (spec.rank < 0 || spec.rank >= spec.world_size) {
    throw std::invalid_argument(spec.source + ": rank " + std::to_string(spec.rank) +
                                " is outside [0, " + std::to_string(spec.world_size - 1) +
                                "] for a world size of " + std::to_string(spec.world_size));
  }
}

std::optional<LaunchSpec> launch_from_environment(
    const std::function<const char*(const char*)>& getenv_function) {
  const auto get = [&](const char* name) -> const char* {
    const char* value = getenv_function ? getenv_function(name) : std::getenv(name);
    return value && *value ? value : nullptr;
  };
  constexpr int64_t kMaxWorld = 1 << 20;
  LaunchSpec spec;
  if (get("RANK") && get("WORLD_SIZE")) {
    spec.source = "torchrun variables RANK/WORLD_SIZE";
    spec.rank = read_int_variable("RANK", get("RANK"), 0, kMaxWorld);
    spec.world_size = read_int_variable("WORLD_SIZE", get("WORLD_SIZE"), 1, kMaxWorld);
    if (get("LOCAL_RANK"))
      spec.local_rank = read_int_variable("LOCAL_RANK", get("LOCAL_RANK"), 0, kMaxWorld);
  } else if (get("SLURM_PROCID") && get("SLURM_NTASKS")) {
    spec.source = "SLURM variables SLURM_PROCID/SLURM_NTASKS";
    spec.rank = read_int_variable("SLURM_PROCID", get("SLURM_PROCID"), 0, kMaxWorld);
    spec.world_size = read_int_variable("SLURM_NTASKS", get("SLURM_NTASKS"), 1, kMaxWorld);
    if (get("SLURM_LOCALID")) {
      spec.local_rank = read_int_variable("SLURM_LOCALID", get("SLURM_LOCALID"), 0, kMaxWorld);
    }
    if (!get("MASTER_ADDR")) {
      const char* nodes =
          get("SLURM_JOB_NODELIST") ? get("SLURM_JOB_NODELIST") : get("SLURM_NODELIST");
      if (!nodes) {
        throw std::invalid_argument(
            "SLURM launch: set MASTER_ADDR or SLURM_JOB_NODELIST to find the master host");
      }
      spec.master_host = first_slurm_host(nodes);
    }
  } else {
    return std::nullopt;
  }
  if (get("MASTER_ADDR")) spec.master_host = get("MASTER_ADDR");
  if (get("MASTER_PORT"))
    spec.master_port = read_int_variable("MASTER_PORT", get("MASTER_PORT"), 1, 65535);
  if (get("GLOO_SOCKET_IFNAME")) spec.interface = get("GLOO_SOCKET_IFNAME");
  check_launch(spec);
  if (spec.world_size == 1) return std::nullopt;
  return spec;
}

LaunchSpec loopback_rank(int rank, int world_size, int store_port, const std::string& source) {
  LaunchSpec spec;
  spec.rank = rank;
  spec.world_size = world_size;
  spec.master_port = store_port;
  spec.store_hosted_elsewhere = true;
  spec.source = source;
  return spec;
}

}  // namespace rl::distributed
