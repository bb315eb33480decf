"""The contract suite can fail: run against a target that breaks one promise at a time (a proxy
in front of a real mock), it fails exactly the tests of the documented promises broken, reports
a finding where only a reading is broken and notes a broken choice, and with --readings enforce
fails those too. And it keeps to its credit budget."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mock_server.contract import rules
from mock_server.contract.fidelity import LEDGER, Basis, entry
from mock_server.contract.observations import Observations, observed_values
from mock_server.contract.profile import Profile
from mock_server.web.keys import SERVICES
from tests.breakers import breaking_proxy
from tests.conftest import MakeMock, ServerFactory
from tests.support import ROOT, SuiteRun, run_suite

PROFILE_SECTIONS = set(Profile().to_json())
# Each breaker of tests/breakers.py, by the test it must fail: the documented promises it breaks.
BROKEN = {
    "test_resize::test_segments_lie_on_the_boundaries[sync]",  # misreport_a_segment
    "test_errors::test_missing_key_is_refused[analyze]",  # reword_the_missing_key_error
    "test_errors::test_missing_key_is_refused[resize]",
    "test_errors::test_missing_key_is_refused[export]",
    "test_errors::test_missing_key_is_refused[structure]",
}
# The breakers that change only a reading (the acknowledgement's message), by the test that
# reports them: a finding, and a failure only with --readings enforce.
FOUND = {
    "test_analyze::test_analyze_ack_matches_schema": {"ack.literals"},  # reword_the_analyze_ack
    "test_export::test_export_ack_lists_one_result_url_per_group[mp3_128]": {"ack.literals"},
    "test_export::test_export_ack_lists_one_result_url_per_group[wav]": {"ack.literals"},
}
# The breakers that change only the mock's choices: observed, never failed by a live run; a
# mock that publishes them (the proxy forwards /_mock/fidelity) fails them under enforce.
OBSERVED = {
    "test_analyze::test_analysis_result_url_serves_the_webhook_payload",  # the hosted similarity
    "test_resize::test_sync_and_queued_forms_agree",  # misreport_a_segment, in one form only
}


async def _broken_target(make_mock: MakeMock, aiohttp_server: ServerFactory) -> str:
    """Both origins go through the breaking proxy: the API, and the results the mock is told
    (with --results-url) to announce at a second proxy."""
    results_upstream: list[str] = []
    results_proxy = await breaking_proxy(aiohttp_server, results_upstream)
    mock = await make_mock(results_url=results_proxy)
    results_upstream.append(f"http://127.0.0.1:{mock.app[SERVICES].results_port}")
    return await breaking_proxy(aiohttp_server, [str(mock.make_url("")).rstrip("/")])


def _failed(run: SuiteRun) -> set[str]:
    return {name for name, outcome in run.outcomes.items() if outcome in ("failure", "error")}


async def test_a_broken_target_fails_the_promises_it_breaks(
    make_mock: MakeMock, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    proxy = await _broken_target(make_mock, aiohttp_server)
    report, profile = tmp_path / "report.json", tmp_path / "observed.json"
    options = ("--base-url", proxy, "--api-key", "test-key", "--report-json", str(report))
    run = await run_suite(tmp_path, *options, "--observed-profile", str(profile))
    assert run.code == 1, run.output
    assert _failed(run) == BROKEN, run.output
    _check_json_report(json.loads(report.read_text()), run)
    # The acknowledgement's literal has no profile key: the profile leaves it out, and says so.
    assert (
        "findings the profile has no key for (the mock cannot play them), left out: " in run.output
    )
    assert "ack.literals" in run.output.split("left out: ")[1].splitlines()[0]
    assert set(json.loads(profile.read_text())) <= {"version", *PROFILE_SECTIONS}
    assert "segmentsSeconds says" in run.output
    assert "expected the error 'Missing API key header'" in run.output
    assert {name: rows for name, rows in run.findings.items()} == FOUND, run.output
    assert "finding ack.literals (reading)" in run.output
    assert "'Request queued.' was expected" in run.output
    assert "observed result.document (choice)" in run.output
    assert (
        "observed error.detail (choice): error 'Invalid API Key' comes with text after it, "
        "e.g. 'Invalid API Key: revoked or deleted'"
    ) in run.output


def _check_json_report(document: dict[str, Any], run: SuiteRun) -> None:
    """--report-json says what the run said: each test's outcome, each failure with the ledger
    row and the reference's words it breaks, the findings and observations with what was seen."""
    outcomes = {
        test.split("/")[-1].replace(".py::", "::"): each
        for test, each in ((t["test"], t["outcome"]) for t in document["tests"])
    }
    junit = {"failure": "failed", "error": "failed", "skipped": "skipped", "passed": "passed"}
    assert outcomes == {name: junit[kind] for name, kind in run.outcomes.items()}
    assert document["summary"]["failed"] == len(BROKEN)
    failures = {
        (f["test"].split("/")[-1].replace(".py::", "::"), f["row"]) for f in document["failures"]
    }
    assert ("test_resize::test_segments_lie_on_the_boundaries[sync]", "resize.segments") in failures
    segments = next(f for f in document["failures"] if f["row"] == "resize.segments")
    assert segments["reference"] == list(entry("resize.segments").quotes)
    assert "segmentsSeconds says" in segments["seen"]
    assert {f["row"] for f in document["findings"]} == {"ack.literals"}
    assert all(f["seen"] for f in document["findings"])
    assert "result.document" in {o["row"] for o in document["observed"]}
    assert any(line.startswith("observed error.detail (choice)") for line in document["report"])
    assert document["readings"] == "report"


async def test_enforced_readings_fail_what_they_would_report(
    make_mock: MakeMock, aiohttp_server: ServerFactory, tmp_path: Path
) -> None:
    proxy = await _broken_target(make_mock, aiohttp_server)
    options = ("--base-url", proxy, "--api-key", "test-key", "--readings", "enforce")
    run = await run_suite(tmp_path, *options)
    assert run.code == 1, run.output
    assert _failed(run) == BROKEN | set(FOUND) | OBSERVED, run.output
    assert not run.findings, run.output


async def test_calls_beyond_the_credit_budget_are_skipped_with_the_reason(
    tmp_path: Path,
) -> None:
    options = ("--max-credits", "12", "-k", "analy", "--readings", "enforce")
    run = await run_suite(tmp_path, *options)
    assert run.code == 0, run.output
    assert run.outcomes["test_analyze::test_tempo_is_a_plausible_integer"] == "skipped"
    assert "may cost 15 credits and only 12 of --max-credits 12 are left" in run.output
    assert "credits spent: 0 (limit 12)" in run.output


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
    enforce = ("--readings", "enforce")
    run = await run_suite(tmp_path, *listen, *forwarded, *enforce, "-k", "webhook")
    assert run.code == 0, run.output
    assert run.outcomes["test_analyze::test_analyze_webhook_matches_schema"] == "passed"
    assert set(run.outcomes.values()) == {"passed"}, run.output


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


def test_the_one_reading_with_a_profile_key_is_written_to_the_observed_profile() -> None:
    """Findings go into --observed-profile as far as the profile has keys for them: of the
    readings, only the pricing rule has one (credits.rounding); the others (the literals, the id
    form, tempo's type ...) have none, and the mock could not play them."""
    keyed = {e.id: e.profile_key for e in LEDGER if e.basis is Basis.READING and e.profile_key}
    assert keyed == {"credits.rounding": "pricing"}
    seen = Observations()
    seen.note_pricing("resize", [next(iter(rules.pricing(0.5, 4)))])
    assert observed_values(seen)[0]["pricing"] == "examples"
