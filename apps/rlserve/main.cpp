// rlserve: serves any built-in env over the rlcade wire protocol, or checks a server.
//   rlserve <env-id> [--port P] [--num-envs N] [--token T] [options]   serve (loopback default)
//   rlserve <env-id> --connect host:port [options]                      reverse mode
//   rlserve --policy RUN|policy.pt [--port P] [--max-act-batch B]      serve a policy (ACT)
//   rlserve --check host:port [--token T] [--check-steps N]             conformance checker
//   rlserve --bench [<env-id>] [--bench-envs 1,16,256] [--bench-seconds S]   loopback speed
//   rlserve --list                                                      list env ids
// Argument parsing is here (CLI11, with the shared conventions of core/command_line.h).
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bench.h"
#include "core/command_line.h"
#include "core/key_value.h"
#include "core/registry.h"
#include "envs/remote/checker.h"
#include "envs/remote/server.h"
#ifdef RLCADE_WITH_POLICY
#include "agents/torch_setup.h"
#include "policy/policy_service.h"
#endif

namespace {

using rl::cli::UsageError;

const char kSynopsis[] = R"(rlserve ENV_ID [--port P] [--num-envs N] [--token T] [options]
       rlserve ENV_ID --connect HOST:PORT [options]
       rlserve --policy RUN|POLICY.pt [--port P] [--max-act-batch B] [options]
       rlserve --check HOST:PORT [--token T] [--check-steps N]
       rlserve --bench [ENV_ID] [--bench-envs 1,16,256] [--bench-seconds S]
       rlserve --list | --help)";

const char kDescription[] =
    R"(Serves a built-in env over the rlcade wire protocol (docs/protocol.md), on loopback unless
--host says otherwise; --connect serves a listening trainer instead (reverse mode). --policy
serves a trained policy instead: clients send observations in ACT requests and get the greedy
actions back, in batches (protocol 1.1; POLICY.pt written by rlexport, or a run folder exported on
the fly). --check runs the conformance checks against any server, env or policy; --bench
measures loopback speed.
)";

const char kFooter[] =
    R"(--param values are read as the parameter's declared type: true/false, integers (1e3 = 1000),
numbers, or text (rltrain --list shows each env; the rule is the same as rlwatch --param).
Exit codes: 0 done (--check: all checks passed), 1 failed while running (--check: a check
failed; --policy: the policy or run could not be read), 2 bad arguments (nothing was done), 130
stopped by Ctrl-C, 143 stopped by SIGTERM.
)";

struct Args {
  std::string env_id;
  std::string check_address;
  std::string connect_address;
  std::string policy;  // --policy RUN|policy.pt
  uint32_t max_act_batch = 4096;
  std::vector<std::string> params;  // --param KEY=VALUE, typed by the env once it is known.
  std::optional<std::string> help;  // The help text, when --help was given.
  bool list = false;
  bool bench = false;
  rl::remote::BenchOptions bench_options;
  int check_steps = 5000;
  rl::remote::ServerOptions server;
};

// "1,16,256": each an integer in [1, 65536].
std::vector<uint32_t> parse_batch_sizes(const std::string& list) {
  std::vector<uint32_t> sizes;
  for (size_t start = 0; start <= list.size();) {
    const size_t comma = std::min(list.find(',', start), list.size());
    sizes.push_back(static_cast<uint32_t>(
        rl::cli::int_value("--bench-envs", list.substr(start, comma - start), 1, 65536)));
    start = comma + 1;
  }
  return sizes;
}

CLI::Option* add_milliseconds(CLI::App& app, const std::string& flag,
                              std::chrono::milliseconds& target, const std::string& doc) {
  return rl::cli::add_value(
             app, flag, doc,
             [&target, flag](const std::string& text) {
               target = std::chrono::milliseconds(rl::cli::int_value(flag, text, 1, 86400000));
             })
      ->type_name("MS");
}

