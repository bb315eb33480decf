"""Options, the target and the session-wide helpers of the contract suite.

`pytest contract_tests` with no options checks an in-process mock; `--base-url` points it at
any other target, the live API included. The expensive calls (analyze, resize, export) are made
once per session and shared by the tests that check what came back.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contract_tests import json_report
from contract_tests.calibration import fidelity_lines
from contract_tests.paid import (  # noqa: F401 (fixtures, found by name)
    analysis,
    analysis_again,
    export_mp3,
    export_wav,
    resize_queued,
    resize_sync,
    source_seconds,
)
from contract_tests.session import (
    Budget,
    Contract,
    Http,
    Receiver,
    Report,
    SourceServer,
    Target,
    Waiter,
)
from contract_tests.verdicts import Grader, Readings
from mock_server.audio.synth import SongSpec, song_bytes
from mock_server.background import BackgroundLoop
from mock_server.contract.observations import observed_values, write_profile
from mock_server.contract.profile import Profile
from mock_server.settings import DEFAULT_KEY, Settings
from mock_server.sources import is_loopback_url
from mock_server.testing.inprocess import MockServer

# The in-process mock retries a refused webhook quickly, so observing its retries is quick too.
QUICK_RETRIES = Profile(webhook_backoff_seconds=(0.2, 0.5))
# The suite's own source: 30 seconds, so a live run stays cheap.
SOURCE_SONG = SongSpec(tempo_bpm=112, duration_seconds=30.0, seed=2024)


@dataclass(frozen=True)
class Option:
    flag: str
    env: str
    help: str
    default: str | None = None


OPTIONS = (
    Option("--base-url", "AUDJUST_BASE_URL", "the API to check; default: an in-process mock"),
    Option("--api-key", "AUDJUST_API_KEY", "its API key; default for the mock: test-key"),
    Option(
        "--source-url",
        "AUDJUST_SOURCE_URL",
        "an audio file the target can download; default: the suite's song on 127.0.0.1",
    ),
    Option(
        "--webhook-url",
        "AUDJUST_WEBHOOK_URL",
        "a public URL forwarding to --webhook-listen; without it, results are polled",
    ),
    Option(
        "--webhook-listen",
        "AUDJUST_WEBHOOK_LISTEN",
        "HOST:PORT the suite's webhook receiver listens on",
        "127.0.0.1:0",
    ),
    Option(
        "--max-credits",
        "AUDJUST_MAX_CREDITS",
        "credits the run may spend; costlier tests are skipped",
        "60",
    ),
    Option(
        "--observed-profile",
        "AUDJUST_OBSERVED_PROFILE",
        "write what the target did, as an audjust-mock profile, to this file",
    ),
    Option(
        "--observe-rate-limit",
        "AUDJUST_OBSERVE_RATE_LIMIT",
        "yes: also send up to 110 refused requests in a row to see the rate limit's answer "
        "(runs last: the key is then limited for a minute)",
    ),
    Option(
        "--readings",
        "AUDJUST_READINGS",
        "report: a target that departs from a reading of the reference's examples passes with a "
        "finding; enforce: it fails (the mock's self-check)",
        "report",
    ),
    Option(
        "--report-json",
        "AUDJUST_REPORT_JSON",
        "write the run as JSON to this file: each test's outcome, the failures with the "
        "reference's words they break, the findings and observations with what was seen",
    ),
    Option(
        "--result-timeout",
        "AUDJUST_RESULT_TIMEOUT",
        "seconds to wait for a queued request (the reference's 7 minutes)",
        "420",
    ),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("audjust-contract", "Audjust contract suite")
    for option in OPTIONS:
        group.addoption(
            option.flag,
            default=os.environ.get(option.env, option.default),
            help=f"{option.help} (env {option.env})",
        )


# Where the session leaves what the terminal summary prints.
SUMMARY = pytest.StashKey[tuple[Report, Budget]]()
# How each check of the run is graded, and what was noted: one per run.
GRADER = pytest.StashKey[Grader]()
# FILE::FUNCTION -> the outcomes of its cases: what the fidelity ledger's entries are marked by.
OUTCOMES = pytest.StashKey[dict[str, set[str]]]()
# Each test's id -> its outcome (passed, failed or skipped), for --report-json.
TEST_OUTCOMES = pytest.StashKey[dict[str, str]]()
RATE_LIMIT_TEST = "test_rate_limit.py"


@pytest.fixture(scope="session")
def contract(pytestconfig: pytest.Config) -> Iterator[Contract]:
    option = pytestconfig.getoption
    loop = BackgroundLoop("contract-suite")
    closers = []
    mock = None
    try:
        base_url = option("base_url")
        if not base_url:
            mock = MockServer(Settings(workers=2, profile=QUICK_RETRIES)).start()
            closers.append(mock.stop)
            base_url = mock.base_url
        api_key = option("api_key") or DEFAULT_KEY
        http = Http(loop)
        closers.append(http.close)
        target = Target(http, base_url, api_key)
        grader = pytestconfig.stash[GRADER]
        grader.published = target.published_fidelity()
        host, _, port = str(option("webhook_listen")).rpartition(":")
        receiver = Receiver(loop, host or "127.0.0.1", int(port or 0))
        closers.append(receiver.close)
        source_url = option("source_url")
        if not source_url:
            source = SourceServer(loop, song_bytes(SOURCE_SONG, "mp3"))
            closers.append(source.close)
            source_url = source.url
        webhook_url = option("webhook_url") or receiver.url
        expected = bool(option("webhook_url")) or target.is_local
        timeout = float(option("result_timeout"))
        budget = Budget(int(option("max_credits")))
        report = Report(target="in-process audjust-mock" if mock else base_url)
        pytestconfig.stash[SUMMARY] = (report, budget)
        yield Contract(
            target,
            Waiter(target, receiver, timeout, expected, grader),
            budget,
            report,
            source_url,
            webhook_url,
            grader,
        )
    finally:
        for close in reversed(closers):
            close()
        loop.close()


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a remote run that cannot work before it spends anything."""
    outcomes: dict[str, set[str]] = {}
    config.stash[OUTCOMES] = outcomes
    config.stash[TEST_OUTCOMES] = {}
    readings = str(config.getoption("readings"))
    if readings not in set(Readings):
        raise pytest.UsageError(f"--readings is report or enforce, not {readings!r}")
    config.stash[GRADER] = Grader(Readings(readings))
    base_url = config.getoption("base_url")
    if not base_url or is_loopback_url(base_url):
        return
    if not config.getoption("api_key"):
        raise pytest.UsageError("a remote target needs --api-key (or AUDJUST_API_KEY)")
    if not config.getoption("source_url"):
        raise pytest.UsageError(
            "a remote target cannot download from this machine: pass --source-url "
            "(or AUDJUST_SOURCE_URL), a public audio file of about 30 seconds"
        )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The rate limit's test last: once it has seen a refusal, the key is limited a while."""
    items.sort(key=lambda item: RATE_LIMIT_TEST in item.nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """What the grader notes from now on (session fixtures made for this test included) belongs
    to `item`."""
    item.config.stash[GRADER].item = item


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Each test's outcome, by test function (for the ledger) and by test id (--report-json):
    failed if any phase failed, else as its call, or a setup that skipped it, went."""
    report = yield
    if call.when == "call" or call.excinfo is not None:
        name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
        item.config.stash[OUTCOMES].setdefault(name, set()).add(report.outcome)
        tests = item.config.stash[TEST_OUTCOMES]
        tests[item.nodeid] = "failed" if report.failed else tests.get(item.nodeid, report.outcome)
    return report


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if SUMMARY not in config.stash:
        return
    report, budget = config.stash[SUMMARY]
    terminalreporter.section("Audjust contract report")
    for line in report.lines(budget):
        terminalreporter.write_line(line)
    grader = config.stash[GRADER]
    for line in grader.lines():
        terminalreporter.write_line(line)
    outcomes: dict[str, set[str]] = config.stash[OUTCOMES]
    for line in fidelity_lines(report, outcomes, grader):
        terminalreporter.write_line(line)
    json_path = config.getoption("report_json")
    if json_path:
        tests: dict[str, str] = config.stash[TEST_OUTCOMES]
        report_document = json_report.document(
            target=report.target,
            outcomes=tests,
            grader=grader,
            credits=(budget.spent, budget.max_credits),
            lines=report.lines(budget),
        )
        json_report.write(Path(json_path), report_document)
        terminalreporter.write_line(f"JSON report written to {json_path}")
    path = config.getoption("observed_profile")
    if path:
        write_profile(Path(path), observed_values(report)[0])
        terminalreporter.write_line(f"observed profile written to {path}")
        unkeyed = sorted({n.entry.id for n in grader.findings if n.entry.profile_key is None})
        if unkeyed:
            terminalreporter.write_line(
                "findings the profile has no key for (the mock cannot play them), left out: "
                + ", ".join(unkeyed)
            )
