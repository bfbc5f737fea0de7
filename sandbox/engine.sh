#!/bin/sh
# Make sure a Docker engine answers.
#
# 1. If `docker info` already works (Docker Desktop, a system service, a
#    remote DOCKER_HOST), use it and do nothing else.
# 2. Otherwise, when we are root on Debian/Ubuntu, install docker.io if the
#    daemon is missing and start dockerd in the background, logging to
#    .cache/dockerd.log.
# 3. Otherwise say exactly what the user has to do, and fail.
set -eu
cache="${FENRIR_CACHE:-.cache}"
mkdir -p "$cache"

answers() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && answers; then
    exit 0
fi

if [ "$(id -u)" != 0 ] || [ ! -f /etc/debian_version ]; then
    cat >&2 <<MSG
fenrir: no Docker engine answers (docker info failed${DOCKER_HOST:+ for DOCKER_HOST=$DOCKER_HOST}).
Start Docker (e.g. 'sudo systemctl start docker' or Docker Desktop), make sure
your user may use it ('sudo usermod -aG docker \$USER', then log in again),
and run 'make test' again. As root on Debian, Fenrir installs and starts it itself.
MSG
    exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
    echo "fenrir: installing docker.io (Debian package) ..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$cache/apt.log" 2>&1
    apt-get install -y -qq docker.io >>"$cache/apt.log" 2>&1 || {
        echo "fenrir: 'apt-get install docker.io' failed; see $cache/apt.log" >&2; exit 1; }
fi

echo "fenrir: starting dockerd in the background (log: $cache/dockerd.log) ..." >&2
# setsid: the daemon outlives this make run and the CI step that started it.
setsid dockerd >"$cache/dockerd.log" 2>&1 < /dev/null &
i=0
while ! answers; do
    i=$((i + 1))
    if [ "$i" -gt 60 ]; then
        echo "fenrir: dockerd did not answer within 30 s; last lines of $cache/dockerd.log:" >&2
        tail -n 20 "$cache/dockerd.log" >&2
        exit 1
    fi
    sleep 0.5
done
echo "fenrir: Docker engine is up." >&2
