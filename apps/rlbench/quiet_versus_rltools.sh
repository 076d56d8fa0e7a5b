#!/bin/bash
# The speed figures of issue #12 on a quiet machine, one core: RLtools' zoo binaries and ours
# alternating (SAC and PPO on Pendulum), then DQN CartPole, DQN and PPO on MinAtar Breakout and
# DD-PPO scaling. Run from the checkout after building (build/bin); RLTOOLS_DIR is the folder
# holding RLtools' sac_pendulum and ppo_pendulum binaries, built as docs/benchmarks.md says.
set -u
export OPENBLAS_NUM_THREADS=1
cd "$(dirname "$0")/../.."
rltools=${RLTOOLS_DIR:-/tmp/rltools}
timed() { /usr/bin/time -f "%e s wall, %U s user, %S s sys" "$@"; }
for round in 1 2 3; do
  echo "== round $round: $(uptime)"
  echo "-- RLtools SAC"; (cd "$rltools" && timed ./sac_pendulum 2>&1 | tail -1)
  echo "-- rlcade SAC"; timed build/bin/rlbench --case sac_pendulum_rltools 2>&1 | tail -3
  echo "-- RLtools PPO (10.01M env steps)"; (cd "$rltools" && timed ./ppo_pendulum 2>&1 | tail -1)
  echo "-- rlcade PPO"; timed build/bin/rlbench --case ppo_pendulum_rltools --steps 10000000 2>&1 | tail -3
done
for case in dqn_cartpole_e2e dqn_minatar_breakout ppo_minatar_breakout; do
  for round in 1 2; do
    echo "== $case $round: $(uptime)"
    timed build/bin/rlbench --case "$case" 2>&1 | tail -4
  done
done
echo "== ddppo_scaling: $(uptime)"
RLCADE_SOURCE_DIR=$PWD timed build/bin/rlbench --case ddppo_scaling --steps 65536 2>&1 | tail -14
