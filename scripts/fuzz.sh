#!/bin/sh
# Builds every libFuzzer target with ASan+UBSan and runs each for SECONDS
# (default 60) from its seed corpus. New crashes are left in build-fuzz/crashes.
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
scripts/deps.sh
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DFP_FUZZ=ON -DFP_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
mkdir -p build-fuzz/crashes build-fuzz/work
status=0
for bin in build-fuzz/fuzz_*; do
	case "$bin" in *_replay) continue ;; esac
	name=$(basename "$bin" | sed 's/^fuzz_//')
	rm -rf "build-fuzz/work/$name" && mkdir -p "build-fuzz/work/$name"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="build-fuzz/crashes/$name-" \
		"build-fuzz/work/$name" "tests/fuzz/corpus/$name" >"build-fuzz/$name.log" 2>&1; then
		echo "fuzz: $name ok ($(grep -o 'stat::number_of_executed_units: [0-9]*' "build-fuzz/$name.log" | awk '{print $2}') runs)"
	else
		echo "fuzz: $name FAILED; see build-fuzz/$name.log and build-fuzz/crashes/"
		tail -n 30 "build-fuzz/$name.log"
		status=1
	fi
done
exit $status
