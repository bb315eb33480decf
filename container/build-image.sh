#!/usr/bin/env bash
# Build the mock's image from the wheels in build/wheels (make wheels).
#   container/build-image.sh IMAGE [BASE]
# Without BASE: the Dockerfile's default if it is here or can be pulled, else a Debian base made
# here (container/base-image.sh python). The base used is written into the image's labels.
#   container/build-image.sh --builder   prints the docker build command used (for other images)
# BuildKit when the client has it (buildx, or Debian's docker.io client, which has it built in):
# on the vfs storage driver the legacy builder copies the whole image for every instruction, 3 min
# against 15 s. The build runs with no network: it needs none.
set -euo pipefail
cd "$(dirname "$0")/.."

builder() {
    if docker buildx version > /dev/null 2>&1; then
        echo "docker buildx build --load --network none"
    elif [ -x /usr/bin/docker ] && DOCKER_BUILDKIT=1 /usr/bin/docker build --help 2>&1 | grep -q -- --progress; then
        echo "env DOCKER_BUILDKIT=1 /usr/bin/docker build --network none"
    else
        echo "docker build --network none"
    fi
}
if [ "${1:-}" = --builder ]; then
    builder
    exit 0
fi

image=${1:?usage: $0 IMAGE [BASE]}
base=${2:-}
default=$(sed -n 's/^ARG BASE=//p' Dockerfile)
if [ -z "$base" ]; then
    if docker image inspect "$default" > /dev/null 2>&1 || timeout 120 docker pull -q "$default" > /dev/null 2>&1; then
        base=$default
    else
        echo "$default cannot be pulled here: building on a Debian base made locally" >&2
        base=$(container/base-image.sh python)
    fi
fi
echo "building $image on $base" >&2
# shellcheck disable=SC2046  # the builder command is words
timeout 900 $(builder) --quiet --build-arg "BASE=$base" \
    --label "org.opencontainers.image.base.name=$base" --tag "$image" . > /dev/null
docker image inspect --format '{{.Size}}' "$image" \
    | awk -v image="$image" '{ printf "%s: %.0f MB\n", image, $1 / 1e6 }'