void add_server_options(CLI::App& app, rl::remote::ServerOptions& server,
                        std::vector<std::string>& params) {
  app.add_option("--host", server.bind_host,
                 "bind address (default 127.0.0.1; use 0.0.0.0 to accept other hosts)")
      ->type_name("H");
  rl::cli::add_int(app, "--port", server.port, 0, 65535,
                   "port (default 7000; 0 picks a free one, printed at start)")
      ->type_name("P");
  rl::cli::add_int(app, "--num-envs", server.num_envs, 1, 1 << 20,
                   "envs per connection unless the client asks (default 1)");
  rl::cli::add_int(app, "--max-envs-per-connection", server.max_envs_per_connection, 1, 1 << 20,
                   "(default 1024)");
  rl::cli::add_int(app, "--max-connections", server.max_connections, 1, 100000,
                   "further peers get a 'busy' error (default 64)");
  rl::cli::add_int(app, "--threads", server.threads, 1, 256, "serving threads (default 1)");
  app.add_option("--token", server.token,
                 "shared secret clients must send (default: $RLCADE_TOKEN)")
      ->type_name("T");
  rl::cli::add_repeated(app, "--param", params, "KEY=VALUE", "env parameter (repeatable)");
  add_milliseconds(app, "--handshake-timeout-ms", server.handshake_timeout,
                   "deadline of the handshake");
  add_milliseconds(app, "--idle-timeout-ms", server.idle_timeout,
                   "a connection without requests for this long is closed");
  add_milliseconds(app, "--read-timeout-ms", server.read_timeout, "deadline of one frame's read");
}

