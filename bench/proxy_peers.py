"""`make bench-proxy`: what `audjust-mock proxy` costs a request, beside Prism's validation proxy,
both in front of a `serve` mock whose direct answers are each table's baseline; the tables are
printed and written into BENCHMARKS.md.

The servers, rounds, idle waits, wrk scripts and tables are `make bench-peers`'s (bench/peers.py),
so both benches weigh their figures alike. Two loads, each with a mock of its own so neither
inherits the other's work: a synchronous resize, whose answer is the result document the proxy
checks in full, and an analyze acknowledgement whose job fails at once and posts its failure
webhook, which our proxy receives, checks and passes on to the mock's own sink.
"""

from __future__ import annotations

import json
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import peer_servers, peers, processes
from bench.peers import Role, Rounds, Server
from mock_server.faults.catalogue import Fault
from mock_server.faults.scenario import HEADER
from mock_server.proxy.app import EXCHANGES_PATH
from tests.support import TINY_RESIZE

BUDGET_SECONDS = 240  # the whole run, Prism's install included; later rounds are dropped
INSTALL_SECONDS = 90  # of the budget, for wrk and Prism (cold here: about 20 s)
START_MARK = "<!-- make bench-proxy writes from here -->"
END_MARK = "<!-- make bench-proxy writes to here -->"
SINK = "bench"
# The job fails at once without a download, then posts its failure webhook: one webhook a
# request, with no audio work, so the analyze rows weigh the acknowledgement and the webhook.
FAILS_AT_ONCE = {**peers.KEY, HEADER: str(Fault.SOURCE_DOWNLOAD_FAILS)}
PRISM_NAME = f"Prism {peer_servers.PRISM.version} proxy --errors"
PRISM_DOES = (
    "validates the request (body, API key present) against the mock's OpenAPI document,"
    " forwards it, validates the answer against the document's response schema, logs"
)
OURS_DOES = (
    "checks {checks}; adds `X-Mock-Violations`, keeps a summary of the exchange"
    " (`audjust-mock proxy`, no recording or report file)"
)


@dataclass(frozen=True)
class Load:
    """What wrk sends for one table: the route, its body given the mock's origin, its headers,
    what the mock does with it and what our proxy checks of it."""

    title: str
    route: str
    body: Callable[[str], Mapping[str, object]]
    headers: Mapping[str, str]
    mock_does: str
    ours_checks: str

    def row(self, who: str) -> str:
        return f"{self.route}: {who}"


def _resize_body(origin: str) -> Mapping[str, object]:
    return TINY_RESIZE


def _analyze_body(origin: str) -> Mapping[str, object]:
    return {
        "sourceFileUrl": f"{origin}/_mock/fixtures/pop_120.mp3",
        "resultWebhook": f"{origin}/_mock/sink/{SINK}",
    }


LOADS = (
    Load(
        "POST /resize without a webhook: the result comes in the answer",
        "/resize",
        _resize_body,
        peers.KEY,
        mock_does="checks the request, runs the resize search on two beats and answers the"
        " candidates with their credit cost",
        ours_checks="the request against schemas/resize-request.json, the answer against"
        " schemas/resize-webhook.json, each candidate against the boundaries and similarity it"
        " was made from, and the credit cost against the pricing",
    ),
    Load(
        "POST /analyze: the acknowledgement, then the job's failure webhook",
        "/analyze",
        _analyze_body,
        FAILS_AT_ONCE,
        mock_does="acknowledges; the job fails at once without a download, as the request's"
        f" scenario asks (`{HEADER}: {FAILS_AT_ONCE[HEADER]}`), and posts its failure webhook to"
        f" the mock's own sink (`/_mock/sink/{SINK}`)",
        ours_checks="the request against its schema and the acknowledgement against its schema"
        " and literals (message, one result URL); then receives the job's webhook, checks it"
        " (schema, same request id) and posts it on to the sink",
    ),
)


def planned(load: Load, folder: Path, prism: bool) -> tuple[list[Server], Mapping[str, object]]:
    """One table's servers, the mock first (the baseline), and the body wrk sends to each."""
    mock_port, ours_port = processes.free_port(), processes.free_port()
    origin = f"http://127.0.0.1:{mock_port}"

    def server(who: str, does: str, role: Role, *, command: list[str], port: int) -> Server:
        url = f"http://127.0.0.1:{port}{load.route}"
        return Server(load.row(who), does, role, command, url, load.headers)

    mock = processes.serve_command(mock_port, "--quiet")
    ours = processes.proxy_command(ours_port, origin)
    ours_does = OURS_DOES.format(checks=load.ours_checks)
    chosen = [
        server("mock direct", load.mock_does, Role.BARE, command=mock, port=mock_port),
        server("audjust-mock proxy", ours_does, Role.MOCK, command=ours, port=ours_port),
    ]
    if prism:
        port = processes.free_port()
        prism_proxy = peer_servers.prism_proxy(port, origin, folder)
        chosen.append(server(PRISM_NAME, PRISM_DOES, Role.PEER, command=prism_proxy, port=port))
    return chosen, load.body(origin)


