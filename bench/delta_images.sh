#!/usr/bin/env bash
# bench/delta_images.sh — builds the pair of root-filesystem images that
# `bench/run.sh delta` compares (see bench/README.md), once, into a cache:
#
#   old.ext4, old.squashfs   a minimal Debian 12 (bookworm) system from debootstrap
#   new.ext4, new.squashfs   the same system after a realistic upgrade: every
#                            pending update from bookworm-updates and
#                            bookworm-security, plus a few added packages
#
# usage: bench/delta_images.sh CACHE_DIR     (prints nothing when the images exist)
set -euo pipefail

CACHE=$1
MIRROR=${FP_BENCH_MIRROR:-http://deb.debian.org/debian}
SECURITY=${FP_BENCH_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# Packages the "new" image adds: a typical field update that brings a remote
# shell client, an HTTP client and their libraries.
ADD_PACKAGES=${FP_BENCH_ADD_PACKAGES:-"openssh-client curl ca-certificates iproute2 less"}

if [ -f "$CACHE/new.squashfs" ] && [ -f "$CACHE/old.squashfs" ]; then
	exit 0
fi
mkdir -p "$CACHE"
ROOT_OLD="$CACHE/rootfs-old"
ROOT_NEW="$CACHE/rootfs-new"

cleanup_mounts() {
	for m in proc sys dev/pts dev; do
		mountpoint -q "$ROOT_NEW/$m" 2>/dev/null && umount -l "$ROOT_NEW/$m" || true
	done
}
trap cleanup_mounts EXIT

# The base system: debootstrap's minbase variant (essential + apt).
if [ ! -f "$CACHE/rootfs-old.done" ]; then
	rm -rf "$ROOT_OLD"
	echo "delta_images: debootstrap bookworm into $ROOT_OLD" >&2
	debootstrap --variant=minbase bookworm "$ROOT_OLD" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$CACHE/debootstrap.log" >&2; exit 1; }
	rm -rf "$ROOT_OLD"/var/cache/apt/archives/*.deb "$ROOT_OLD"/var/lib/apt/lists/*
	touch "$CACHE/rootfs-old.done"
fi

# The upgraded system: a copy of the base, upgraded and extended inside a chroot.
if [ ! -f "$CACHE/rootfs-new.done" ]; then
	rm -rf "$ROOT_NEW"
	cp -a "$ROOT_OLD" "$ROOT_NEW"
	cat >"$ROOT_NEW/etc/apt/sources.list" <<SRC
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb $SECURITY bookworm-security main
SRC
	mount -t proc proc "$ROOT_NEW/proc"
	mount --bind /dev "$ROOT_NEW/dev"
	echo "delta_images: upgrading and adding $ADD_PACKAGES in $ROOT_NEW" >&2
	chroot "$ROOT_NEW" /usr/bin/env DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		sh -c "apt-get update -qq && apt-get -y -qq upgrade && \
		       apt-get -y -qq install --no-install-recommends $ADD_PACKAGES && apt-get clean" \
		>"$CACHE/upgrade.log" 2>&1 || { tail -n 20 "$CACHE/upgrade.log" >&2; exit 1; }
	cleanup_mounts
	rm -rf "$ROOT_NEW"/var/lib/apt/lists/*
	touch "$CACHE/rootfs-new.done"
fi

# ext4: 25% free space over the files, 4 KiB blocks, the files copied in by
# mke2fs -d (no loop mount needed). squashfs: mksquashfs defaults (gzip,
# 128 KiB blocks), as many devices ship them.
for v in old new; do
	root="$CACHE/rootfs-$v"
	kib=$(du -sk "$root" | awk '{print $1}')
	size_k=$(((kib * 5 / 4 / 4096 + 1) * 4096))
	rm -f "$CACHE/$v.ext4" "$CACHE/$v.squashfs"
	mke2fs -q -F -t ext4 -b 4096 -d "$root" -L rootfs "$CACHE/$v.ext4" "${size_k}k"
	mksquashfs "$root" "$CACHE/$v.squashfs" -noappend -quiet -no-progress >/dev/null
done
ls -l "$CACHE"/*.ext4 "$CACHE"/*.squashfs >&2
