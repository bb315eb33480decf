#!/usr/bin/env bash
# A Docker daemon for `make image` and `make image-test` on a machine that may have none.
#   container/docker-daemon.sh start   install docker.io, debootstrap and docker-compose if missing;
#                                      start dockerd if none answers, and wait for it (60 s at most)
#   container/docker-daemon.sh stop    stop the daemon, only if `start` started it
# The daemon started here uses the vfs storage driver and no iptables or default bridge, which work
# inside a container or a sandbox without privileges beyond root; user-defined networks (what
# compose makes) and ports published on 127.0.0.1 work with them.
set -euo pipefail

STATE=/run/audjust-mock-dockerd
PIDFILE="$STATE/dockerd.pid"

answers() { timeout 10 docker info > /dev/null 2>&1; }

start() {
    local missing=()
    command -v dockerd > /dev/null || missing+=(docker.io)
    command -v debootstrap > /dev/null || missing+=(debootstrap)
    command -v docker-compose > /dev/null || missing+=(docker-compose)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]}" >&2
        timeout 300 apt-get update -q > /dev/null
        DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "${missing[@]}" > /dev/null
    fi
    if answers; then
        return 0
    fi
    mkdir -p "$STATE"
    echo "starting dockerd (log: $STATE/dockerd.log)" >&2
    setsid nohup dockerd --storage-driver vfs --iptables=false --bridge=none \
        > "$STATE/dockerd.log" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    for _ in $(seq 60); do
        if answers; then
            return 0
        fi
        kill -0 "$(cat "$PIDFILE")" 2> /dev/null || break
        sleep 1
    done
    echo "dockerd did not answer; its log ends:" >&2
    tail -n 20 "$STATE/dockerd.log" >&2
    stop
    return 1
}

stop() {
    [ -s "$PIDFILE" ] || return 0
    local pid
    pid=$(cat "$PIDFILE")
    rm -f "$PIDFILE"
    kill -TERM "$pid" 2> /dev/null || return 0
    for _ in $(seq 30); do
        kill -0 "$pid" 2> /dev/null || return 0
        sleep 1
    done
    echo "dockerd did not stop in 30 s; killing it" >&2
    kill -KILL "$pid" 2> /dev/null || true
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