@dataclass(frozen=True)
class Tally:
    """What one `audjust-mock proxy` saw in the run, read from its GET /_proxy/exchanges."""

    exchanges: int
    violations: int
    webhooks: int  # deliveries received, checked and passed on
    waiting: int  # exchanges still awaiting their webhook when counted

    @classmethod
    def of(cls, exchanges: Sequence[Mapping[str, Any]]) -> Tally:
        return cls(
            exchanges=len(exchanges),
            violations=sum(len(e["violations"]) for e in exchanges),
            webhooks=sum(len(e["webhooks"]) for e in exchanges),
            waiting=sum(not e["done"] for e in exchanges),
        )

    def note(self, name: str) -> str:
        webhooks = f", passed on {self.webhooks:,} webhooks" if self.webhooks else ""
        waiting = f"; {self.waiting} still awaited a webhook" if self.waiting else ""
        return (
            f"{name} checked {self.exchanges:,} exchanges (warm-up and readiness included)"
            f"{webhooks} and found {self.violations} violations{waiting}."
        )


def tally(server: Server) -> Tally:
    parts = urlsplit(server.url)
    url = f"{parts.scheme}://{parts.netloc}{EXCHANGES_PATH}"
    with urllib.request.urlopen(url, timeout=60) as answer:
        return Tally.of(json.load(answer))


def notes(
    rounds: Rounds, tallies: Sequence[str], skipped: Sequence[str], pin: peers.Pinning, load: float
) -> list[str]:
    """What a reader needs to weigh the figures: the machine, the method, what passed where."""
    return [
        *peers.method_notes(rounds, pin, load, "one POST per table, with its body and key"),
        f"Each table has its own `serve --quiet --rate-limit {processes.LOAD_RATE_LIMIT}`; both"
        " proxies forward to it over loopback, so a proxied round keeps three processes busy"
        " (wrk, the proxy, the mock) where a direct one keeps two.",
        "In the analyze table, the job's webhook reaches the sink through audjust-mock proxy's"
        " receiver, checked; Prism has no part in webhooks, so behind it the mock posts to the"
        " sink directly, unchecked. Webhooks are not what wrk times, but they share the cores.",
        *tallies,
        "Prism runs with `--errors`: a request or answer it finds in breach of the document is"
        " answered as an error, which the next line would count.",
        "Every server's output goes to a file: Prism's request log at its default level (info),"
        " audjust-mock proxy's violation lines.",
        peers.answers_note(rounds, "those rows' figures count refusals too"),
        *skipped,
    ]


Table = tuple[Load, Sequence[Server]]  # a load and the servers that ran it, the mock first


def section(rounds: Rounds, tables: Sequence[Table], notes_lines: Sequence[str]) -> str:
    """The dated block for BENCHMARKS.md: a table per load, each row against that load's mock
    and our proxy against Prism's, what each row does per request, and the notes."""
    lines = [f"### Run of {peers.stamp()}", ""]
    for load, servers in tables:
        mine = {s.name: rounds[s.name] for s in servers}
        lines += [f"{load.title}:", "", peers.report_table(mine, servers[0].name, "direct"), ""]
        if any(s.role is Role.PEER for s in servers):
            lines += [peers.against_peers(mine, servers), ""]
    return "\n".join(
        [
            *lines,
            "Per request:",
            "",
            *(f"- **{s.name}**: {s.does}." for _, servers in tables for s in servers),
            "",
            *(f"- {line}" for line in notes_lines),
            "",
        ]
    )


def main(arguments: Sequence[str] | None = None) -> int:
    run = peers.begin(
        arguments,
        target="bench-proxy",
        description=__doc__,
        budget=BUDGET_SECONDS,
        install=INSTALL_SECONDS,
    )
    if run is None:
        return 1
    not_installed = peer_servers.install(peer_servers.PRISM_PEER, run.install_by)
    skipped = [f"{PRISM_NAME}: skipped, {not_installed}."] if not_installed else []
    with tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        targets: list[peers.Target] = []
        tables: list[Table] = []
        for load in LOADS:
            folder = Path(scratch) / load.route.strip("/")
            folder.mkdir()
            chosen, body = planned(load, folder, prism=not not_installed)
            ready, not_ready = stack.enter_context(peers.started(chosen, run.pin, folder, body))
            targets += ready
            tables.append((load, [t.server for t in ready]))
            skipped += not_ready
        rounds = peers.measure(targets, run.pin.load, run.deadline)
        peers.wait_until_idle(targets)  # the last webhooks reach the sink
        ours = [t.server for t in targets if t.server.role is Role.MOCK]
        tallies = [tally(server).note(server.name) for server in ours]
    lines = notes(rounds, tallies, skipped, run.pin, run.load_average)
    peers.publish(section(rounds, tables, lines), START_MARK, END_MARK)
    return 0


if __name__ == "__main__":
    sys.exit(main())
