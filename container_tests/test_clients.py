"""Clients against the container: the contract suite from a container on the mock's network
(webhooks included), the Node.js example from the host through the published port, and the
Testcontainers example starting a container of its own."""

from __future__ import annotations

import os
import shutil
import sys

import pytest

from container_tests.docker import (
    LABEL,
    ROOT,
    MockContainer,
    build,
    docker,
    logs,
    run,
)

SUITE_IMAGE = "audjust-mock-contract-suite:local"


@pytest.fixture(scope="module")
def suite_image(image: str) -> str:
    build(
        SUITE_IMAGE,
        ROOT,
        dockerfile=ROOT / "container" / "contract-suite.Dockerfile",
        IMAGE=image,
    )
    return SUITE_IMAGE


def test_the_contract_suite_passes_against_the_container(
    suite_image: str, mock: MockContainer, network: str
) -> None:
    # The suite runs as `suite` on the network: the mock reaches its webhook receiver by name,
    # and it reaches the mock as any container in compose or CI would, by `mock`.
    name = f"audjust-image-test-suite-{mock.port}"
    arguments = [
        "--base-url", f"http://mock:{mock.port}",
        "--api-key", "test-key",
        "--source-url", f"http://mock:{mock.port}/_mock/fixtures/pop_120.mp3",
        "--webhook-url", "http://suite:9000",
        "--webhook-listen", "0.0.0.0:9000",
        "--max-credits", "60",
        "-q",
    ]  # fmt: skip
    command = ["run", "--name", name, "--label", LABEL, "--network", network]
    try:
        docker(*command, "--network-alias", "suite", suite_image, *arguments, check=False,
               timeout=600)  # fmt: skip
        output = logs(name)
        status = docker("inspect", "--format", "{{.State.ExitCode}}", name)
    finally:
        docker("rm", "--force", name, check=False)
    assert status == "0", output
    assert " passed" in output and "skipped" not in output.split("Audjust contract report")[0]


def test_the_node_client_passes_against_the_container(mock: MockContainer) -> None:
    node = shutil.which("node")
    assert node, "Node.js is needed for the Node client example"
    env = {
        **os.environ,
        "AUDJUST_BASE_URL": mock.base_url,
        "AUDJUST_ADMIN_TOKEN": mock.token,
        # The container cannot reach the host's 127.0.0.1: webhooks go to the mock's own sink.
        "AUDJUST_WEBHOOKS": "sink",
    }
    finished = run(
        [node, "--test", "test/client.test.js"],
        env=env,
        timeout=180,
        cwd=ROOT / "examples" / "node_client",
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "# fail 0" in finished.stdout


def test_the_testcontainers_example_passes(image: str) -> None:
    env = {
        **os.environ,
        "AUDJUST_IMAGE": image,
        # Ryuk, Testcontainers' reaper, is an image from a registry this machine cannot reach;
        # the example's `with` blocks remove what it made.
        "TESTCONTAINERS_RYUK_DISABLED": "true",
        # This machine looks like a container to Testcontainers, which would then go through the
        # network's gateway: reach the published port on 127.0.0.1 instead.
        "TC_HOST": "127.0.0.1",
        "TESTCONTAINERS_CONNECTION_MODE": "docker_host",
    }
    example = ROOT / "examples" / "testcontainers"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", os.devnull]
    options = ["-o", "asyncio_default_fixture_loop_scope=function", "--rootdir", str(example)]
    finished = run([*command, *options, str(example)], env=env, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "1 passed" in finished.stdout
