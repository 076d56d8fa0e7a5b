// A process group over LibTorch's c10d: a TCPStore for the rendezvous and ProcessGroupGloo for
// the collectives (the engine PyTorch DDP uses on CPUs). No socket code of our own.
//
// connect() joins the group: rank 0 hosts the store at the master address (unless the launcher
// hosts it), every rank publishes the hash of its config and the ranks check they all hash the
// same, then Gloo connects the ranks pairwise. Each rank keeps a heartbeat counter in the store
// (a background thread adds to it every second), so that when a collective fails the error can
// name the rank that stopped.
//
// Security: neither the store nor Gloo authenticates anyone. Gloo binds the interface named
// by LaunchSpec::interface (loopback for a loopback master, the rltrain --nproc default); c10d's
// TCPStore server listens on every interface of its port (it has no bind-address option), so
// keep the port closed to untrusted networks.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "agents/distributed/collectives.h"
#include "agents/distributed/gradient_dtype.h"
#include "agents/distributed/launch.h"

namespace rl::distributed {

struct GroupOptions {
  // How long to wait for the other ranks: to join, to answer a collective. distributed.timeout_s.
  std::chrono::milliseconds timeout{60'000};
  // Identifies the training config (hash of the resolved config): ranks with different values
  // refuse to train together.
  std::string config_hash;
  // The format the gradients are summed in (distributed.gradient_dtype): float32 is exact
  // float arithmetic; bfloat16 and float16 round them to 16 bits first (gradient_dtype.h).
  GradientDtype gradient_dtype = GradientDtype::kFloat32;
};

class GlooGroup final : public Collectives {
 public:
  // Joins the group described by `spec`. Throws DistributedError for a port in use (rank 0),
  // an unreachable master or ranks that did not join within the timeout (named); ConfigError
  // when the config hash of some ranks differs from rank 0's (the ranks named).
  static std::unique_ptr<GlooGroup> connect(const LaunchSpec& spec, const GroupOptions& options);
  ~GlooGroup() override;

  int rank() const override;
  int world_size() const override;
  void average_gradients(const std::vector<at::Tensor>& parameters) override;
  void average_gradients(const std::vector<at::Tensor>& parameters, double weight) override;
  // With RLCADE_COLLECTIVES=direct_overlap (2 ranks, float32 sums): when the gradients of
  // `parameters` are back to back in one buffer (the engine's flat gradient buffer), starts
  // their sum on the group's communication thread; else does nothing.
  void gradients_ready(const std::vector<at::Tensor>& parameters) override;
  void sum(std::span<double> values) override;
  void broadcast(const std::vector<at::Tensor>& tensors, int root) override;
  int64_t add_to_counter(const std::string& key, int64_t amount) override;
  void remove_counter(const std::string& key) override;

  // Rank 0 publishes `value` under `key`; every rank returns it (waits up to the timeout).
  std::string share_from_rank0(const std::string& key, const std::string& value);

  // What this rank's collectives cost so far: how many, the bytes of their buffers, and the
  // wall time spent in them (sending, receiving, and waiting for slower ranks).
  struct Traffic {
    int64_t collectives = 0;
    int64_t bytes = 0;
    double seconds = 0;
    int64_t gradient_reduces = 0;  // Of which gradient all-reduces (average_gradients).
    double gradient_seconds = 0;
    // Of which the gradient all-reduces that had most of their gradients summed while the
    // backward pass went on (gradients_ready), and the time the communication thread took for
    // those sums (from the start to the end of each, waiting for the other rank included).
    int64_t overlapped_reduces = 0;
    double background_seconds = 0;
  };
  Traffic traffic() const;

  struct State;

 private:
  explicit GlooGroup(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// A rendezvous store hosted by a process that is not a rank (rltrain --nproc's launcher), so
// that it outlives any rank. Listens on a free port chosen by the system.
class StoreServer {
 public:
  StoreServer();
  ~StoreServer();
  int port() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One line on `traffic` for a run of `wall_seconds`, e.g. "1280 collectives (1024 gradient
// all-reduces), 541 MB, 2.1 s in them (1.9 s in gradient all-reduces): 12% of 17.5 s".
std::string describe(const GlooGroup::Traffic& traffic, double wall_seconds);

// A short digest of `text` (CRC-32 and length), for comparing configs between ranks.
std::string config_hash(const std::string& text);

}  // namespace rl::distributed
