#!/bin/bash
# The sixth look of docs/distributed.md: per round, each core's own speed (one process pinned to
# each core, both at once), one process alone, then DD-PPO in 2 processes (--nproc 2), on PPO
# MinAtar Breakout with rlbench --case ddppo_scaling's settings; prints env steps/s and ratios.
# Usage (from anywhere, after building build/bin): ddppo_core_speeds.sh [ROUNDS] [STEPS]
set -eu
export OPENBLAS_NUM_THREADS=1
cd "$(dirname "$0")/../.."
rounds=${1:-6}
steps=${2:-131072}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
settings=(configs/ppo_minatar_breakout.yaml --set "train.total_steps=$steps"
  --set train.eval_every=0 --set train.eval_episodes=1 --set train.eval_max_steps=100
  --set train.log_every=8192 --set train.checkpoint_every=0 --set train.tensorboard=false)
# train NAME CORE [rltrain arguments...]: one quiet run into $out/NAME, pinned to CORE unless
# CORE is "any".
train() {
  local name=$1 core=$2
  shift 2
  local pin=()
  [ "$core" != any ] && pin=(taskset -c "$core")
  "${pin[@]}" build/bin/rltrain "${settings[@]}" "$@" --out "$out/$name" >/dev/null \
    2>"$out/$name.log"
}
rate() {
  python3 -c "import json, sys; print(round(json.load(open(sys.argv[1]))['steps_per_second']))" \
    "$out/$1/summary.json"
}
for round in $(seq 1 "$rounds"); do
  rm -rf "${out:?}"/*
  train core0 0 &
  train core1 1
  wait
  train alone any
  train two any --nproc 2
  python3 - "$round" "$(rate core0)" "$(rate core1)" "$(rate alone)" "$(rate two)" <<'PY'
import sys
r, c0, c1, one, two = sys.argv[1], *map(float, sys.argv[2:])
print(f"round {r}: core 0 {c0:.0f}, core 1 {c1:.0f} (slower/faster {min(c0, c1) / max(c0, c1):.2f}), "
      f"one process {one:.0f}, --nproc 2 {two:.0f}: {two / one:.2f}x of one process, "
      f"{two / (c0 + c1):.2f} of both cores' sum")
PY
done
