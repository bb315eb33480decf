"""The peers bench's own logic, without wrk or any peer: reading a round back from wrk's output,
summing rounds up, and writing the section into BENCHMARKS.md."""

from __future__ import annotations

import shutil
import time

import pytest

from bench import peer_servers, peers, wrk
from mock_server.contract.schemas import validate
from mock_server.faults.scenario import HEADER, Scenario
from tests.support import round_of

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:41234/analyze
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.71ms    2.93ms  41.09ms   96.12%
    Req/Sec     3.85k   251.43     4.12k    80.00%
  11520 requests in 3.00s, 2.71MB read
Requests/sec:   3838.54
Transfer/sec:    924.98KB
bench-round {"requests": 11520, "microseconds": 3001142, "p50_us": 1688, "p99_us": 17950, \
"status_errors": 2, "socket_errors": 1}
"""


def test_a_round_is_read_from_the_line_its_lua_hook_prints() -> None:
    measured = wrk.parse(WRK_OUTPUT)
    assert measured == wrk.Round(
        requests=11520, seconds=3.001142, p50=0.001688, p99=0.01795, failed=3
    )
    assert measured.per_second == pytest.approx(3838.5, abs=0.1)


def test_output_without_the_line_is_an_error_that_shows_it() -> None:
    with pytest.raises(ValueError, match="unable to connect"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_the_script_sends_the_body_and_headers_as_given() -> None:
    body = {"sourceFileUrl": "http://127.0.0.1:9/a]]b]=]c.mp3"}
    script = wrk.script(body, {"X-API-Key": "test-key"})
    # Lua's long brackets end at the first ]] of their level: the body holds ]] and ]=].
    assert 'wrk.body = [==[{"sourceFileUrl": "http://127.0.0.1:9/a]]b]=]c.mp3"}]==]' in script
    assert "wrk.headers[ [[X-API-Key]] ] = [[test-key]]" in script
    assert 'wrk.method = "POST"' in script


def test_a_summary_is_the_median_round_and_the_range() -> None:
    rounds = [round_of(1000, 0.004), round_of(3000, 0.050, failed=1), round_of(2000, 0.002)]
    summary = wrk.Summary.of(rounds)
    assert (summary.per_second, summary.slowest, summary.fastest) == (2000, 1000, 3000)
    assert (summary.p99, summary.worst_p99, summary.failed) == (0.004, 0.050, 1)


def test_ratios_pair_each_round_with_the_one_beside_it() -> None:
    # The machine slows down in the second set: each pair's ratio stays 0.5.
    ours = [round_of(1000, 0.002), round_of(400, 0.010)]
    bare = [round_of(2000, 0.001), round_of(800, 0.005)]
    assert peers.round_ratio(ours, bare) == 0.5
    assert peers.p99_ratio(ours, bare) == 2.0


def test_cpu_ticks_are_read_past_a_name_with_spaces_and_parentheses() -> None:
    stat = "4242 (node (prism) x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 731 88 0 0 20 0 11 0"
    assert peers.cpu_ticks(stat) == 731 + 88


def test_the_section_replaces_only_what_lies_between_the_marks() -> None:
    page = f"# Benchmarks\nintro\n{peers.START_MARK}\nold run\n{peers.END_MARK}\n\n## Older\n"
    written = peers.replace_section(page, "### Run of today\n")
    assert written == (
        f"# Benchmarks\nintro\n{peers.START_MARK}\n### Run of today\n{peers.END_MARK}\n\n## Older\n"
    )
    assert peers.replace_section(written, "### Run of today\n") == written


def test_a_page_without_the_marks_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks"):
        peers.replace_section("# Benchmarks\n", "### Run\n")


def test_times_keep_two_figures_down_to_a_hundredth_of_a_millisecond() -> None:
    assert [peers.milliseconds(s) for s in (0.00047, 0.0017, 0.0177)] == [
        "0.47 ms",
        "1.7 ms",
        "18 ms",
    ]


def test_wiremocks_stub_answers_a_valid_acknowledgement() -> None:
    validate("queued-response", peer_servers.wiremock_stub()["response"]["jsonBody"])


def test_the_jobs_ending_at_once_are_asked_for_by_scenarios_the_mock_knows() -> None:
    for name in peers.AT_ONCE[HEADER].split(", "):
        Scenario.parse(name)


def test_a_peer_whose_runtime_is_missing_is_skipped_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    found = {"npm": "/usr/bin/npm", "node": "/usr/bin/node"}
    monkeypatch.setattr(shutil, "which", found.get)
    (wiremock,) = (p for p in peer_servers.PEERS if p.runtime == "java")
    assert peer_servers.install(wiremock, time.monotonic() + 60) == "java not found"
    monkeypatch.setattr(shutil, "which", {}.get)
    assert peer_servers.install(wiremock, time.monotonic() + 60) == "npm and java not found"
