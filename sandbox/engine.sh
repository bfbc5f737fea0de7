#!/bin/sh
# Make sure a Docker engine answers.
#
# 1. If `docker info` already works (Docker Desktop, a system service, a
#    remote DOCKER_HOST), use it and do nothing else.
# 2. Otherwise, when we are root on Debian/Ubuntu, install docker.io if the
#    daemon is missing and start dockerd in the background, logging to
#    .cache/dockerd.log.
# 3. Otherwise say exactly what the user has to do, and fail.
#
# Extra local engines (tests and bench of several engines, root on Linux):
#   sh sandbox/engine.sh --extra N   start engines 1..N beside the main one, each with
#                                    its own socket, data root, exec root and bridge;
#                                    prints FENRIR_ENGINES for them (main engine first)
#   sh sandbox/engine.sh --engine N  start only extra engine N (tests keep theirs apart: e1 gVisor, e2 engines)
#   sh sandbox/engine.sh --stop-extra  stop them and remove their state
# When runsc (gVisor) is installed, the engines Fenrir starts register it as the
# runtime `runsc` (network off inside gVisor: sandbox containers have none anyway).
set -eu
cache="${FENRIR_CACHE:-.cache}"
mkdir -p "$cache"
extra_root=/run/fenrir-engines
extra_data=/var/lib/fenrir-engines

# --add-runtime cannot pass runtime flags: a two-line wrapper adds --network=none.
runtime_flags() {
    command -v runsc >/dev/null 2>&1 || return 0
    mkdir -p "$extra_root"
    printf '#!/bin/sh\nexec %s --network=none "$@"\n' "$(command -v runsc)" > "$extra_root/runsc"
    chmod 755 "$extra_root/runsc"
    echo "--add-runtime runsc=$extra_root/runsc"
}

wait_for() {  # wait_for LOG [DOCKER_HOST]
    i=0
    while ! DOCKER_HOST="${2:-${DOCKER_HOST:-}}" docker info >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 60 ]; then
            echo "fenrir: dockerd did not answer within 30 s; last lines of $1:" >&2
            tail -n 20 "$1" >&2
            exit 1
        fi
        sleep 0.5
    done
}

need_root() {
    if [ "$(id -u)" != 0 ]; then
        echo "fenrir: $1 needs root (it starts dockerd and a bridge); run it as root, or point FENRIR_ENGINES at engines you already run" >&2
        exit 1
    fi
}

stop_extra() {
    for pidfile in "$extra_root"/*/docker.pid; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2>/dev/null || true
        n=0; while kill -0 "$pid" 2>/dev/null && [ "$n" -lt 40 ]; do n=$((n + 1)); sleep 0.5; done
    done
    for dir in "$extra_root"/*/ "$extra_data"/*/; do
        [ -d "$dir" ] || continue
        name=$(basename "$dir"); dir="$extra_root/$name"
        ip link del "fenrir-$name" 2>/dev/null || true
        # dockerd bind-mounts its data root (and overlay2) onto itself; a stopped daemon can leave them
        umount "$extra_data/$name/overlay2" 2>/dev/null || true
        umount "$extra_data/$name" 2>/dev/null || true
        rm -rf "$dir" "$extra_data/$name" || echo "fenrir: could not remove $extra_data/$name (still mounted?)" >&2
    done
    rm -f "$extra_root/runsc"
}

if [ "${1:-}" = "--stop-extra" ]; then
    need_root "--stop-extra"
    stop_extra
    echo "fenrir: extra engines stopped and removed." >&2
    exit 0
fi

if [ "${1:-}" = "--extra" ] || [ "${1:-}" = "--engine" ]; then
    count="${2:-1}"
    case "$count" in ''|*[!0-9]*) echo "fenrir: $1 takes a number from 1 to 8, not '$count'" >&2; exit 2;; esac
    if [ "$count" -lt 1 ] || [ "$count" -gt 8 ]; then
        echo "fenrir: $1 takes a number from 1 to 8, not $count" >&2; exit 2
    fi
    need_root "$1"
    sh "$0"  # the main engine first
    engines="unix:///var/run/docker.sock"
    [ -n "${DOCKER_HOST:-}" ] && engines="$DOCKER_HOST"
    n=1
    [ "$1" = "--engine" ] && n="$count"  # just that one
    while [ "$n" -le "$count" ]; do
        name="e$n"; dir="$extra_root/$name"; host="unix://$dir/docker.sock"
        mkdir -p "$dir" "$extra_data/$name"
        if ! DOCKER_HOST="$host" docker info >/dev/null 2>&1; then
            bridge="fenrir-$name"
            ip link show "$bridge" >/dev/null 2>&1 || {
                ip link add "$bridge" type bridge
                ip addr add "172.29.$n.1/24" dev "$bridge"
                ip link set "$bridge" up
            }
            echo "fenrir: starting extra engine $name at $host (log: $dir/dockerd.log) ..." >&2
            # No iptables/masquerade: this engine's containers have no way out, so
            # Fenrir streams the sandbox image to it (docker save | docker load).
            # shellcheck disable=SC2046
            setsid dockerd -H "$host" --data-root "$extra_data/$name" --exec-root "$dir/exec" \
                --pidfile "$dir/docker.pid" --bridge "$bridge" --iptables=false --ip6tables=false \
                --ip-masq=false $(runtime_flags) >"$dir/dockerd.log" 2>&1 < /dev/null &
            wait_for "$dir/dockerd.log" "$host"
        fi
        engines="$engines,$host"
        n=$((n + 1))
    done
    echo "fenrir: extra engines up; use them with" >&2
    echo "FENRIR_ENGINES=$engines"
    exit 0
fi

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
# shellcheck disable=SC2046
setsid dockerd $(runtime_flags) >"$cache/dockerd.log" 2>&1 < /dev/null &
wait_for "$cache/dockerd.log"
echo "fenrir: Docker engine is up." >&2
