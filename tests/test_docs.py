"""The docs' commands, run as written against a real `serve` process."""

from __future__ import annotations

import ast
import itertools
import json
import os
import re
import socket
from pathlib import Path

from tests.support import ROOT, free_port, run_shell, serve_process, shell_blocks


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
    assert output[2].endswith("/tmp/walk-edit.mp3") and int(output[2].split()[4]) > 10_000
    assert output[3] == "[True, True]"


def test_the_upload_and_structure_walk_through_runs_as_written() -> None:
    (script,) = shell_blocks(ROOT / "docs" / "structure.md")
    output = run_shell(script, {**os.environ, "PORT": str(two_free_ports())}).splitlines()
    sections = ast.literal_eval(output[0])
    assert sections[0][0] == 0 and len(sections) >= 2
    assert all(a[1] == b[0] for a, b in itertools.pairwise(sections))
    assert all(0 <= label <= 1000 for _, _, label in sections)
    page = (ROOT / "docs" / "structure.md").read_text()
    assert f"such as `{output[0]}`" in " ".join(page.split())  # the page shows what it prints
    assert output[1] == "tempo: 120"


def test_the_readme_first_call_runs_as_written() -> None:
    (script,) = shell_blocks(ROOT / "README.md")[1:]  # the first block is make serve / make test
    output = run_shell(script, {**os.environ, "PORT": str(two_free_ports())})
    assert output.splitlines() == ["tempo: 120"]


def test_the_profile_walk_through_runs_as_written(tmp_path: Path) -> None:
    page = ROOT / "docs" / "profiles.md"
    (document,) = re.findall(r"```json\n(.*?)```", page.read_text(), re.S)
    profile = tmp_path / "profile.json"
    profile.write_text(document)
    (script,) = shell_blocks(page)
    with serve_process("--profile", str(profile), "--quiet") as origin:
        output = run_shell(script, {**os.environ, "MOCK": origin}).splitlines()
    assert output == ['["reading","documented"]', '{"status":503,"headers":[]}', "503"]


def test_the_proxy_walk_through_runs_as_written(tmp_path: Path) -> None:
    (script,) = shell_blocks(ROOT / "docs" / "proxy.md")
    ports = {"PROXY_PORT": str(free_port()), "REPLAY_PORT": str(free_port())}
    with serve_process("--quiet") as origin:
        env = {**os.environ, "MOCK": origin, "DIR": str(tmp_path), **ports}
        output = run_shell(script, env).splitlines()
    assert output == [
        "X-Mock-Violations: 0",
        "X-Mock-Findings: 0",
        "3 exchange(s), 0 violation(s), 0 finding(s)",
        f"{tmp_path}/recording:",
        "0001-analyze",
        "0002-resize",
        "0003-export",
        "",
        f"{tmp_path}/recording/0003-export:",
        "exchange.json",
        "export_1.wav",
        "replay: 3 recording(s) loaded (analyze 1, export 1, resize 1)",
        "same analysis: True same export: True",
        "same candidates: True",
        "Invalid parameter: no recording matches this /resize request; the closest is"
        " 0002-resize, which differs at /targetLengthSeconds: recorded 8, sent 9",
    ]
    assert "test-key" not in (tmp_path / "recording" / "0001-analyze" / "exchange.json").read_text()


def test_every_link_between_the_docs_leads_somewhere() -> None:
    pages = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        for target in re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).is_file(), f"{page.name} links to {target}"


# Every shell block in the docs is run by a test here, or says why it cannot be.
NOT_RUN_HERE = {
    ("contract.md", "make contract\n"): "make test runs the same suite (make contract-selfcheck)",
    (
        "contract.md",
        "make contract BASE_URL=https://api.audjust.com",
    ): "needs the live API and a key",
    ("dashboard.md", "make ui-test\n"): "needs a browser from apt; .ci/run runs it",
}
RUN_ELSEWHERE = {  # blocks run by the tests above
    ("README.md", 1),
    ("service.md", 0),
    ("control-api.md", 0),
    ("webhooks.md", 0),  # in tests/jobs/test_trigger.py
    ("profiles.md", 0),
    ("proxy.md", 0),
    ("structure.md", 0),
}


def all_shell_blocks() -> list[tuple[str, int, str]]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [
        (page.name, number, block)
        for page in pages
        for number, block in enumerate(shell_blocks(page))
    ]


# Pages whose blocks another suite runs: container.md's need Docker (make image-test).
RUN_BY_OTHER_SUITES = {"container.md": "container_tests/test_docs.py, in make image-test"}


def run_here(page: str, number: int, block: str) -> bool:
    if page in RUN_BY_OTHER_SUITES:
        return False
    return (
        (page, number) not in RUN_ELSEWHERE
        and not any(page == name and block.startswith(opening) for name, opening in NOT_RUN_HERE)
        and not (page == "README.md" and number == 0)
    )  # make serve / make test: CI runs them


def test_the_engine_commands_run_as_written() -> None:
    blocks = [
        b for page, n, b in all_shell_blocks() if page == "engine.md" and run_here(page, n, b)
    ]
    assert len(blocks) == 2
    for block in blocks:
        run_shell(block, dict(os.environ), timeout=300)
    assert Path("/tmp/edit.mp3").stat().st_size > 10_000
    candidates = json.loads(Path("/tmp/candidates.json").read_text())
    assert candidates and all(c["durationSeconds"] > 0 for c in candidates)


def test_the_server_commands_run_as_written() -> None:
    blocks = {
        page: block
        for page, n, block in all_shell_blocks()
        if page in ("faults.md", "contract.md") and run_here(page, n, block)
    }
    assert set(blocks) == {"faults.md", "contract.md"}
    with serve_process() as origin:
        env = {**os.environ, "MOCK": origin}
        faults = run_shell(blocks["faults.md"], env)
        document = run_shell(blocks["contract.md"], env)
    assert "HTTP/1.1 429" in faults and "Retry-After: 5" in faults
    assert "502 Bad Gateway" in faults and '"armed"' in faults
    assert '"openapi": "3.1.0"' in document


def test_every_shell_block_is_run_or_says_why_not() -> None:
    run_by_the_tests = {"engine.md", "faults.md", "contract.md"}
    for page, number, block in all_shell_blocks():
        if run_here(page, number, block):
            assert page in run_by_the_tests, f"{page} block {number + 1} is run by no test"
