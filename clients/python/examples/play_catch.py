#!/usr/bin/env python3
"""Catch played by a served policy: every game's board goes to ``rlserve --policy`` and the
paddle moves as the policy says. All games advance together, one ACT request per step.

    python3 clients/python/examples/play_catch.py 127.0.0.1:7001 [--games 20] [--seed 0]

Train the policy on the served game first (README.md, "Worked example"), then export and serve
it: ``rlexport RUN --out catch.pt`` and ``rlserve --policy catch.pt --port 7001``. Prints each
game's return (+1 caught, -1 missed) and the mean.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import rlcade_wire  # noqa: E402
from catch import Catch  # noqa: E402


def play(address: str, games: int, seed: int) -> list:
    with rlcade_wire.PolicyClient(address) as policy:
        if policy.observation_space.shape != Catch.observation_space.shape:
            raise SystemExit(f"{address} serves a policy for {policy.env_id} with observations "
                             f"{policy.observation_space}, not Catch's")
        envs = [Catch() for _ in range(games)]
        boards = [env.reset(seed + i) for i, env in enumerate(envs)]
        returns = [0.0] * games
        playing = list(range(games))
        while playing:
            actions = policy.act([boards[i] for i in playing])
            still = []
            for i, action in zip(playing, actions):
                boards[i], reward, terminated, truncated = envs[i].step(action)
                returns[i] += reward
                if not (terminated or truncated):
                    still.append(i)
            playing = still
        return returns


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("address", help="HOST:PORT of rlserve --policy")
    parser.add_argument("--games", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0, help="game i starts with seed + i")
    args = parser.parse_args()
    returns = play(args.address, args.games, args.seed)
    for i, r in enumerate(returns):
        print(f"game {i}: return {r:+.0f}")
    print(f"mean return {sum(returns) / len(returns):+.3f} over {len(returns)} games")


if __name__ == "__main__":
    main()
