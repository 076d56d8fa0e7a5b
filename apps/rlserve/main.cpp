// rlserve: serves any built-in env over the rlcade wire protocol, or checks a server.
//   rlserve <env-id> [--port P] [--num-envs N] [--token T] [options]   serve (loopback default)
//   rlserve <env-id> --connect host:port [options]                      reverse mode
//   rlserve --check host:port [--token T] [--check-steps N]             conformance checker
//   rlserve --bench [<env-id>] [--bench-envs 1,16,256] [--bench-seconds S]   loopback speed
//   rlserve --list                                                      list env ids
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench.h"
#include "core/registry.h"
#include "envs/remote/checker.h"
#include "envs/remote/server.h"

namespace {

constexpr const char* kUsage = R"(usage:
  rlserve <env-id> [--port P] [--num-envs N] [--token T] [options]
  rlserve <env-id> --connect HOST:PORT [options]      reverse mode: connect to a listening trainer
  rlserve --check HOST:PORT [--token T] [--check-steps N]
  rlserve --bench [ENV-ID] [--bench-envs 1,16,256] [--bench-seconds S]
  rlserve --list
options:
  --host H                bind address (default 127.0.0.1; use 0.0.0.0 to accept other hosts)
  --port P                port (default 7000; 0 picks a free one, printed at start)
  --num-envs N            envs per connection unless the client asks (default 1)
  --max-envs-per-connection N   (default 1024)
  --max-connections N     further peers get a 'busy' error (default 64)
  --threads N             serving threads (default 1)
  --token T               shared secret clients must send (or set RLCADE_TOKEN)
  --param KEY=VALUE       env parameter (repeatable)
  --handshake-timeout-ms, --idle-timeout-ms, --read-timeout-ms   deadlines
  --check-steps N         step budget of --check to see an episode end (default 5000)
)";

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "rlserve: " << message << "\n" << kUsage;
  std::exit(2);
}

int64_t to_int(const std::string& flag, const std::string& text, int64_t lo, int64_t hi) {
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text.size() || text.empty() || v < lo || v > hi)
    usage_error(flag + " needs an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                "], got '" + text + "'");
  return v;
}

// "true"/"false" -> bool, integers -> int, other numbers -> float, anything else -> string.
rl::ParamValue param_value(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  try {
    size_t used = 0;
    const int64_t i = std::stoll(text, &used);
    if (used == text.size()) return i;
    const double d = std::stod(text, &used);
    if (used == text.size()) return d;
  } catch (const std::exception&) {
  }
  return text;
}

struct Args {
  std::string env_id;
  std::string check_address;
  std::string connect_address;
  bool list = false;
  bool bench = false;
  rl::remote::BenchOptions bench_options;
  int check_steps = 5000;
  rl::remote::ServerOptions server;
};

Args parse_args(int argc, char** argv) {
  Args a;
  a.server.port = 7000;
  if (const char* token = std::getenv("RLCADE_TOKEN")) a.server.token = token;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& flag = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) usage_error(flag + " needs a value");
      return args[++i];
    };
    auto ms = [&] { return std::chrono::milliseconds(to_int(flag, value(), 1, 86400000)); };
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (flag == "--list") {
      a.list = true;
    } else if (flag == "--bench") {
      a.bench = true;
    } else if (flag == "--bench-seconds") {
      a.bench_options.seconds = static_cast<double>(to_int(flag, value(), 1, 3600));
    } else if (flag == "--bench-envs") {
      a.bench_options.batch_sizes.clear();
      std::string list = value();
      for (size_t start = 0; start <= list.size();) {
        const size_t comma = std::min(list.find(',', start), list.size());
        a.bench_options.batch_sizes.push_back(
            static_cast<uint32_t>(to_int(flag, list.substr(start, comma - start), 1, 65536)));
        start = comma + 1;
      }
    } else if (flag == "--check") {
      a.check_address = value();
    } else if (flag == "--connect") {
      a.connect_address = value();
    } else if (flag == "--check-steps") {
      a.check_steps = static_cast<int>(to_int(flag, value(), 1, 100000000));
    } else if (flag == "--host") {
      a.server.bind_host = value();
    } else if (flag == "--port") {
      a.server.port = static_cast<uint16_t>(to_int(flag, value(), 0, 65535));
    } else if (flag == "--num-envs") {
      a.server.num_envs = static_cast<uint32_t>(to_int(flag, value(), 1, 1 << 20));
    } else if (flag == "--max-envs-per-connection") {
      a.server.max_envs_per_connection = static_cast<uint32_t>(to_int(flag, value(), 1, 1 << 20));
    } else if (flag == "--max-connections") {
      a.server.max_connections = static_cast<int>(to_int(flag, value(), 1, 100000));
    } else if (flag == "--threads") {
      a.server.threads = static_cast<int>(to_int(flag, value(), 1, 256));
    } else if (flag == "--token") {
      a.server.token = value();
    } else if (flag == "--param") {
      const std::string& kv = value();
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        usage_error("--param needs KEY=VALUE, got '" + kv + "'");
      a.server.env_params[kv.substr(0, eq)] = param_value(kv.substr(eq + 1));
    } else if (flag == "--handshake-timeout-ms") {
      a.server.handshake_timeout = ms();
    } else if (flag == "--idle-timeout-ms") {
      a.server.idle_timeout = ms();
    } else if (flag == "--read-timeout-ms") {
      a.server.read_timeout = ms();
    } else if (!flag.empty() && flag[0] == '-') {
      usage_error("unknown option '" + flag + "'");
    } else if (a.env_id.empty()) {
      a.env_id = flag;
    } else {
      usage_error("unexpected argument '" + flag + "'");
    }
  }
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

int serve(Args& a) {
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
    std::cout << "rlserve: serving " << a.env_id << " to " << a.connect_address << std::endl;
    server.serve_outbound(a.connect_address, std::chrono::milliseconds(10000));
    return 0;
  }
  server.start();
  std::cout << "rlserve: serving " << a.env_id << " on " << a.server.bind_host << ":"
            << server.port() << " (" << a.server.num_envs << " env(s) per connection"
            << (a.server.token.empty() ? "" : ", token required") << ")" << std::endl;
  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.stop();
  const auto stats = server.stats();
  std::cerr << "rlserve: stopped; " << stats.accepted << " connections served, "
            << stats.rejected_busy << " refused as busy, " << stats.errors_sent
            << " error frames sent\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args = parse_args(argc, argv);
  try {
    if (args.list) {
      for (const auto& id : rl::EnvRegistry::global().ids()) std::cout << id << "\n";
      return 0;
    }
    if (!args.check_address.empty()) return run_check(args);
    if (args.bench) {
      if (!args.env_id.empty()) args.bench_options.env_id = args.env_id;
      return rl::remote::run_bench(args.bench_options);
    }
    if (args.env_id.empty()) usage_error("missing the env id to serve (see --list)");
    return serve(args);
  } catch (const std::exception& e) {
    std::cerr << "rlserve: " << e.what() << "\n";
    return 1;
  }
}
