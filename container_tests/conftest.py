"""Fixtures for the image tests (`make image-test`): the image, a network, a running mock, and the
figures printed after the summary."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from container_tests.docker import MockContainer, docker, labelled, mock_container

FIGURES = pytest.StashKey[dict[str, str]]()


@pytest.fixture(scope="session")
def image() -> str:
    name = os.environ.get("AUDJUST_IMAGE", "audjust-mock:local")
    if not docker("image", "ls", "--quiet", name):
        pytest.fail(f"no image {name}: run make image first (make image-test does)")
    return name


@pytest.fixture(scope="session")
def figures(pytestconfig: pytest.Config) -> dict[str, str]:
    """Measured figures, printed after the test summary."""
    return pytestconfig.stash.setdefault(FIGURES, {})


@pytest.fixture(scope="session")
def network() -> Iterator[str]:
    name = f"audjust-image-test-{secrets.token_hex(4)}"
    labelled("network", name)
    try:
        yield name
    finally:
        docker("network", "rm", name, check=False)


@pytest.fixture(scope="session")
def mock(image: str, network: str) -> Iterator[MockContainer]:
    """The image as a user runs it: beyond loopback inside its container, with an admin token;
    `mock` on the network, its two ports published on 127.0.0.1."""
    with mock_container(
        image, token=secrets.token_hex(8), network=network, alias="mock"
    ) as container:
        yield container


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    measured = config.stash.get(FIGURES, {})
    if measured:
        terminalreporter.section("audjust-mock image figures")
        for name, value in measured.items():
            terminalreporter.write_line(f"{name}: {value}")
