#!/usr/bin/env bash
# The HA simulation at scale, in a release build, on every core: each schedule is a whole
# cluster of real agent loops (HALoop and HAMachine, as `vigil` ships them) under seeded
# faults, with the invariants checked after every step. Writes bench/results/simulation.md
# (the machine, the date, the seed range, the time, schedules per second, violations).
#
#   bench/simulate.sh                        # 1,000,000 schedules, seeds 0..<1000000
#   SCHEDULES=20000 bench/simulate.sh        # a shorter run, to measure the rate
#   FIRST_SEED=1000000 bench/simulate.sh     # another seed range
#
# A failing seed is printed with the command that replays it with every agent's log.
set -euo pipefail
cd "$(dirname "$0")/.."
schedules=${SCHEDULES:-1000000}
first=${FIRST_SEED:-0}
# Some test targets use @testable imports, which a release build allows only when asked.
flags=(-c release -Xswiftc -enable-testing)
echo "==> release build of the tests (about 10 minutes the first time on 2 cores)"
build_started=$(date +%s)
swift build "${flags[@]}" --build-tests >/dev/null
build_seconds=$(( $(date +%s) - build_started ))
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "==> $schedules schedules from seed $first"
status=0
SIMULATION_SCHEDULES=$schedules SIMULATION_FIRST_SEED=$first \
  swift test "${flags[@]}" --skip-build --filter 'SimulationTests/invariantsHoldAcrossSeededSchedules' 2>&1 | tee "$out" || status=$?
line=$(grep -m1 '^simulation:' "$out" || echo "simulation: no result (the run failed before it ended)")
failures=$(grep -E '^\s*↳ seed [0-9]+:' "$out" | sed 's/^[[:space:]]*↳ //' || true)
mkdir -p bench/results
{
  echo "# HA simulation at scale"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- Sources Tests || echo ' (with uncommitted changes)')"
  echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
  echo "- build: release (\`swift build -c release -Xswiftc -enable-testing --build-tests\`, ${build_seconds} s this time)"
  echo "- command: \`SCHEDULES=$schedules FIRST_SEED=$first bench/simulate.sh\`"
  echo
  echo '```'
  echo "$line"
  echo '```'
  if [ -n "$failures" ]; then
    echo
    echo "Seeds that broke an invariant (replay: \`SIMULATION_SEED=N swift test --filter SimulationTests\`):"
    echo
    echo "$failures" | sed 's/^/- /'
  fi
} > bench/results/simulation.md
echo "==> wrote bench/results/simulation.md"
exit $status
