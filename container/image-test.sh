#!/usr/bin/env bash
# make image-test: a Docker daemon (started here if none answers, and then stopped at the end), the
# image, then container_tests/ against it. Every wait is bounded; whatever the tests made is
# removed on the way out, whether they passed, failed or were interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."

LABEL=audjust-mock-image-test
began=$(date +%s)

remove() {  # remove IDS COMMAND...: the listed ids, if any
    local ids=$1
    shift
    # shellcheck disable=SC2086  # one id a word
    [ -z "$ids" ] || timeout 120 docker "$@" $ids > /dev/null 2>&1 || true
}

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if timeout 10 docker info > /dev/null 2>&1; then
        timeout 120 docker-compose --project-name audjust-image-test --file compose.yaml \
            down --volumes --timeout 10 > /dev/null 2>&1 || true
        remove "$(timeout 30 docker ps --all --quiet --filter "label=$LABEL")" rm --force
        remove "$(timeout 30 docker network ls --quiet --filter "label=$LABEL")" network rm
        remove "$(timeout 30 docker volume ls --quiet --filter "label=$LABEL")" volume rm --force
    fi
    container/docker-daemon.sh stop || true
    echo "make image-test: $(($(date +%s) - began)) s, exit $status"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

container/docker-daemon.sh start
command -v shellcheck > /dev/null || {  # actionlint checks the recipes' run: scripts with it
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q shellcheck > /dev/null
}
make --no-print-directory image
.venv/bin/python -m pip install --quiet -e '.[dev,image-test]'
timeout 1500 .venv/bin/pytest container_tests -p no:cacheprovider --durations=5
