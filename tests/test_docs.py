"""The docs' commands, run as written against a real `serve` process."""

from __future__ import annotations

import json
import os
import re
import socket

from tests.support import ROOT, run_shell, serve_process, shell_blocks


def test_the_control_api_walk_through_runs_as_written() -> None:
    (script,) = shell_blocks(ROOT / "docs" / "control-api.md")
    with serve_process() as origin:
        output = run_shell(script, {**os.environ, "MOCK": origin})
    lines = output.splitlines()
    assert json.loads(lines[0]) == {"success": True}
    assert json.loads(lines[1]) == {"success": True, "key": "node-suite", "plan": "free"}
    webhooks = [json.loads(line) for line in lines if '"tempo"' in line]
    assert len(webhooks) == 2 and webhooks[0] == webhooks[1]
    assert webhooks[0]["tempo"] == 120 and webhooks[0]["creditCost"] >= 1
    journal = [json.loads(line) for line in lines if '"path"' in line]
    assert journal == [
        {
            "method": "POST",
            "path": "/analyze",
            "status": 200,
            "scenarios": ["webhook_duplicate;times=2"],
        }
    ]
    attempts = [json.loads(line) for line in lines if '"attempt"' in line]
    assert attempts == [{"attempt": 1, "status": 200, "delivered": True}] * 2
    assert lines[-1].startswith("Invalid JSON body") and "seconds is Infinity" in lines[-1]


def two_free_ports() -> int:
    """A port whose next one is free too: the walk-through's API and results origins."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports")


def test_the_first_walk_through_runs_as_written() -> None:
    (script,) = shell_blocks(ROOT / "docs" / "service.md")
    port = two_free_ports()
    output = run_shell(script, {**os.environ, "PORT": str(port)}).splitlines()
    origin, results = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port + 1}"
    assert output[0] == f"audjust-mock listening on {origin} (results on {results})"
    ack = json.loads(output[1])
    assert ack["message"] == "Request queued."
    assert ack["resultUrl"] == f"{results}/{ack['requestId']}/analysis.json"
    assert output[2].endswith("/tmp/edit.mp3") and int(output[2].split()[4]) > 10_000
    assert output[3] == "[True, True]"


def test_the_readme_first_call_runs_as_written() -> None:
    (script,) = shell_blocks(ROOT / "README.md")[1:]  # the first block is make serve / make test
    output = run_shell(script, {**os.environ, "PORT": str(two_free_ports())})
    assert output.splitlines() == ["tempo: 120"]


def test_every_link_between_the_docs_leads_somewhere() -> None:
    pages = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} links to {target}"
