#!/usr/bin/env python3
"""Steps/s of the Python client against a running server, lock-step and batched.

    rlserve classic/cartpole-v1 --port 7000 &
    python3 clients/python/bench.py 127.0.0.1:7000 [--seconds 2] [--num-envs 1,16,256]
"""

import argparse
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import rlcade_wire as rw  # noqa: E402


def measure(address, num_envs, encoding, seconds):
    with rw.VectorClient(address, num_envs=num_envs, observation_encoding=encoding) as client:
        if not isinstance(client.action_space, rw.Discrete):
            raise SystemExit("bench.py drives Discrete action spaces only")
        rng = random.Random(1)
        n = client.action_space.n
        client.reset(1)
        requests, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            for _ in range(32):
                client.step([rng.randrange(n) for _ in range(num_envs)])
            requests += 32
        elapsed = time.perf_counter() - start
    return requests * num_envs / elapsed, requests / elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("address")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--num-envs", default="1,16,256")
    args = parser.parse_args()
    for encoding in ("binary", "json"):
        for n in (int(x) for x in args.num_envs.split(",")):
            steps, trips = measure(args.address, n, encoding, args.seconds)
            print(f"python {encoding:6s} N={n:<5d} {steps:12.0f} env-steps/s {trips:10.0f} "
                  "round trips/s", flush=True)


if __name__ == "__main__":
    main()
