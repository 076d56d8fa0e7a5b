// Where a distributed training process stands: its rank, the world size and the master
// (rendezvous) address, read from rltrain's flags, torchrun's environment variables or SLURM's.
// Torch-free: the process group itself is in agents/distributed/gloo_group.h.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace rl::distributed {

// TCP port of the rendezvous store when none is given (torchrun's default too).
inline constexpr int kDefaultMasterPort = 29500;

struct LaunchSpec {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;                     // Rank on this machine (informational).
  std::string master_host = "127.0.0.1";  // Hosts the rendezvous store (rank 0 by default).
  int master_port = kDefaultMasterPort;
  // Network interface Gloo binds to (GLOO_SOCKET_IFNAME); empty: loopback when the master is
  // a loopback address, else the interface of this machine's hostname.
  std::string interface;
  // The store is hosted by someone else (rltrain --nproc's launcher), so rank 0 connects to it
  // as a client instead of starting it.
  bool store_hosted_elsewhere = false;
  std::string source;  // Where the values came from, for messages ("--rank/--world-size", ...).
};

// Rank `rank` of `world_size` on this machine, joining the store someone else hosts on
// loopback port `store_port` (in-process ranks of tests and benchmarks).
LaunchSpec loopback_rank(int rank, int world_size, int store_port, const std::string& source);

// "HOST:PORT" (or "HOST", port kDefaultMasterPort) into host and port. Throws
// std::invalid_argument naming `what` for an empty host or a port outside 1-65535.
std::pair<std::string, int> parse_host_port(const std::string& text, const std::string& what);

// Reads a launch from the environment, in this order: torchrun's RANK and WORLD_SIZE (with
// MASTER_ADDR, MASTER_PORT, LOCAL_RANK), then SLURM's SLURM_PROCID and SLURM_NTASKS (master:
// MASTER_ADDR if set, else the first host of SLURM_JOB_NODELIST; SLURM_LOCALID). GLOO_SOCKET_IFNAME
// fills `interface`. Returns nothing when neither is set or the world size is 1. Throws
// std::invalid_argument naming the variable for malformed values. `getenv` is injectable for
// tests (default: std::getenv).
std::optional<LaunchSpec> launch_from_environment(
    const std::function<const char*(const char*)>& getenv = nullptr);

// Checks rank and world size (0 <= rank < world_size, world_size >= 1); throws
// std::invalid_argument naming spec.source.
void check_launch(const LaunchSpec& spec);

// The first host of a SLURM node list: "node[03-05,7],gpu1" -> "node03". Throws
// std::invalid_argument for an empty list.
std::string first_slurm_host(const std::string& node_list);

}  // namespace rl::distributed
