"""The contract suite can fail: run against a target that breaks one promise at a time (a proxy
in front of a real mock), it fails exactly the tests named after those promises. And it keeps
to its credit budget."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from mock_server.contract import rules
from mock_server.web.keys import SERVICES
from tests.breakers import breaking_proxy
from tests.conftest import AppClient, ServerFactory

ROOT = Path(__file__).resolve().parents[2]


async def run_suite(tmp_path: Path, *args: str) -> tuple[int, dict[str, str], str]:
    """Run `pytest contract_tests` in a child process: (exit code, outcome by test, output)."""
    report = tmp_path / "junit.xml"
    command = [sys.executable, "-m", "pytest", "contract_tests", "-p", "no:cacheprovider"]
    child = await asyncio.create_subprocess_exec(
        *command,
        f"--junitxml={report}",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(child.communicate(), timeout=300)
    outcomes = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[name] = kinds[0] if kinds else "passed"
    assert child.returncode is not None
    return child.returncode, outcomes, output.decode()


async def test_a_broken_target_fails_the_promises_it_breaks(
    make_mock: Callable[..., Awaitable[AppClient]], aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    """Both origins go through the breaking proxy: the API, and the results the mock is told
    (with --results-url) to announce at a second proxy."""
    results_upstream: list[str] = []
    results_proxy = await breaking_proxy(aiohttp_server, results_upstream)
    mock = await make_mock(results_url=results_proxy)
    results_upstream.append(f"http://127.0.0.1:{mock.app[SERVICES].results_port}")
    proxy = await breaking_proxy(aiohttp_server, [str(mock.make_url("")).rstrip("/")])
    code, outcomes, output = await run_suite(tmp_path, "--base-url", proxy, "--api-key", "test-key")
    failed = {name for name, outcome in outcomes.items() if outcome in ("failure", "error")}
    assert code == 1, output
    assert failed == {
        "test_analyze::test_analyze_ack_matches_schema",
        "test_resize::test_segments_lie_on_the_boundaries[sync]",
        "test_resize::test_sync_and_queued_forms_agree",
        "test_analyze::test_analysis_result_url_serves_the_webhook_payload",
        "test_errors::test_missing_key_is_refused[analyze]",
        "test_errors::test_missing_key_is_refused[resize]",
        "test_errors::test_missing_key_is_refused[export]",
        "test_export::test_export_ack_lists_one_result_url_per_group[mp3_128]",
        "test_export::test_export_ack_lists_one_result_url_per_group[wav]",
    }, output
    assert "segmentsSeconds says" in output
    assert "expected a message starting 'Missing API key header'" in output
    assert "'Request queued.' was expected" in output
    assert (
        "finding: error 'Invalid API Key' comes with text after it, "
        "e.g. 'Invalid API Key: revoked or deleted'"
    ) in output


async def test_calls_beyond_the_credit_budget_are_skipped_with_the_reason(
    tmp_path: Path,
) -> None:
    code, outcomes, output = await run_suite(tmp_path, "--max-credits", "12", "-k", "analy")
    assert code == 0, output
    assert outcomes["test_analyze::test_tempo_is_a_plausible_integer"] == "skipped"
    assert "may cost 15 credits and only 12 of --max-credits 12 are left" in output
    assert "credits spent: 0 (limit 12)" in output


@pytest.mark.parametrize(
    ("options", "complaint"),
    [
        ([], "a remote target needs --api-key"),
        (
            ["--api-key", "k"],
            "a remote target cannot download from this machine: pass --source-url",
        ),
    ],
)
def test_a_remote_run_that_cannot_work_stops_before_any_call(
    options: list[str], complaint: str
) -> None:
    remote = ["--base-url", "https://api.audjust.invalid", *options]
    command = [sys.executable, "-m", "pytest", "contract_tests", "-p", "no:cacheprovider"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDJUST_")}
    done = subprocess.run(
        [*command, *remote], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == pytest.ExitCode.USAGE_ERROR
    assert complaint in done.stderr


async def test_webhooks_can_come_through_a_forwarding_url(tmp_path: Path) -> None:
    """--webhook-url is what the target is told; --webhook-listen is where the suite listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listen = ["--webhook-listen", f"127.0.0.1:{port}"]
    forwarded = ["--webhook-url", f"http://localhost:{port}/forwarded"]
    code, outcomes, output = await run_suite(tmp_path, *listen, *forwarded, "-k", "webhook")
    assert code == 0, output
    assert outcomes["test_analyze::test_analyze_webhook_matches_schema"] == "passed"
    assert set(outcomes.values()) == {"passed"}, output


ACK = {"success": True, "message": "Request queued.", "requestId": "a" * 32}


@pytest.mark.parametrize(
    ("ack", "complaint"),
    [
        ({**ACK, "resultUrl": f"http://api.test/{'a' * 32}/analysis.json"}, "API's own origin"),
        ({**ACK, "resultUrl": f"http://r.test/results/{'a' * 32}/analysis.json"}, "is not"),
        ({**ACK, "resultUrl": f"http://r.test/{'a' * 32}/resize.json"}, "is not"),
        (
            {**ACK, "message": "Queued.", "resultUrl": f"http://r.test/{'a' * 32}/analysis.json"},
            "says 'Queued.'",
        ),
    ],
)
def test_the_ack_literals_are_pinned(ack: dict[str, Any], complaint: str) -> None:
    with pytest.raises(AssertionError, match=complaint):
        rules.check_ack_literals(ack, "http://api.test", ["analysis.json"])
    rules.check_ack_literals(
        {**ACK, "resultUrl": f"http://r.test/{'a' * 32}/analysis.json"},
        "http://api.test",
        ["analysis.json"],
    )
