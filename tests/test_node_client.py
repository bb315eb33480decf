"""The Node.js client example (examples/node_client) against `audjust-mock serve`: a language other
than Python, receiving its webhooks on its own listener. `make image-test` runs the same tests
against the container and inside compose."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.support import ROOT, serve_process

NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_the_node_client_example_passes_against_serve() -> None:
    assert NODE is not None
    with serve_process() as origin:
        finished = subprocess.run(
            [NODE, "--test", "test/client.test.js"],
            cwd=ROOT / "examples" / "node_client",
            env={**os.environ, "AUDJUST_BASE_URL": origin},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "# pass 4" in finished.stdout and "# fail 0" in finished.stdout
