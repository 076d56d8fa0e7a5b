#!/usr/bin/python3
"""Reference values for tests/core/run_statistics_test.cpp, computed with numpy and scipy the
way rliable's metrics.py computes them.

Usage: run_statistics_reference.py INPUT.json OUTPUT.json
INPUT holds {"samples": [[x, ...], ...], "tables": [[[task 0 runs], [task 1 runs], ...], ...],
"gap_threshold": g, "improvement": [table_x, table_y]} (tables are task-major, each task with
the same number of runs). OUTPUT gets, per sample, mean, median, iqm, p2_5, p97_5 and, per
table, mean, median, iqm, optimality_gap, plus probability_of_improvement.
"""
import json
import sys

import numpy as np
import scipy.stats


def run_major(table):
    """rliable's layout: scores[run, task]."""
    return np.array(table, dtype=np.float64).T


def sample_values(x):
    x = np.array(x, dtype=np.float64)
    return {
        "mean": float(np.mean(x)),
        "median": float(np.median(x)),
        "iqm": float(scipy.stats.trim_mean(x, proportiontocut=0.25)),
        "p2_5": float(np.percentile(x, 2.5)),
        "p97_5": float(np.percentile(x, 97.5)),
    }


def table_values(table, gamma):
    scores = run_major(table)
    task_means = np.mean(scores, axis=0)
    return {
        "mean": float(np.mean(task_means)),
        "median": float(np.median(task_means)),
        "iqm": float(scipy.stats.trim_mean(scores, proportiontocut=0.25, axis=None)),
        "optimality_gap": float(gamma - np.mean(np.minimum(scores, gamma))),
    }


def probability_of_improvement(table_x, table_y):
    x, y = run_major(table_x), run_major(table_y)
    probabilities = []
    for task in range(x.shape[1]):
        if np.array_equal(x[:, task], y[:, task]):
            probabilities.append(0.5)
            continue
        u, _ = scipy.stats.mannwhitneyu(x[:, task], y[:, task], alternative="greater")
        probabilities.append(u / (x.shape[0] * y.shape[0]))
    return float(np.mean(probabilities))


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    gamma = data["gap_threshold"]
    result = {
        "samples": [sample_values(x) for x in data["samples"]],
        "tables": [table_values(t, gamma) for t in data["tables"]],
        "probability_of_improvement": probability_of_improvement(*data["improvement"]),
    }
    with open(sys.argv[2], "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
