#!/usr/bin/env bash
# bench/rollout.sh — `bench/run.sh rollout`: a staged rollout to 10,000
# simulated devices (one `fleetpatch-agent fleet` process) against a real
# fleetpatchd, timed from the approval until every device reported the new
# release healthy, over the least the poll interval and soak times allow.
# The measurements and their definitions are in bench/rollout.py.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$SRC/build-bench"

sh "$SRC/scripts/deps.sh"
echo "building in $BUILD" >&2
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target fleetpatchd fleetpatch fleetpatch-agent >/dev/null
# 10,000 devices keep a socket and a few files each open in one process.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
FP_BUILD_DIR="$BUILD" exec python3 "$SRC/bench/rollout.py"
