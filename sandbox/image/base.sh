#!/bin/sh
# Build a local stand-in for debian:bookworm-slim when no registry answers.
#
#   sh sandbox/image/base.sh TAG
#
# debootstrap --variant=minbase bookworm, then `docker import`. Needs root and
# debootstrap (installed with apt-get when we are root on Debian).
set -eu
tag="$1"
cache="${FENRIR_CACHE:-.cache}"
mirror="${FENRIR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$cache"
if [ "$(id -u)" != 0 ]; then
    echo "fenrir: cannot pull debian:bookworm-slim and cannot debootstrap without root." >&2
    echo "        Pull it yourself (docker pull debian:bookworm-slim) or run as root." >&2
    exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
    echo "fenrir: installing debootstrap ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >"$cache/apt-debootstrap.log" 2>&1 || {
        apt-get update -qq >>"$cache/apt-debootstrap.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >>"$cache/apt-debootstrap.log" 2>&1; }
fi
root=$(mktemp -d "${TMPDIR:-/tmp}/fenrir-base.XXXXXX")
trap 'rm -rf "$root"' EXIT
echo "fenrir: debootstrap --variant=minbase bookworm (log: $cache/debootstrap.log) ..." >&2
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
    echo "fenrir: debootstrap failed; last lines of $cache/debootstrap.log:" >&2
    tail -n 20 "$cache/debootstrap.log" >&2; exit 1; }
# Same slimming as the official -slim image: no apt lists, no docs.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
tar -C "$root" -c . | docker import \
    -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' \
    -m "fenrir: debootstrap minbase bookworm" - "$tag" >/dev/null
echo "fenrir: imported $tag" >&2
