#!/bin/sh
# Quick start, command 1: installs what is missing, builds, and runs fleetpatchd
# on http://127.0.0.1:8080 with its embedded SQLite database in ./fleetpatch-data.
# Extra arguments go to fleetpatchd, e.g. `scripts/run.sh --demo` for a demo fleet.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "run: built $(build/fleetpatchd --version); CLI at build/fleetpatch" >&2
exec build/fleetpatchd "$@"
