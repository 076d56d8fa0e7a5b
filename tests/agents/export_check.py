#!/usr/bin/python3
"""Checks an exported rlcade policy in Python, as a user would load it.

usage: export_check.py POLICY.pt DIR

DIR holds what tests/agents/export_test.cpp wrote: obs.bin (the recorded observations, batch-first
in the policy's observation dtype), the agent's outputs on them (act.i64 or act.f32; for discrete
actions legal.u8 and act_masked.i64; <method>.f32 for each value method) . Prints
"python: all match" when torch.jit.load's policy reproduces them (actions equal, values within
1e-5), then exports the act/act_masked/value methods to ONNX and prints "onnx: checked" when
onnx.checker accepts every model. Exits 1 on any mismatch or failure.

Needs Debian's python3-torch and python3-onnx (run with /usr/bin/python3).
"""
import io
import os
import sys

import torch
from torch import Tensor

TOLERANCE = 1e-5


def read(path, dtype, shape):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=dtype).reshape(shape)


def actions_agree(actions, expected, scores):
    """Equal, except for rare rows (<= 1%) where the agent's scores of both actions are a near-tie
    (within 2e-5: the agent's BLAS engine and LibTorch round differently)."""
    rows = (actions != expected).nonzero().reshape(-1)
    gaps = (scores[rows, actions[rows]] - scores[rows, expected[rows]]).abs()
    return bool((gaps <= 2 * TOLERANCE).all()) and rows.numel() * 100 <= expected.numel()


class Act(torch.nn.Module):
    def __init__(self, policy):
        super().__init__()
        self.policy = policy

    def forward(self, obs: Tensor) -> Tensor:
        return self.policy.act(obs)


class ActMasked(torch.nn.Module):
    def __init__(self, policy):
        super().__init__()
        self.policy = policy

    def forward(self, obs: Tensor, legal: Tensor) -> Tensor:
        return self.policy.act_masked(obs, legal)


class Value(torch.nn.Module):
    def __init__(self, policy):
        super().__init__()
        self.policy = policy

    def forward(self, obs: Tensor) -> Tensor:
        return self.policy.value(obs)


def check_outputs(policy, folder):
    shape = list(policy.observation_shape)
    dtype = torch.uint8 if policy.observation_dtype == "u8" else torch.float32
    obs = read(os.path.join(folder, "obs.bin"), dtype, [-1] + shape)
    count = obs.shape[0]
    failures = []
    if policy.action_kind == "discrete":
        n = policy.num_actions
        # What the agent acts on: the logits of actor-critics, else the Q-values.
        scores_file = "logits.f32" if os.path.exists(os.path.join(folder, "logits.f32")) \
            else "q_values.f32"
        scores = read(os.path.join(folder, scores_file), torch.float32, [count, n])
        expected = read(os.path.join(folder, "act.i64"), torch.int64, [count])
        if not actions_agree(policy(obs), expected, scores):
            failures.append("forward(obs) differs from the agent's greedy actions")
        legal = read(os.path.join(folder, "legal.u8"), torch.uint8, [count, n])
        masked = read(os.path.join(folder, "act_masked.i64"), torch.int64, [count])
        if not actions_agree(policy(obs, legal.to(torch.bool)), masked, scores):
            failures.append("forward(obs, legal) differs from the agent's masked actions")
    else:
        expected = read(os.path.join(folder, "act.f32"), torch.float32, [count, -1])
        error = (policy(obs) - expected).abs().max().item()
        if error > TOLERANCE:
            failures.append("forward(obs) differs from the agent's actions by %g" % error)
    for name in sorted(os.listdir(folder)):
        method, extension = os.path.splitext(name)
        if extension != ".f32" or method == "act":
            continue
        expected = read(os.path.join(folder, name), torch.float32, [-1])
        error = (getattr(policy, method)(obs).reshape(-1) - expected).abs().max().item()
        if error > TOLERANCE:
            failures.append("%s differs from the agent by %g" % (method, error))
    print("python: %s (%d observations)" % ("; ".join(failures) or "all match", count))
    return obs, not failures


def check_onnx(policy, obs):
    import onnx

    batch = obs[:2]
    models = [("act", Act, (batch,))]
    if policy.action_kind == "discrete":
        legal = torch.ones(2, policy.num_actions, dtype=torch.bool)
        models.append(("act_masked", ActMasked, (batch, legal)))
    if hasattr(policy, "value"):
        models.append(("value", Value, (batch,)))
    for method, wrapper, args in models:
        out = io.BytesIO()
        names = ["obs", "legal"][: len(args)]
        torch.onnx.export(torch.jit.script(wrapper(policy)), args, out, input_names=names,
                          output_names=[method], dynamic_axes={"obs": {0: "batch"}},
                          opset_version=14)
        onnx.checker.check_model(onnx.load_from_string(out.getvalue()))
    print("onnx: checked " + ", ".join(method for method, _, _ in models))


def run(check_outputs_of, check_onnx_of, usage):
    """The command line of the export checks: POLICY.pt DIR, outputs then ONNX."""
    if len(sys.argv) != 3:
        sys.exit(usage)
    policy = torch.jit.load(sys.argv[1])
    obs, matched = check_outputs_of(policy, sys.argv[2])
    check_onnx_of(policy, obs)
    sys.exit(0 if matched else 1)


if __name__ == "__main__":
    run(check_outputs, check_onnx, __doc__)
