#!/usr/bin/env python3
"""Steps/s of the Python client against a running server, lock-step and batched.

    rlserve classic/cartpole-v1 --port 7000 &
    python3 clients/python/bench.py 127.0.0.1:7000 [--seconds 2] [--num-envs 1,16,256]
        [--encodings binary,json] [--repeats 3] [--json]

Each (encoding, N) pair gets one connection: a RESET, a short untimed warm-up, then
--repeats timed windows that split --seconds between them. Actions are drawn before timing.
With --json, one JSON object per line: {"encoding", "num_envs", "env_steps_per_second": [one
value per window], "round_trips_per_second": [...]} (rlbench's remote_python_client reads it).
"""

import argparse
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlcade_wire as rw  # noqa: E402

WARMUP_SECONDS = 0.05
DISTINCT_ACTIONS = 4096


def measure(address, num_envs, encoding, seconds, repeats):
    """Returns [(env-steps/s, round trips/s)] with one entry per timed window."""
    with rw.VectorClient(address, num_envs=num_envs, observation_encoding=encoding) as client:
        if not isinstance(client.action_space, rw.Discrete):
            raise SystemExit("bench.py drives Discrete action spaces only")
        rng = random.Random(1)
        n = client.action_space.n
        pool = [rng.randrange(n) for _ in range(DISTINCT_ACTIONS + num_envs)]
        rounds = [pool[(r * 97) % DISTINCT_ACTIONS:][:num_envs] for r in range(64)]
        client.reset(1)
        start = time.perf_counter()
        while time.perf_counter() - start < WARMUP_SECONDS:
            client.step(rounds[0])
        windows = []
        for _ in range(repeats):
            trips, start = 0, time.perf_counter()
            while True:
                client.step(rounds[trips % len(rounds)])
                trips += 1
                elapsed = time.perf_counter() - start
                if elapsed >= seconds / repeats:
                    break
            windows.append((trips * num_envs / elapsed, trips / elapsed))
    return windows


def positive_int_list(text):
    values = [int(x) for x in text.split(",")]
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers like 1,16,256, got {text!r}")
    return values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="timed seconds per (encoding, N), split over --repeats windows")
    parser.add_argument("--num-envs", type=positive_int_list, default=[1, 16, 256])
    parser.add_argument("--encodings", default="binary,json")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    args = parser.parse_args()
    encodings = args.encodings.split(",")
    if any(e not in ("binary", "json") for e in encodings):
        parser.error(f"--encodings takes binary and/or json, got {args.encodings!r}")
    if args.repeats < 1 or not args.seconds > 0:
        parser.error("--repeats must be >= 1 and --seconds > 0")
    for encoding in encodings:
        for n in args.num_envs:
            windows = measure(args.address, n, encoding, args.seconds, args.repeats)
            if args.json:
                print(json.dumps({"encoding": encoding, "num_envs": n,
                                  "env_steps_per_second": [w[0] for w in windows],
                                  "round_trips_per_second": [w[1] for w in windows]}), flush=True)
                continue
            steps = sum(w[0] for w in windows) / len(windows)
            trips = sum(w[1] for w in windows) / len(windows)
            print(f"python {encoding:6s} N={n:<5d} {steps:12.0f} env-steps/s {trips:10.0f} "
                  "round trips/s", flush=True)


if __name__ == "__main__":
    main()
