#!/usr/bin/env bash
# A Debian bookworm base image made here, for when the default base cannot be pulled (no registry
# reachable): debootstrap from the Debian mirror apt uses, trimmed, then `docker import`.
#   container/base-image.sh python|node   prints the image's tag
# The root filesystem is kept as a tarball under AUDJUST_BASE_CACHE (default
# /var/cache/audjust-mock), so a later run, or one after the image was removed, imports it in
# seconds instead of bootstrapping again (about 100 s). Debian's python3 is 3.11 and its nodejs 18.
set -euo pipefail

RECIPE=2  # bump when the recipe changes, so cached tarballs from the old one are not used
SUITE=bookworm
case "${1:-}" in
    python) packages=python3 ;;
    node) packages=nodejs ;;
    *) echo "usage: $0 python|node" >&2; exit 2 ;;
esac
tag="audjust-mock-base:$SUITE-$1-r$RECIPE"
cache="${AUDJUST_BASE_CACHE:-/var/cache/audjust-mock}"
tarball="$cache/$SUITE-$1-r$RECIPE.tar"

if docker image inspect "$tag" > /dev/null 2>&1; then
    echo "$tag"
    exit 0
fi

if [ ! -s "$tarball" ]; then
    command -v debootstrap > /dev/null || {
        apt-get update -q > /dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap > /dev/null
    }
    # The mirror apt is configured with: the only one this machine (and a CI runner) can reach.
    mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2> /dev/null | head -n 1)
    mirror=${mirror:-$(sed -n 's/^deb \(\[[^]]*\] \)\?\([^ ]*\/debian\) .*/\2/p' /etc/apt/sources.list 2> /dev/null | head -n 1)}
    mirror=${mirror:-http://deb.debian.org/debian}
    mkdir -p "$cache/debs"
    rootfs=$(mktemp -d)
    chmod 755 "$rootfs"  # mktemp made it 0700: the image's / must be readable by its users
    trap 'rm -rf "$rootfs"' EXIT
    echo "bootstrapping Debian $SUITE with $packages from $mirror (about 100 s)" >&2
    if ! timeout 900 debootstrap --variant=minbase --include="$packages" \
        --cache-dir="$cache/debs" "$SUITE" "$rootfs" "$mirror" > "$cache/debootstrap-$1.log" 2>&1; then
        tail -n 20 "$cache/debootstrap-$1.log" >&2
        exit 1
    fi
    # As Debian's slim images: no package lists, caches, manuals or translations.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* "$rootfs"/usr/share/man/* \
        "$rootfs"/usr/share/info/* "$rootfs"/usr/share/locale/*
    find "$rootfs/usr/share/doc" -type f ! -name copyright -delete
    tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
    mv "$tarball.partial" "$tarball"
fi

docker import --change 'ENV LANG=C.UTF-8' --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "Debian $SUITE minbase with $packages, by container/base-image.sh" \
    "$tarball" "$tag" > /dev/null
echo "$tag"
