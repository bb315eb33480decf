"""The proxy bench's own logic, without wrk, Prism or a server: the rows each load is measured
on, the bodies wrk sends, the proxy's tally of what it checked, and the section it writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import peers, proxy_peers
from bench.peers import Role
from mock_server.contract.conformance import Departure
from mock_server.contract.schemas import validate
from mock_server.faults.scenario import HEADER, Scenario
from mock_server.proxy.exchanges import Delivery, Exchange
from tests.support import round_of

RESIZE, ANALYZE = proxy_peers.LOADS


def planned(load: proxy_peers.Load, folder: Path, prism: bool = True) -> list[peers.Server]:
    return proxy_peers.planned(load, folder, prism)[0]


@pytest.mark.parametrize("load", proxy_peers.LOADS, ids=lambda load: load.route)
def test_both_proxies_stand_in_front_of_the_loads_own_mock(
    load: proxy_peers.Load, tmp_path: Path
) -> None:
    mock, ours, prism = planned(load, tmp_path)
    assert [s.role for s in (mock, ours, prism)] == [Role.BARE, Role.MOCK, Role.PEER]
    origin = mock.url.removesuffix(load.route)
    assert ours.command[-6:-4] == ["--upstream", origin]
    assert prism.command[1:3] == ["proxy", "--errors"]
    assert prism.command[-1] == origin
    assert Path(prism.command[-2]).is_file()  # the OpenAPI document Prism checks against
    rows = (mock, ours, prism)
    assert all(s.url.endswith(load.route) and s.headers == load.headers for s in rows)
    assert len({s.url for s in rows}) == 3


def test_without_prism_installed_its_rows_are_left_out(tmp_path: Path) -> None:
    servers = planned(RESIZE, tmp_path, prism=False)
    assert [s.role for s in servers] == [Role.BARE, Role.MOCK]
    rounds = {s.name: [round_of(100, 0.01)] for s in servers}
    block = proxy_peers.section(rounds, [(RESIZE, servers)], [])
    assert "Prism" not in block and "ours / theirs" not in block


def test_the_bodies_are_valid_requests_and_the_analyze_job_posts_to_the_mocks_sink() -> None:
    origin = "http://127.0.0.1:9"
    validate("resize-request", dict(RESIZE.body(origin)))
    assert "resultWebhook" not in RESIZE.body(origin)  # answered in full, synchronously
    analyze = dict(ANALYZE.body(origin))
    validate("analyze-request", analyze)
    assert analyze["resultWebhook"] == f"{origin}/_mock/sink/{proxy_peers.SINK}"
    Scenario.parse(ANALYZE.headers[HEADER])


def summary(number: int, webhooks: int, violations: int) -> dict[str, object]:
    """An exchange as GET /_proxy/exchanges shows it."""
    exchange = Exchange(number, "analyze", "test****", b"{}", {})
    exchange.status, exchange.request_id = 200, f"id{number}"
    exchange.deliveries = [Delivery(b"{}", 200) for _ in range(webhooks)]
    broken = Departure("answer", "", "schema:queued-response", "ack.queued", "", "")
    exchange.departures = [broken] * violations
    return {**exchange.summary(), "done": exchange.done(check_results=False)}


def test_the_tally_counts_exchanges_webhooks_violations_and_what_was_left_waiting() -> None:
    tally = proxy_peers.Tally.of([summary(1, 1, 0), summary(2, 2, 3), summary(3, 0, 0)])
    assert tally == proxy_peers.Tally(exchanges=3, violations=3, webhooks=3, waiting=0)
    assert tally.note("ours") == (
        "ours checked 3 exchanges (warm-up and readiness included), passed on 3 webhooks and"
        " found 3 violations."
    )
    waiting = proxy_peers.Tally(exchanges=1200, violations=0, webhooks=0, waiting=2)
    assert waiting.note("ours") == (
        "ours checked 1,200 exchanges (warm-up and readiness included) and found 0 violations;"
        " 2 still awaited a webhook."
    )


def test_each_table_takes_its_ratios_against_its_own_mock(tmp_path: Path) -> None:
    resize, analyze = planned(RESIZE, tmp_path), planned(ANALYZE, tmp_path)
    speeds = ((resize, (400, 200, 100)), (analyze, (1000, 500, 250)))
    rounds = {
        s.name: [round_of(speed, 0.01)]
        for servers, table in speeds
        for s, speed in zip(servers, table, strict=True)
    }
    block = proxy_peers.section(rounds, [(RESIZE, resize), (ANALYZE, analyze)], ["a note"])
    assert block.startswith("### Run of ")
    for load, servers in ((RESIZE, resize), (ANALYZE, analyze)):
        assert f"{load.title}:" in block
        assert f"| {servers[0].name} " in block
    rows = [line for line in block.splitlines() if "proxy" in line and line.startswith("| /")]
    ours_against_prism = [row for row in rows if row.count("|") == 3]
    assert [row.split("|")[2].strip() for row in ours_against_prism] == ["2.00x, 1.00x"] * 2
    ratios = [row.split("|")[6].strip() for row in rows if row not in ours_against_prism]
    assert ratios == ["0.50x", "0.25x"] * 2
    assert "req/s vs direct" in block and "- a note" in block


def test_the_section_goes_between_its_own_marks_and_leaves_the_peers_section_alone() -> None:
    page = peers.BENCHMARKS.read_text()
    written = peers.replace_section(
        page, "### Run of today\n", proxy_peers.START_MARK, proxy_peers.END_MARK
    )
    assert f"{proxy_peers.START_MARK}\n### Run of today\n{proxy_peers.END_MARK}" in written
    assert written.partition(proxy_peers.START_MARK)[0] == page.partition(proxy_peers.START_MARK)[0]
    assert peers.START_MARK in written and peers.END_MARK in written


def test_refused_answers_are_named_with_what_their_figures_then_measure() -> None:
    rounds = {"a": [round_of(100, 0.01)], "b": [round_of(100, 0.01, failed=4)]}
    assert peers.answers_note(rounds, "so there") == (
        "Answers of status 400 or more, or socket errors: b 4; so there."
    )
    assert peers.answers_note({"a": rounds["a"]}, "so there") == (
        "Every measured request was answered 200."
    )
