#!/bin/bash
# The whole `make test` RUNS times in a row on a fresh clone of this checkout's HEAD, beside HOGS
# processes that each keep one core busy: the suite must hold on a busy machine (issue 12).
#
#   bench/busy_suite.sh [RUNS=3] [HOGS=1] [WORK=/tmp/busy-suite]
#
# Writes WORK/run<i>.log per run and WORK/summary (exit status, wall seconds, pytest's last line).
set -u
RUNS=${1:-3}
HOGS=${2:-1}
WORK=${3:-/tmp/busy-suite}
rm -rf "$WORK" && mkdir -p "$WORK"
git clone -q "$(git rev-parse --show-toplevel)" "$WORK/mian"
hogs=()
for _ in $(seq "$HOGS"); do
  python3 -c "while True: pass" &
  hogs+=($!)
done
trap 'kill "${hogs[@]}" 2>/dev/null' EXIT
cd "$WORK/mian"
for i in $(seq "$RUNS"); do
  start=$(date +%s)
  make test > "$WORK/run$i.log" 2>&1
  status=$?
  echo "run $i: exit $status, $(( $(date +%s) - start )) s, $(grep -E '(passed|failed)' "$WORK/run$i.log" | tail -1)" \
    | tee -a "$WORK/summary"
done
