#!/usr/bin/env bash
# bench/agent.sh — `bench/run.sh agent`: the device agent's footprint and its
# install throughput. A real fleetpatchd serves a 1 GiB release (random
# bytes) published with the CLI; a simulated device (`fleetpatch-agent
# --simulate DIR`, polling every 60 s; SIGUSR1 makes it poll at once) enrols,
# and is measured idle (RSS of its process tree between polls: fleetpatch-agentd
# alone), over 5 polls with nothing to do (the workers' CPU and peak RSS),
# and while it streams the release into its slot file (peak RSS, sampled
# every 20 ms, and the install time it reports in fp_install_ms: download,
# hash and write with the syncs). The peer for throughput is dd copying the
# same image into a slot file (bs=1M conv=fsync), runs alternating, medians.
# The peers for size and memory, swupdate, rauc and mender-client, are
# installed from Debian (apt-get) and each runs idle for 10 s as on a
# device, in a directory of its own with a minimal configuration: swupdate
# -v with its webserver and a certificate, rauc service on a private D-Bus
# with a noop bootloader and a pair of file slots, mender daemon against
# 127.0.0.1 on a port nobody listens on. Their idle RSS is summed over each
# one's process tree (the private dbus-daemon is not counted) and compared
# with the agent's: agent_rss_vs_smallest_peer. Everything is killed after.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$SRC/build-bench"
CACHE=${FP_BENCH_CACHE:-$HOME/.cache/fleetpatch-bench}/agent
RUNS=${FP_BENCH_RUNS:-3}
SIZE_MIB=${FP_BENCH_AGENT_MIB:-1024}

info() { echo "info: $*"; }

FP_DEPS_TEST=1 sh "$SRC/scripts/deps.sh"
# The peers (and what running them needs: a D-Bus daemon, openssl for their
# throwaway CAs, unshare/mount for mender's namespace).
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	swupdate rauc mender-client dbus openssl util-linux mount binutils >/dev/null
echo "building in $BUILD" >&2
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target fleetpatchd fleetpatch fleetpatch-agent fleetpatch-agentd >/dev/null
mkdir -p "$CACHE"
if [ ! -f "$CACHE/image.img" ] || [ "$(stat -c %s "$CACHE/image.img")" -ne $((SIZE_MIB << 20)) ]; then
	head -c $((SIZE_MIB << 20)) /dev/urandom >"$CACHE/image.tmp"
	mv "$CACHE/image.tmp" "$CACHE/image.img"
fi
FP_BUILD_DIR="$BUILD" FP_SOURCE_DIR="$SRC" exec python3 "$SRC/bench/agent.py" "$CACHE/image.img" "$RUNS"
