"""Helpers and constants shared by test files, each defined once: the key, the smallest
resize, ports, a real `serve` process, the shell blocks of a docs page, and error matching."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mock_server.web import errors

ROOT = Path(__file__).resolve().parents[1]
KEY = {"X-API-Key": "test-key"}  # the mock's default key, as a header
TINY_SIMILARITY = {"data": "~~~", "min": 32, "max": 126}  # two beats
# The smallest resize the API accepts: no audio, answered at once.
TINY_RESIZE = {"targetLengthSeconds": 1, "similarity": TINY_SIMILARITY, "boundaries": [0, 1]}


def free_port() -> int:
    """A port nothing listens on now (bound and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_process(*flags: str) -> Iterator[str]:
    """`audjust-mock serve` as a user starts it, on a free port; yields its origin."""
    with subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--workers", "1", *flags],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            found = re.search(r"listening on (http://\S+)", line)
            assert found, f"serve printed {line!r}"
            yield found.group(1)
        finally:
            process.terminate()
            process.wait(timeout=30)


def shell_blocks(page: Path) -> list[str]:
    """The ```sh blocks of a Markdown page, in order."""
    return re.findall(r"```sh\n(.*?)```", page.read_text(), re.S)


def run_shell(script: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run `script` as a user would paste it into bash, stopping at the first failing command."""
    finished = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


# The six errors the reference lists, by their exact text.
LISTED_MESSAGES = (
    errors.INVALID_METHOD,
    errors.MISSING_KEY,
    errors.INVALID_KEY,
    errors.MISSING_PARAMETER,
    errors.RATE_LIMITED,
    errors.USAGE_EXCEEDED,
)


def explained(message: str, detail: str | None) -> str:
    """An error's message with the mock's `X-Mock-Detail` after it, for matching a detail; a
    listed error's message must be exactly the listed text."""
    for listed in LISTED_MESSAGES:
        if message.startswith(listed):
            assert message == listed, f"{message!r} is not the listed text {listed!r}"
    return f"{message}: {detail}" if detail and message in LISTED_MESSAGES else message
