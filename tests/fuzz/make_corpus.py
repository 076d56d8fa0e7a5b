#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (corpus/<target>/) from valid protocol messages,
using the Python implementation as an independent encoder. Run from anywhere."""

import json
import os
import struct
import sys
from array import array

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "clients", "python"))
import rlcade_wire as rw  # noqa: E402

HELLO = {"protocol": "rlcade-wire", "version": [1, 0], "token": "t\u00e9", "max_body_bytes": 65536,
         "num_envs": 3, "observation_encoding": "binary", "capabilities": ["final_observation"]}
WELCOME = {"protocol": "rlcade-wire", "version": [1, 0], "env_id": "classic/cartpole-v1",
           "num_envs": 2, "description": "d",
           "observation_space": {"kind": "box", "dtype": "f32", "shape": [4],
                                 "low": [-4.8, "-inf", -0.42, -3.4e38],
                                 "high": [4.8, "inf", 0.42, 3.4e38]},
           "action_space": {"kind": "discrete", "n": 2}, "reward_range": [0, 1],
           "max_episode_steps": 500, "max_body_bytes": 65536, "observation_encoding": "binary",
           "capabilities": ["final_observation"]}
WELCOME_BOX = dict(WELCOME, observation_space={"kind": "box", "dtype": "u8", "shape": [2, 3],
                                               "low": 0, "high": 255},
                   action_space={"kind": "box", "dtype": "f32", "shape": [2], "low": -1, "high": 1})
WELCOME_POLICY = dict(WELCOME, version=[1, 1], num_envs=1, capabilities=["act", "legal_actions"],
                      max_act_batch=4096,
                      action_space={"kind": "discrete", "n": 3})
ERROR = {"code": 7, "name": "bad_action", "message": "wrong shape", "fatal": False}


def step_result(n, finals, dtype, inner, typecode):
    types = [rw.MID] * n
    for i in range(finals):
        types[i] = rw.TERMINATED
    numel = 1
    for d in inner:
        numel *= d
    head = struct.pack("<II", n, finals) + bytes(types) + bytes((-n) % 4)
    rewards = array("f", [0.5] * n).tobytes()
    obs = rw.encode_tensor(dtype, (n,) + inner, array(typecode, [1] * (n * numel)).tobytes())
    fin = rw.encode_tensor(dtype, (finals,) + inner, array(typecode, [2] * (finals * numel)).tobytes())
    return head + rewards + obs + fin


def write(target, name, data):
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    js = lambda obj: json.dumps(obj).encode()  # noqa: E731
    results = {"step_result_f32": step_result(3, 1, rw.DTYPE_F32, (4,), "f"),
               "step_result_u8": step_result(2, 2, rw.DTYPE_U8, (2, 3), "B")}
    tensors = {"tensor_f32": rw.encode_tensor(rw.DTYPE_F32, (2, 3), array("f", range(6)).tobytes()),
               "tensor_i64": rw.encode_tensor(rw.DTYPE_I64, (3,), array("q", [0, 1, 3]).tobytes()),
               "tensor_u8": rw.encode_tensor(rw.DTYPE_U8, (1, 2, 2), bytes(4))}
    for name, data in {**results, **tensors}.items():
        write("tensor", name, data)
    for name, obj in {"hello": HELLO, "welcome": WELCOME, "welcome_box": WELCOME_BOX,
                      "welcome_policy": WELCOME_POLICY, "error": ERROR}.items():
        write("handshake", name + ".json", js(obj))
    act_observations_f32 = rw.encode_tensor(rw.DTYPE_F32, (3, 4), array("f", range(12)).tobytes())
    frames = {
        "hello": rw.frame_bytes(rw.HELLO, 1, js(HELLO)),
        "welcome": rw.frame_bytes(rw.WELCOME, 1, js(WELCOME_BOX)),
        "reset": rw.frame_bytes(rw.RESET, 2, struct.pack("<IIQ", 1, 0, 42)),
        "step_discrete": rw.frame_bytes(rw.STEP, 3, tensors["tensor_i64"]),
        "step_box": rw.frame_bytes(rw.STEP, 4, rw.encode_tensor(
            rw.DTYPE_F32, (2, 2, 3), array("f", [0.5] * 12).tobytes())),
        "step_result": rw.frame_bytes(rw.STEP_RESULT, 5, results["step_result_f32"]),
        "error": rw.frame_bytes(rw.ERROR, 6, js(ERROR)),
        "ping": rw.frame_bytes(rw.PING, 7, b"ping"),
        # ACT for observations f32[4] and Discrete(3), with and without a legal-action mask;
        # for observations u8[2, 3] and Box actions.
        "act_f32": rw.frame_bytes(rw.ACT, 8, act_observations_f32),
        "act_masked": rw.frame_bytes(rw.ACT, 9, act_observations_f32 + rw.encode_tensor(
            rw.DTYPE_U8, (3, 3), bytes([1, 0, 0, 0, 1, 1, 1, 1, 1]))),
        "act_u8": rw.frame_bytes(rw.ACT, 10, rw.encode_tensor(rw.DTYPE_U8, (2, 2, 3), bytes(12))),
        "act_result_i64": rw.frame_bytes(rw.ACT_RESULT, 11, rw.encode_tensor(
            rw.DTYPE_I64, (3,), array("q", [0, 1, 2]).tobytes())),
        "act_result_f32": rw.frame_bytes(rw.ACT_RESULT, 12, rw.encode_tensor(
            rw.DTYPE_F32, (2, 2), array("f", [0.5, -0.5, 1, -1]).tobytes())),
    }
    for name, data in frames.items():
        write("frame", name, data)


if __name__ == "__main__":
    main()