// Checks the mode options against each other and types the env parameters.
void check_args(Args& a) {
  if (a.list || a.bench || !a.check_address.empty()) {
    if (!a.params.empty()) throw UsageError("--param goes with an env to serve");
    return;
  }
  if (!a.policy.empty()) {
    if (!a.env_id.empty())
      throw UsageError("--policy serves the policy's own spaces; give no env id ('" + a.env_id +
                       "') with it");
    if (!a.params.empty()) throw UsageError("--param goes with an env to serve, not --policy");
#ifndef RLCADE_WITH_POLICY
    throw UsageError("--policy needs LibTorch, and this rlserve was built without it");
#endif
    return;
  }
  if (a.env_id.empty()) throw UsageError("missing the env id to serve; rlserve --list names them");
  try {
    a.server.env_params = rl::parse_env_params(a.env_id, a.params, "--param");
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
}

Args parse_args(int argc, char** argv) {
  Args a;
  a.server.port = 7000;
  if (const char* token = std::getenv("RLCADE_TOKEN")) a.server.token = token;
  CLI::App app("", "rlserve");
  rl::cli::configure(app, kSynopsis, kDescription, kFooter);
  app.add_option("ENV_ID", a.env_id, "env to serve (or to --bench); rlserve --list names them")
      ->type_name("");
  app.add_flag("--list", a.list, "list the env ids");
  app.add_option("--connect", a.connect_address,
                 "reverse mode: connect to a trainer listening at HOST:PORT")
      ->type_name("HOST:PORT");
  add_server_options(app, a.server, a.params);
  app.add_option("--policy", a.policy,
                 "serve this policy (rlexport's POLICY.pt, or a run folder) to ACT requests")
      ->type_name("RUN|POLICY.pt");
  rl::cli::add_int(app, "--max-act-batch", a.max_act_batch, 1, 1 << 20,
                   "largest batch of observations per ACT request (default 4096)");
  app.add_option("--check", a.check_address, "run the conformance checks against a server")
      ->type_name("HOST:PORT");
  rl::cli::add_int(app, "--check-steps", a.check_steps, 1, 100000000,
                   "step budget of --check to see an episode end (default 5000)");
  app.add_flag("--bench", a.bench, "measure loopback steps per second (binary and JSON)");
  rl::cli::add_value(
      app, "--bench-envs", "envs per connection to measure (default 1,16,256)",
      [&a](const std::string& text) { a.bench_options.batch_sizes = parse_batch_sizes(text); })
      ->type_name("N,N,...");
  rl::cli::add_value(app, "--bench-seconds", "measuring time per row (default 2)",
                     [&a](const std::string& text) {
                       a.bench_options.seconds = static_cast<double>(
                           rl::cli::int_value("--bench-seconds", text, 1, 3600));
                     })
      ->type_name("S");
  if (!rl::cli::parse(app, std::vector<std::string>(argv + 1, argv + argc))) {
    a.help = app.help();
    return a;
  }
  check_args(a);
  return a;
}

int run_check(const Args& a) {
  rl::remote::CheckOptions options;
  options.token = a.server.token;
  options.max_steps = a.check_steps;
  const auto results = rl::remote::run_conformance_checks(a.check_address, options);
  int failed = 0;
  for (const auto& r : results) {
    std::cout << (r.passed ? "PASS  " : "FAIL  ") << r.name;
    if (!r.detail.empty()) std::cout << "  (" << r.detail << ")";
    std::cout << "\n";
    failed += !r.passed;
  }
  std::cout << results.size() - failed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}

// What `a` serves, for the start-up line: the env id, or the policy and its env.
std::string served_name(const Args& a) {
  return a.policy.empty() ? a.env_id : "the policy " + a.policy;
}

#ifdef RLCADE_WITH_POLICY
// Loads one copy of the policy per serving thread and plugs the ACT service into the server.
void plug_policy(Args& a) {
  rl::set_compute_threads(1);  // small networks: one thread per request is fastest (and fair)
  auto log = [](const std::string& line) { std::cerr << "rlserve: " << line << "\n"; };
  auto pool = rl::serving::load_policy_pool(a.policy, a.server.threads, log);
  const rl::Policy& policy = pool->front();
  std::cerr << "rlserve: " << policy.agent_type() << " policy (" << policy.engine()
            << " engine) for " << policy.env_id() << ": observations "
            << policy.observation_space().describe() << ", actions "
            << policy.action_space().describe() << "\n";
  a.server.service = rl::serving::policy_service_factory(std::move(pool), a.max_act_batch);
}
#endif

int serve(Args& a) {
#ifdef RLCADE_WITH_POLICY
  if (!a.policy.empty()) plug_policy(a);
#endif
  a.server.env_id = a.env_id;
  a.server.log = [](const std::string& line) { std::cerr << line << "\n"; };
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  rl::remote::Server server(a.server);
  if (!a.connect_address.empty()) {
    std::cout << "rlserve: serving " << served_name(a) << " to " << a.connect_address << std::endl;
    server.serve_outbound(a.connect_address, std::chrono::milliseconds(10000));
    return 0;
  }
  server.start();
  std::cout << "rlserve: serving " << served_name(a) << " on " << a.server.bind_host << ":"
            << server.port() << " ("
            << (a.policy.empty() ? std::to_string(a.server.num_envs) + " env(s) per connection"
                                 : "ACT batches up to " + std::to_string(a.max_act_batch))
            << (a.server.token.empty() ? "" : ", token required") << ")" << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.stop();
  const auto stats = server.stats();
  std::cerr << "rlserve: stopped; " << stats.accepted << " connections served, "
            << stats.rejected_busy << " refused as busy, " << stats.errors_sent
            << " error frames sent\n";
  return 128 + signal;  // 130 for Ctrl-C, 143 for SIGTERM, as the shell reports a kill
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Args args = parse_args(argc, argv);
    if (args.help) {
      std::cout << *args.help;
      return rl::cli::kExitOk;
    }
    if (args.list) {
      for (const auto& id : rl::EnvRegistry::global().ids()) std::cout << id << "\n";
      return rl::cli::kExitOk;
    }
    if (!args.check_address.empty()) return run_check(args);
    if (args.bench) {
      if (!args.env_id.empty()) args.bench_options.env_id = args.env_id;
      return rl::remote::run_bench(args.bench_options);
    }
    return serve(args);
  } catch (const UsageError& e) {
    std::cerr << rl::cli::usage_error_line("rlserve", e.what());
    return rl::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "rlserve: " << e.what() << "\n";
    return rl::cli::kExitFailure;
  }
}
