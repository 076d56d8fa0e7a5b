#!/usr/bin/python3
"""Checks an exported recurrent rlcade policy in Python, as a user would run it over episodes.

usage: export_recurrent_check.py POLICY.pt DIR

DIR holds what tests/agents/export_recurrent_test.cpp wrote from one stream of the agent's
greedy play: obs.bin (observations, in the policy's dtype), starts.u8 (1 where an episode
starts), the agent's actions (act.i64 or act.f32), its logits or Gaussian means (actor.f32),
values (value.f32) and memory after each step (state.f32). Steps the policy with
step(obs, state) from initial_state() at every episode start and prints "python: all match"
when actions are equal and everything else within 1e-5; then exports act_step(obs, state) to
ONNX and prints "onnx: checked" when onnx.checker accepts it. Exits 1 on any mismatch.

Needs Debian's python3-torch and python3-onnx (run with /usr/bin/python3).
"""
import io
import os
from typing import Tuple

import torch
from torch import Tensor

import export_check  # Beside this file.

TOLERANCE = 1e-5


def read(folder, name, dtype):
    with open(os.path.join(folder, name), "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=dtype)


class ActStep(torch.nn.Module):
    def __init__(self, policy):
        super().__init__()
        self.policy = policy

    def forward(self, obs: Tensor, state: Tensor) -> Tuple[Tensor, Tensor]:
        return self.policy.act_step(obs, state)


def check_steps(policy, folder):
    shape = list(policy.observation_shape)
    dtype = torch.uint8 if policy.observation_dtype == "u8" else torch.float32
    obs = read(folder, "obs.bin", dtype).reshape([-1] + shape)
    steps = obs.shape[0]
    starts = read(folder, "starts.u8", torch.uint8)
    actor = read(folder, "actor.f32", torch.float32).reshape(steps, -1)
    value = read(folder, "value.f32", torch.float32)
    states = read(folder, "state.f32", torch.float32).reshape(steps, -1)
    discrete = policy.action_kind == "discrete"
    actions = read(folder, "act.i64" if discrete else "act.f32",
                   torch.int64 if discrete else torch.float32).reshape(steps, -1)
    errors = {"actor": 0.0, "value": 0.0, "state": 0.0, "action": 0.0}
    differing_actions = 0
    state = policy.initial_state()
    for t in range(steps):
        if starts[t]:
            state = policy.initial_state()
        x = obs[t:t + 1]
        logits, v, _ = policy.step_outputs(x, state)
        action, state = policy.step(x, state)
        errors["actor"] = max(errors["actor"], (logits[0] - actor[t]).abs().max().item())
        errors["value"] = max(errors["value"], abs(v[0].item() - value[t].item()))
        errors["state"] = max(errors["state"], (state[0] - states[t]).abs().max().item())
        if discrete:
            differing_actions += int(action[0].item() != actions[t, 0].item())
        else:
            errors["action"] = max(errors["action"], (action[0] - actions[t]).abs().max().item())
    failures = ["%s differs by %g" % (k, e) for k, e in errors.items() if e > TOLERANCE]
    if differing_actions:
        failures.append("%d actions differ from the agent's" % differing_actions)
    fresh = policy(obs[:3])  # forward: a batch, each from a fresh state.
    first, _ = policy.step(obs[:3], policy.initial_state(3))
    if not torch.equal(fresh, first):
        failures.append("forward(obs) differs from step(obs, initial_state(B))")
    print("python: %s (%d steps, %d episode starts)" %
          ("; ".join(failures) or "all match", steps, int(starts.sum())))
    return obs, not failures


def check_onnx(policy, obs):
    import onnx

    out = io.BytesIO()
    torch.onnx.export(torch.jit.script(ActStep(policy)), (obs[:2], policy.initial_state(2)), out,
                      input_names=["obs", "state"], output_names=["action", "next_state"],
                      dynamic_axes={"obs": {0: "batch"}, "state": {0: "batch"}},
                      opset_version=14)
    onnx.checker.check_model(onnx.load_from_string(out.getvalue()))
    print("onnx: checked act_step")


if __name__ == "__main__":
    export_check.run(check_steps, check_onnx, __doc__)
