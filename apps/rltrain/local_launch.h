// rltrain CONFIG --nproc N: N worker processes of one distributed run on this machine
// (docs/distributed.md). This process hosts the rendezvous store on a free loopback port (so
// that it outlives any worker), starts each worker as `rltrain <worker_args> --rank r
// --world-size N --master 127.0.0.1:<port>`, passes Ctrl-C/SIGTERM on to all of them, and
// waits. Rank 0 writes to this terminal and the run folder; the other ranks print only errors.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace rl::local_launch {

// Set in the workers' environment: the store is hosted by the launcher, rank 0 connects to it.
inline constexpr char kStoreHostedVariable[] = "RLCADE_STORE_HOSTED_BY_LAUNCHER";

struct Options {
  int processes = 2;
  std::vector<std::string> worker_args;  // The config (or --resume DIR), --out, --set ...
  double timeout_s = 60.0;               // distributed.timeout_s of the run.
  std::ostream* log = nullptr;           // Which worker failed or was stopped.
};

// Runs the workers to their end and returns rltrain's exit code: 0 when every rank finished,
// 130/143 when interrupted (Ctrl-C/SIGTERM, passed on), 1 when a rank failed (named; the others
// end on their own within the timeout, else they are killed timeout_s + 30 s later).
int run(const Options& options);

}  // namespace rl::local_launch
