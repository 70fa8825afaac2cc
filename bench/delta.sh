#!/usr/bin/env bash
# bench/delta.sh — `bench/run.sh delta`: fleetpatch's delta updates against
# bsdiff, xdelta3 -9 and zstd --patch-from on a real pair of Debian root
# filesystems (bench/delta_images.sh), as ext4 and as squashfs. For each
# tool: delta size, build time, apply time and apply peak memory
# (/usr/bin/time -v, maximum resident set size). See bench/README.md.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$SRC/build-bench"
CACHE=${FP_BENCH_CACHE:-$HOME/.cache/fleetpatch-bench}/delta
FSLIST=${FP_BENCH_DELTA_FS:-"squashfs ext4"}
# bsdiff's suffix sort is slow on long runs of equal bytes (the free space of
# an ext4 image); a peer that fails or does not finish in this time is
# reported as such and left out of the ratios.
PEER_TIMEOUT=${FP_BENCH_PEER_TIMEOUT:-1800}

info() { echo "info: $*"; }
die() {
	echo "bench: error: $*" >&2
	exit 1
}

# ---- what the benchmark needs ----
FP_DEPS_TEST=1 sh "$SRC/scripts/deps.sh"
want=""
for p in debootstrap squashfs-tools e2fsprogs bsdiff xdelta3 zstd time; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want="$want $p"
done
if [ -n "$want" ]; then
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	echo "delta: installing$want" >&2
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $want >/dev/null
fi
[ "$(id -u)" -eq 0 ] || [ -f "$CACHE/new.squashfs" ] ||
	die "building the root filesystems (debootstrap, chroot) needs root once; run as root"

echo "building in $BUILD" >&2
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target fleetpatch >/dev/null
FP="$BUILD/fleetpatch"

"$SRC/bench/delta_images.sh" "$CACHE"

TMP=$(mktemp -d /tmp/fp-bench-delta.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# measure LABEL CMD...: runs CMD under /usr/bin/time -v with a time limit;
# sets SECS and KB; returns 1 when the limit was reached.
measure() {
	local label=$1 rc=0
	shift
	timeout "$PEER_TIMEOUT" /usr/bin/time -v -o "$TMP/time" "$@" >"$TMP/out.log" 2>&1 || rc=$?
	[ "$rc" -eq 124 ] && return 1
	[ "$rc" -eq 0 ] || { info "$label failed with status $rc: $(tail -n 3 "$TMP/out.log" "$TMP/time" | tr '\n' ' ')"; return 2; }
	SECS=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$TMP/time")
	KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/time")
}

worst_size=0 worst_mem=0
for fs in $FSLIST; do
	old="$CACHE/old.$fs" new="$CACHE/new.$fs"
	info "image_${fs} old $(stat -c %s "$old") bytes new $(stat -c %s "$new") bytes"
	declare -A size build apply mem
	peers=""
	for tool in fleetpatch bsdiff xdelta3 zstd; do
		d="$TMP/$tool.$fs.delta" out="$TMP/$tool.$fs.out"
		case $tool in
		fleetpatch)
			bcmd=("$FP" artifact delta --base "$old" --new "$new" --out "$d")
			acmd=("$FP" artifact apply-delta --base "$old" --delta "$d" --out "$out")
			;;
		bsdiff)
			# Its suffix sort recurses once per level of a run of equal bytes:
			# with the default 8 MiB stack it dies on an ext4 image's free space.
			bcmd=(sh -c 'ulimit -s unlimited && exec bsdiff "$@"' bsdiff "$old" "$new" "$d")
			acmd=(bspatch "$old" "$out" "$d")
			;;
		xdelta3)
			bcmd=(xdelta3 -9 -e -f -s "$old" "$new" "$d")
			acmd=(xdelta3 -d -f -s "$old" "$d" "$out")
			;;
		zstd)
			# The strongest settings of zstd's own patch mode: level 19 and a
			# window that covers the whole base.
			bcmd=(zstd -q -f -19 --long=31 --patch-from="$old" "$new" -o "$d")
			acmd=(zstd -q -f -d --long=31 --patch-from="$old" "$d" -o "$out")
			;;
		esac
		mrc=0
		measure "$tool build" "${bcmd[@]}" || mrc=$?
		if [ "$mrc" -ne 0 ]; then
			[ "$tool" != fleetpatch ] || die "fleetpatch failed or did not finish in $PEER_TIMEOUT s"
			[ "$mrc" -eq 1 ] && info "delta_${fs}_${tool} did_not_finish_within ${PEER_TIMEOUT} s"
			continue
		fi
		build[$tool]=$SECS
		measure "$tool apply" "${acmd[@]}" || die "$tool apply failed or did not finish"
		apply[$tool]=$SECS
		mem[$tool]=$KB
		size[$tool]=$(stat -c %s "$d")
		cmp -s "$out" "$new" || die "$tool did not reproduce new.$fs"
		rm -f "$out"
		[ "$tool" = fleetpatch ] || peers="$peers ${size[$tool]}"
		info "delta_${fs}_${tool} size ${size[$tool]} bytes build ${build[$tool]} s apply ${apply[$tool]} s apply_peak_rss $((mem[$tool] / 1024)) MiB"
	done
	best=$(printf '%s\n' $peers | sort -n | head -n 1)
	rs=$(awk -v a="${size[fleetpatch]}" -v b="$best" 'BEGIN {printf "%.3f", a / b}')
	info "delta_size_vs_best_peer_${fs} $rs x"
	worst_size=$(awk -v a="$worst_size" -v b="$rs" 'BEGIN {print (b > a) ? b : a}')
	if [ -n "${mem[bsdiff]:-}" ]; then
		rm_=$(awk -v a="${mem[fleetpatch]}" -v b="${mem[bsdiff]}" 'BEGIN {printf "%.3f", a / b}')
		info "delta_apply_mem_vs_bsdiff_${fs} $rm_ x"
		worst_mem=$(awk -v a="$worst_mem" -v b="$rm_" 'BEGIN {print (b > a) ? b : a}')
	fi
	unset size build apply mem
	rm -f "$TMP"/*.delta
done

# The headline is the worse of the file systems on which the peers finished.
echo "bench: delta_size_vs_best_peer $worst_size x"
if [ "$worst_mem" = 0 ]; then
	echo "bench: delta_apply_mem_vs_bsdiff n/a x (bsdiff finished on no pair)"
else
	echo "bench: delta_apply_mem_vs_bsdiff $worst_mem x"
fi
