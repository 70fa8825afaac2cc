#!/usr/bin/env bash
# bench/verify.sh — `bench/run.sh verify`: verifying a 1 GiB artifact against
# the length and hashes of its TUF target (`fleetpatch artifact verify`: one
# streaming pass that checks the format, the payload's sha256 and the whole
# file's sha256 and sha512) against `sha256sum` of the same file. The file
# is read from the page cache in both (one warm-up read first), runs
# alternate, medians are compared. See bench/README.md.
set -euo pipefail

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD="$SRC/build-bench"
CACHE=${FP_BENCH_CACHE:-$HOME/.cache/fleetpatch-bench}/verify
RUNS=${FP_BENCH_RUNS:-5}

info() { echo "info: $*"; }
die() {
	echo "bench: error: $*" >&2
	exit 1
}

FP_DEPS_TEST=1 sh "$SRC/scripts/deps.sh"
echo "building in $BUILD" >&2
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j2 --target fleetpatch >/dev/null
FP="$BUILD/fleetpatch"

# A 1 GiB image payload of random bytes (incompressible, like a squashfs
# image), stored uncompressed in the artifact; both are cached.
mkdir -p "$CACHE"
if [ ! -f "$CACHE/payload.img" ] || [ "$(stat -c %s "$CACHE/payload.img")" -ne 1073741824 ]; then
	head -c 1073741824 /dev/urandom >"$CACHE/payload.img.tmp"
	mv "$CACHE/payload.img.tmp" "$CACHE/payload.img"
	rm -f "$CACHE/a.fpa"
fi
[ -f "$CACHE/a.fpa" ] || "$FP" artifact create --out "$CACHE/a.fpa" --payload rootfs:image:"$CACHE/payload.img" >/dev/null
A="$CACHE/a.fpa"

# The signed metadata's view of the artifact, as a TUF target entry would
# carry it (computed here by Python's hashlib, independently of fleetpatch).
read -r LEN SHA256 SHA512 < <(python3 - "$A" <<'PY'
import hashlib, os, sys
p = sys.argv[1]
a, b = hashlib.sha256(), hashlib.sha512()
with open(p, "rb") as f:
    while chunk := f.read(1 << 20):
        a.update(chunk)
        b.update(chunk)
print(os.path.getsize(p), a.hexdigest(), b.hexdigest())
PY
)
info "artifact $LEN bytes"

secs() { # runs CMD, prints its wall time in seconds
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'
}
median() {
	printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {
		if (NR % 2) print v[(NR+1)/2]; else printf "%.3f\n", (v[NR/2]+v[NR/2+1])/2 }'
}

# A wrong hash must fail, so the figure is that of a real verification.
if [ "${SHA256: -1}" = 0 ]; then wrong="${SHA256%?}1"; else wrong="${SHA256%?}0"; fi
if "$FP" artifact verify "$A" --length "$LEN" --sha256 "$wrong" >/dev/null 2>&1; then
	die "fleetpatch accepted a wrong sha256"
fi
cat "$A" >/dev/null
fp=() ref=()
for i in $(seq "$RUNS"); do
	t=$(secs "$FP" artifact verify "$A" --length "$LEN" --sha256 "$SHA256" --sha512 "$SHA512")
	fp+=("$t")
	r=$(secs sha256sum "$A")
	ref+=("$r")
	info "verify_run$i fleetpatch $t s sha256sum $r s"
done
FPS=$(median "${fp[@]}")
REF=$(median "${ref[@]}")
info "verify_fleetpatch_s $FPS s"
info "sha256sum_s $REF s"
echo "bench: verify_vs_sha256sum $(awk -v a="$REF" -v b="$FPS" 'BEGIN {printf "%.3f", a / b}') x"
