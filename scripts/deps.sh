#!/bin/sh
# Installs the Debian 12 packages that fleetpatch needs to build, run and test.
# Idempotent: packages already present are skipped. Needs root (or sudo).
set -eu

BUILD="cmake make gcc clang pkg-config libmicrohttpd-dev libjansson-dev libsqlite3-dev
libssl-dev libcurl4-openssl-dev libexpat1-dev zlib1g-dev libzstd-dev libcmocka-dev libclang-rt-14-dev
ieee-data tzdata"
TEST="python3 openssl nmap wrk nginx-light sqlite3 clang-format curl
libubootenv-tool grub-common"

want=""
for p in $BUILD ${FP_DEPS_TEST:+$TEST}; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || want="$want $p"
done
[ -z "$want" ] && exit 0

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing$want" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh them at most once a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
	$SUDO apt-get update -qq
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $want >/dev/null
