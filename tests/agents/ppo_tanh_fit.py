#!/usr/bin/env python3
# How the coefficients of rational_tanh (agents/common/nn/fast_math.h) were found: tanh(x) ~
# x P(x^2) / Q(x^2) on [0, L] with P(0) = Q(0) = 1, fitted by least squares on the linearized
# error x P - tanh(x) Q (Sanathanan-Koerner: divided by the previous Q), reweighted towards the
# largest errors (Lawson), in 40-digit arithmetic. Needs mpmath; about 20 s.
#   python3 tests/agents/ppo_tanh_fit.py 9.5 6 3   # L, degree of P, degree of Q
import sys

import mpmath as mp

mp.mp.dps = 40
limit, p_degree, q_degree = mp.mpf(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
points = 600
xs = [limit * (1 - mp.cos(mp.pi * (i + 0.5) / points)) / 2 for i in range(points)]
ys = [mp.tanh(x) for x in xs]
previous_q = [mp.mpf(1)] * points
weights = [mp.mpf(1)] * points
for _ in range(25):
    rows, rhs = [], []
    for x, y, q, w in zip(xs, ys, previous_q, weights):
        t, scale = x * x, mp.sqrt(w) / q
        rows.append([scale * x * t**k for k in range(1, p_degree + 1)] +
                    [-scale * y * t**k for k in range(1, q_degree + 1)])
        rhs.append(scale * (y - x))
    solution, _ = mp.qr_solve(mp.matrix(rows), mp.matrix(rhs))
    p = [mp.mpf(1)] + [solution[k] for k in range(p_degree)]
    q = [mp.mpf(1)] + [solution[p_degree + k] for k in range(q_degree)]
    errors = []
    for i, (x, y) in enumerate(zip(xs, ys)):
        t = x * x
        previous_q[i] = sum(c * t**k for k, c in enumerate(q))
        errors.append(x * sum(c * t**k for k, c in enumerate(p)) / previous_q[i] - y)
    worst = max(abs(e) for e in errors)
    weights = [w * (abs(e) / worst + mp.mpf('1e-3')) for w, e in zip(weights, errors)]
    total = sum(weights)
    weights = [w / total * points for w in weights]
print("max abs error", mp.nstr(worst, 4))
print("P", [mp.nstr(c, 12) for c in p])
print("Q", [mp.nstr(c, 12) for c in q])
