"""docs/container.md's commands, run as written. They use ports 8080 and 8081, as a reader would:
where something on this machine already listens there, the test says so and skips. One addition:
the daemon make image-test starts has no default bridge, so `docker run` is given a network."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from container_tests.docker import ROOT, docker
from tests.support import run_shell, serve_process, shell_blocks

DOCS = ROOT / "docs" / "container.md"
# Prepended to the block: `docker run` on the test's network, every other docker command as is.
ON_NETWORK = """docker() {
  if [ "$1" = run ]; then shift; set -- run --network "$NETWORK" "$@"; fi
  command docker "$@"
}
"""


def free(port: int) -> bool:
    with socket.socket() as probe:
        # As servers bind: a connection to it in TIME_WAIT does not make the port taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.fixture
def ports_8080_and_8081() -> None:
    if not (free(8080) and free(8081)):
        pytest.skip("something on this machine listens on 8080 or 8081; the docs use them")


@pytest.fixture
def named(image: str) -> Iterator[None]:
    """What the docs' `docker run` names, removed afterwards whatever happened."""
    assert image == "audjust-mock:local", "the docs run audjust-mock:local"
    try:
        yield
    finally:
        docker("rm", "--force", "audjust-mock", check=False)
        docker("volume", "rm", "--force", "audjust-mock-data", check=False)


def test_the_docker_run_block_runs_as_written(
    ports_8080_and_8081: None, named: None, network: str
) -> None:
    (block,) = [block for block in shell_blocks(DOCS) if "docker run" in block]
    output = run_shell(ON_NETWORK + block, {**os.environ, "NETWORK": network}, timeout=180)
    lines = output.splitlines()
    assert len(lines[0]) == 64  # the container's id
    assert lines[1].startswith('{"status": "ok"')
    assert '"message": "Request queued."' in lines[2]
    assert lines[3].startswith('[{"requestId"')
    assert "is off" not in lines[4] and "X-Admin-Token" in lines[4]
    assert lines[5:] == ["audjust-mock", "audjust-mock"]  # docker stop, docker rm


def test_the_node_client_block_runs_as_written(ports_8080_and_8081: None) -> None:
    (block,) = [block for block in shell_blocks(DOCS) if "npm test" in block]
    with serve_process("--port", "8080"):
        output = run_shell(block, dict(os.environ), timeout=180)
    assert "# fail 0" in output and "# pass 4" in output
