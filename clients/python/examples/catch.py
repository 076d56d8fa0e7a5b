#!/usr/bin/env python3
"""Catch (as in DeepMind's bsuite), a tiny game written in Python and served to rlcade.

A ball falls from a random column of the top row of a 10x5 board; the paddle on the bottom
row moves left, stays or moves right. When the ball reaches the bottom row the episode ends
with reward +1 if the paddle is under it, else -1. Observation: the board as u8 [10, 5] with 1
where the ball and the paddle are.

    python3 clients/python/examples/catch.py --port 7000          # serve it
    python3 clients/python/examples/catch.py --connect 127.0.0.1:7000   # reverse mode
"""

import argparse
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import rlcade_wire  # noqa: E402

ROWS, COLS = 10, 5


class Catch:
    env_id = "python/catch-v0"
    observation_space = rlcade_wire.Box((ROWS, COLS), 0, 1, "u8")
    action_space = rlcade_wire.Discrete(3)  # left, stay, right
    reward_range = (-1.0, 1.0)
    max_episode_steps = 0  # episodes always end after ROWS - 1 steps

    def __init__(self):
        self.rng = random.Random(0)

    def reset(self, seed):
        if seed is not None:
            self.rng.seed(seed)
        self.ball_row, self.ball_col = 0, self.rng.randrange(COLS)
        self.paddle = COLS // 2
        return self.board()

    def step(self, action):
        self.paddle = min(COLS - 1, max(0, self.paddle + action - 1))
        self.ball_row += 1
        done = self.ball_row == ROWS - 1
        reward = (1.0 if self.paddle == self.ball_col else -1.0) if done else 0.0
        return self.board(), reward, done, False

    def board(self):
        cells = bytearray(ROWS * COLS)
        cells[self.ball_row * COLS + self.ball_col] = 1
        cells[(ROWS - 1) * COLS + self.paddle] = 1
        return cells


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7000, help="0 picks a free port")
    parser.add_argument("--num-envs", type=int, default=1)
    parser.add_argument("--token", default=os.environ.get("RLCADE_TOKEN", ""))
    parser.add_argument("--connect", help="reverse mode: connect to a listening trainer")
    args = parser.parse_args()
    server = rlcade_wire.EnvServer(Catch, host=args.host, port=args.port,
                                   num_envs=args.num_envs, token=args.token)
    if args.connect:
        print(f"catch: serving {Catch.env_id} to {args.connect}", flush=True)
        server.connect(args.connect)
        return
    print(f"catch: serving {Catch.env_id} on {server.host}:{server.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
