#!/usr/bin/env bash
# bench/powercut.sh — `bench/run.sh powercut`: at least 1,000 power cuts of
# simulated devices in the middle of their updates (tests/powercut/powercut.py:
# kill -9 at random instants of download, slot write, switch, reboot, health
# check and commit, with unsynced writes dropped through an LD_PRELOAD shim).
# Prints `bench: powercut_cuts N` and `bench: powercut_bad N` (must be 0).
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$SRC/build-bench"
CUTS=${FP_BENCH_CUTS:-1000}
DEVICES=${FP_BENCH_POWERCUT_DEVICES:-4}

FP_DEPS_TEST=1 sh "$SRC/scripts/deps.sh"
echo "building in $BUILD" >&2
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target fleetpatchd fleetpatch fleetpatch-agent fp_dropshim >/dev/null
FP_BUILD_DIR="$BUILD" FP_SOURCE_DIR="$SRC" exec python3 "$SRC/tests/powercut/powercut.py" \
	--cuts "$CUTS" --devices "$DEVICES"
