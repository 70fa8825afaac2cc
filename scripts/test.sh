#!/bin/sh
# Quick start, command 2: installs what is missing, builds, and runs every test
# (unit, fuzz-corpus replay, integration and attacks over loopback).
#   scripts/test.sh              the normal build, in build/
#   scripts/test.sh --sanitize   the same suite under ASan+UBSan, in build-asan/
#   scripts/test.sh -R PATTERN   only tests whose name matches (passed to ctest)
set -eu
cd "$(dirname "$0")/.."
FP_DEPS_TEST=1 scripts/deps.sh
dir=build
flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DFP_SANITIZE=OFF"
if [ "${1:-}" = "--sanitize" ]; then
	shift
	dir=build-asan
	flags="-DCMAKE_BUILD_TYPE=Debug -DFP_SANITIZE=ON"
	export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
	export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
fi
# shellcheck disable=SC2086
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
ctest --output-on-failure -j2 "$@"
