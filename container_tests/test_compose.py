"""compose.yaml and the commands docs/container.md gives for it, as written, with Debian's
docker-compose: the Node client's tests run in a container that reaches the mock by service name
and receives its webhooks; a request sent through the host's published port gets result URLs on
the public base the other containers use."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from container_tests.docker import (
    ROOT,
    build,
    docker,
    http,
    run,
    script,
    wait_until,
)
from tests.support import free_port, run_shell, shell_blocks

PROJECT = "audjust-image-test"  # also what container/image-test.sh takes down on its way out
DOCS = ROOT / "docs" / "container.md"
CLIENT_IMAGE = "audjust-node-client:local"  # the tag compose.yaml gives the client


def node_base() -> str:
    """node:20-slim where it can be had, else a Debian base with Debian's Node.js made here."""
    if docker("image", "ls", "--quiet", "node:20-slim"):
        return "node:20-slim"
    return script("base-image.sh", "node", timeout=900)


@pytest.fixture(scope="module")
def compose(image: str) -> Iterator[tuple[list[str], dict[str, str]]]:
    executable = shutil.which("docker-compose")
    assert executable, "docker-compose is needed (make image-test installs Debian's)"
    base = node_base()
    build(CLIENT_IMAGE, ROOT / "examples" / "node_client", NODE_BASE=base)
    env = {
        **os.environ,
        "COMPOSE_PROJECT_NAME": PROJECT,
        "AUDJUST_IMAGE": image,
        "AUDJUST_PORT": str(free_port()),
        "AUDJUST_ADMIN_TOKEN": "compose-test",
        "NODE_BASE": base,
    }
    command = [executable, "--project-name", PROJECT, "--file", str(ROOT / "compose.yaml")]
    try:
        yield command, env
    finally:
        run([*command, "down", "--volumes", "--timeout", "10"], env=env, timeout=120)


def test_the_compose_example_runs(compose: tuple[list[str], dict[str, str]]) -> None:
    command, env = compose
    up = run([*command, "up", "--no-build", "--detach", "mock"], env=env, timeout=180)
    assert up.returncode == 0, up.stderr
    base = f"http://127.0.0.1:{env['AUDJUST_PORT']}"
    wait_until(lambda: http(f"{base}/_mock/health").status == 200, 60, "the mock service")

    # From the host, through the published port: result URLs still name the results origin
    # as the containers reach it (AUDJUST_MOCK_RESULTS_URL).
    ack = http(
        f"{base}/analyze",
        body={
            "sourceFileUrl": "http://mock:8080/_mock/fixtures/pop_120.mp3",
            "resultWebhook": "http://mock:8080/_mock/sink/host",
        },
        headers={"X-API-Key": "compose-key"},
    )
    assert ack.status == 200, ack.body
    assert ack.json()["resultUrl"].startswith("http://mock:8081/")

    # The docs' commands: the client runs its tests against the mock already up, then all stops.
    (commands,) = [block for block in shell_blocks(DOCS) if "docker-compose up" in block]
    output = run_shell(commands, env, timeout=300)
    assert "# fail 0" in output and "# pass 4" in output
