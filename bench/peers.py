"""`make bench-peers`: the mock's acknowledgement beside the servers a user would otherwise pick
(Prism, Mockoon, WireMock) and a bare aiohttp handler, loaded by wrk in alternating rounds of one
run; the table is printed and written into BENCHMARKS.md.

Rounds alternate, in an order rotated each round, so every server meets the same machine: on
these shared machines a neighbour's test run moves absolute figures by half, while the ratio of
two rounds run seconds apart moves far less. Each round waits until every server is idle, so one
server's leftover work (the mock's jobs, a JVM compiling) is not counted in another's round.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from bench import ROOT, peer_servers, processes, wrk
from bench.timing import markdown_table
from mock_server.contract.wire import KEY_HEADER
from mock_server.faults.catalogue import Fault
from mock_server.faults.scenario import HEADER
from mock_server.settings import DEFAULT_KEY

WARMUP_SECONDS = 4.0
ROUND_SECONDS = 3.0
ROUNDS = 5
BUDGET_SECONDS = 330  # the whole run, installs included; rounds that would end later are dropped
INSTALL_SECONDS = 150  # of the budget, for wrk and the peers (cold here: about 50 s in all)
READY_SECONDS = 60  # a JVM takes a few seconds to answer its first request
IDLE_SECONDS = 8  # the mock's last failure webhooks of a round are retried up to 3 s after it
IDLE_TICKS = 2  # CPU clock ticks (10 ms each) all servers together may use in a window, idle
IDLE_WINDOW = 0.25  # seconds
KEY = {KEY_HEADER: DEFAULT_KEY}
# Jobs that end at once with no I/O: no download and no webhook, so a round is acks alone.
AT_ONCE = {**KEY, HEADER: f"{Fault.SOURCE_DOWNLOAD_FAILS}, {Fault.WEBHOOK_DROPPED}"}
BENCHMARKS = ROOT / "BENCHMARKS.md"
START_MARK = "<!-- make bench-peers writes from here -->"
END_MARK = "<!-- make bench-peers writes to here -->"
BARE = "bare aiohttp handler"
MOCK_DOES = (
    "parses the body as strict JSON and checks each field, authenticates the key, counts the"
    " request against the rate limit, journals it, queues a job, and answers a new request id"
    " and result URL"
)
TRIES_IO = (
    "its job's download is refused at once, then its failure webhook three times (1 s and 2 s"
    " apart), through aiohttp's client on the event loop that answers the acks"
)
AT_ONCE_DOES = (
    f"its job ends at once without I/O, as the request asks (`{HEADER}: {AT_ONCE[HEADER]}`)"
)
QUIET_DOES = "nothing printed"
LOUD_DOES = "a traffic line printed per request and per webhook attempt (to a file)"
BARE_DOES = (
    "reads the body and answers a fixed JSON object: the same event loop (asyncio's) and JSON"
    " library (the standard one) as the mock, and nothing else"
)


class Role(Enum):
    MOCK = "mock"
    BARE = "bare"  # the yardstick every ratio is taken against
    PEER = "peer"


@dataclass(frozen=True)
class Server:
    """A server to measure: its name in the table, what it does with each request, how it
    starts, and the measured POST's URL and headers."""

    name: str
    does: str
    role: Role
    command: list[str]
    url: str
    headers: Mapping[str, str] = field(default_factory=lambda: KEY)


@dataclass(frozen=True)
class Target:
    """A server started: its process, to read its CPU time and to stop it, and its wrk script."""

    server: Server
    process: subprocess.Popen[str]
    script: str


@dataclass(frozen=True)
class Pinning:
    """Which core wrk and the servers run on, as command prefixes, and how the notes say it."""

    load: tuple[str, ...]
    servers: tuple[str, ...]
    note: str


def pinning(pin: bool) -> Pinning:
    """wrk on the first core and every server on the second, when asked. Not by default: on this
    shared 2-core machine, two runs of the same servers pinned and unpinned side by side gave
    pinned rounds that varied as much or more (coefficient of variation 0.18-0.62 against
    0.08-0.55 unpinned) and a slower JVM, as pinning takes away the scheduler's way around a
    neighbour's load. A quieter machine with more cores may differ."""
    if not pin:
        return Pinning(
            (),
            (),
            "Not pinned to cores: on this shared machine, pinning wrk to one core and the servers"
            " to the other made rounds no steadier (`make bench-peers PIN=1` or `make bench-proxy"
            " PIN=1` does it).",
        )
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return Pinning((), (), "Not pinned to cores: taskset or a second core is missing.")
    return Pinning(
        ("taskset", "-c", "0"),
        ("taskset", "-c", "1"),
        "wrk runs on core 0 and every server on core 1 (`taskset`), so no server shares its"
        " core with the load generator; the JVM then sees one core, as the others use one.",
    )


def analyze_body(closed_port: int) -> dict[str, object]:
    """An analyze request whose job fails at once: nothing listens on `closed_port`, so its
    download is refused, and so is each attempt at its failure webhook."""
    return {
        "sourceFileUrl": f"http://127.0.0.1:{closed_port}/song.mp3",
        "resultWebhook": f"http://127.0.0.1:{closed_port}/webhook",
    }


def mock_servers() -> list[Server]:
    """`serve` quiet and with its traffic lines (its default), each with jobs that try their
    I/O and with jobs that end at once: four processes, so no row inherits another's work."""
    chosen = []
    for flags, console, printed in (
        (("--quiet",), " --quiet", QUIET_DOES),
        ((), ", traffic lines on", LOUD_DOES),
    ):
        for jobs, headers, does in (
            ("jobs try their I/O", KEY, TRIES_IO),
            ("jobs end at once", AT_ONCE, AT_ONCE_DOES),
        ):
            port = processes.free_port()
            chosen.append(
                Server(
                    f"audjust-mock{console}, {jobs}",
                    f"{does}; {printed}",
                    Role.MOCK,
                    processes.serve_command(port, *flags),
                    _url(port),
                    headers,
                )
            )
    return chosen


def servers(folder: Path, install_by: float) -> tuple[list[Server], list[str]]:
    """The mocks, the bare handler and each peer that could be installed; and a line for each
    peer skipped, saying why."""
    port = processes.free_port()
    bare = Server(BARE, BARE_DOES, Role.BARE, processes.bare_command(port), _url(port, "/ack"))
    chosen = [*mock_servers(), bare]
    skipped: list[str] = []
    for peer in peer_servers.PEERS:
        reason = peer_servers.install(peer, install_by)
        if reason:
            skipped.append(f"{peer.name}: skipped, {reason}.")
            continue
        port = processes.free_port()
        command = peer.command(port, folder)
        chosen.append(Server(peer.name, peer.does, Role.PEER, command, _url(port)))
    return chosen, skipped


def _url(port: int, path: str = "/analyze") -> str:
    return f"http://127.0.0.1:{port}{path}"


def answers_200(server: Server, body: bytes) -> bool:
    headers = {"Content-Type": "application/json", **server.headers}
    request = urllib.request.Request(server.url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait_until_ready(target: Target, body: bytes) -> str | None:
    """None once `target` answers the measured request 200; else why it never did."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if target.process.poll() is not None:
            return f"it exited with status {target.process.returncode}"
        if answers_200(target.server, body):
            return None
        time.sleep(0.25)
    return f"it did not answer the request 200 within {READY_SECONDS} s"


@contextmanager
def started(
    chosen: Sequence[Server], pin: Pinning, folder: Path, body: Mapping[str, object]
) -> Iterator[tuple[list[Target], list[str]]]:
    """Every server started and answering 200, and a line for each peer that did not; all are
    stopped when the block ends. Each one's output goes to a file, as into a CI job's log."""
    targets: list[Target] = []
    skipped: list[str] = []
    with ExitStack() as stack:
        stack.callback(lambda: processes.stop(t.process for t in targets))
        for number, server in enumerate(chosen):
            log = stack.enter_context((folder / f"server-{number}.log").open("w"))
            script = folder / f"server-{number}.lua"
            script.write_text(wrk.script(body, server.headers))
            process = processes.start([*pin.servers, *server.command], log, ready_line=False)
            targets.append(Target(server, process, str(script)))
        encoded = json.dumps(body).encode()
        for target in list(targets):
            reason = wait_until_ready(target, encoded)
            if reason is None:
                continue
            if target.server.role is not Role.PEER:
                raise RuntimeError(f"{target.server.name}: {reason}")
            skipped.append(f"{target.server.name}: skipped, {reason}.")
            processes.stop([target.process])
            targets.remove(target)
        yield targets, skipped


def cpu_ticks(stat: str) -> int:
    """User and system clock ticks from a /proc/<pid>/stat line: its 14th and 15th fields,
    counted after the name, which is in parentheses and may hold spaces."""
    fields = stat.rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def _ticks(targets: Sequence[Target]) -> int:
    total = 0
    for target in targets:
        with suppress(OSError):  # it has gone: no more ticks
            total += cpu_ticks(Path(f"/proc/{target.process.pid}/stat").read_text())
    return total


def wait_until_idle(targets: Sequence[Target]) -> None:
    """Until the servers together use at most IDLE_TICKS in a window, or IDLE_SECONDS pass."""
    deadline = time.monotonic() + IDLE_SECONDS
    before = _ticks(targets)
    while time.monotonic() < deadline:
        time.sleep(IDLE_WINDOW)
        after = _ticks(targets)
        if after - before <= IDLE_TICKS:
            return
        before = after


Rounds = dict[str, list[wrk.Round]]


def measure(targets: Sequence[Target], load: Sequence[str], deadline: float) -> Rounds:
    """A warm-up for each server, then ROUNDS rounds of each, rotating the order; a set of rounds
    that would end after `deadline` is not started."""
    for target in targets:
        print(f"warming up {target.server.name}", flush=True)
        wait_until_idle(targets)
        wrk.run(target.server.url, target.script, WARMUP_SECONDS, load)
    rounds: Rounds = {t.server.name: [] for t in targets}
    per_set = len(targets) * (ROUND_SECONDS + 2)
    for number in range(ROUNDS):
        if time.monotonic() + per_set > deadline:
            print(f"time budget spent: {number} rounds of {ROUNDS}", flush=True)
            break
        print(f"round {number + 1} of {ROUNDS}", flush=True)
        turn = number % len(targets)
        for target in [*targets[turn:], *targets[:turn]]:
            wait_until_idle(targets)
            result = wrk.run(target.server.url, target.script, ROUND_SECONDS, load)
            rounds[target.server.name].append(result)
    return rounds


def round_ratio(
    ours: Sequence[wrk.Round],
    theirs: Sequence[wrk.Round],
    figure: Callable[[wrk.Round], float] = lambda r: r.per_second,
) -> float:
    """The median over rounds of ours / theirs for `figure`, each pair from the same set of
    rounds (within half a minute): steadier than the ratio of two medians when the machine's
    load changes during the run."""
    pairs = zip(ours, theirs, strict=False)
    return statistics.median(figure(a) / figure(b) for a, b in pairs if figure(b))


def p99_ratio(ours: Sequence[wrk.Round], theirs: Sequence[wrk.Round]) -> float:
    return round_ratio(ours, theirs, lambda r: r.p99)


def milliseconds(value: float) -> str:
    """Two figures down to 0.01 ms: wrk's percentiles are in microseconds."""
    shown = value * 1000
    decimals = 2 if shown < 1 else 1 if shown < 10 else 0
    return f"{shown:.{decimals}f} ms"


def report_table(rounds: Rounds, baseline: str = BARE, versus: str = "bare") -> str:
    """A row per server that ran: its median round, and its ratios to the `baseline` row's
    rounds (`versus` names it in the header)."""
    header = (
        "server",
        "requests/s",
        "rounds' range",
        "p50",
        "p99 (worst round)",
        f"req/s vs {versus}",
        f"p99 vs {versus}",
    )
    bare = rounds[baseline]
    rows = []
    for name, measured in rounds.items():
        if not measured:
            continue
        summary = wrk.Summary.of(measured)
        rows.append(
            (
                name,
                f"{summary.per_second:,.0f}",
                f"{summary.slowest:,.0f}-{summary.fastest:,.0f}",
                milliseconds(summary.p50),
                f"{milliseconds(summary.p99)} ({milliseconds(summary.worst_p99)})",
                f"{round_ratio(measured, bare):.2f}x",
                f"{p99_ratio(measured, bare):.2f}x",
            )
        )
    return markdown_table(header, rows)


def against_peers(rounds: Rounds, servers: Sequence[Server]) -> str:
    """Each mock row against each peer: throughput and p99, ours / theirs (against the bare
    handler, the main table has them)."""
    mocks = [s.name for s in servers if s.role is Role.MOCK and rounds[s.name]]
    others = [s.name for s in servers if s.role is Role.PEER and rounds[s.name]]
    header = ("ours / theirs: req/s, p99", *others)
    rows = [
        (
            mock,
            *(
                f"{round_ratio(rounds[mock], rounds[other]):.2f}x,"
                f" {p99_ratio(rounds[mock], rounds[other]):.2f}x"
                for other in others
            ),
        )
        for mock in mocks
    ]
    return markdown_table(header, rows)


def method_notes(rounds: Rounds, pin: Pinning, load: float, request: str) -> list[str]:
    """The notes every wrk run starts with: the machine, how the rounds ran (each sending
    `request`), and the pinning."""
    counted = min(len(r) for r in rounds.values())
    return [
        f"Python {platform.python_version()}, {os.cpu_count()} cores, load average {load:.1f}"
        " when the run started (the machine is shared with other sessions' test runs).",
        f"wrk: {wrk.THREADS} thread, {wrk.CONNECTIONS} connections, {request}; a"
        f" {WARMUP_SECONDS:g} s warm-up per server, then {counted} rounds of {ROUND_SECONDS:g} s"
        " each, the servers alternating in an order rotated each round, each round started once"
        " every server was idle. Figures are the median round's; ratios the median of each"
        " round's ratio to the other server's round of the same set.",
        pin.note,
    ]


def answers_note(rounds: Rounds, otherwise: str) -> str:
    """That every measured request was answered 200; else which rows were not, and `otherwise`:
    what those rows' figures then measure."""
    failed = {name: wrk.Summary.of(r).failed for name, r in rounds.items() if r}
    if not any(failed.values()):
        return "Every measured request was answered 200."
    counts = ", ".join(f"{name} {count}" for name, count in failed.items() if count)
    return f"Answers of status 400 or more, or socket errors: {counts}; {otherwise}."


def notes(rounds: Rounds, skipped: Sequence[str], pin: Pinning, load: float) -> list[str]:
    """What a reader needs to weigh the figures: the machine, the method, the mock's settings."""
    return [
        *method_notes(rounds, pin, load, "one analyze-shaped POST with its body and key"),
        f"The mock runs with `--rate-limit {processes.LOAD_RATE_LIMIT}`: its default, the"
        " reference's 100 a minute per key, would answer 429 within the first second.",
        "Its jobs: each POST /analyze names a source and a webhook on a closed 127.0.0.1 port,"
        " so a job that tries its I/O fails at once and its failure webhook is refused three"
        " times, on the event loop that answers the acks. The rows whose jobs end at once ask"
        " for that with the fault scenarios' header, which the mock also reads per request.",
        "Every server's stdout and stderr go to a file, as into a CI job's log: the mock's"
        " traffic lines, Prism's and Mockoon's request logs at their default level.",
        answers_note(rounds, "those rows are not acknowledgements alone"),
        *skipped,
    ]


def section(
    rounds: Rounds, described: Sequence[Server], notes_lines: Sequence[str], stamp: str
) -> str:
    """The dated block for BENCHMARKS.md: the table, each mock row against every other server,
    what each server does per request, and the notes."""
    return "\n".join(
        [
            f"### Run of {stamp}",
            "",
            report_table(rounds),
            "",
            against_peers(rounds, described),
            "",
            "Per request:",
            "",
            f"- **audjust-mock, every row**: {MOCK_DOES}.",
            *(f"- **{s.name}**: {s.does}." for s in described),
            "",
            *(f"- {line}" for line in notes_lines),
            "",
        ]
    )


def replace_section(
    page: str, block: str, start_mark: str = START_MARK, end_mark: str = END_MARK
) -> str:
    """`page` with what lies between the two marks replaced by `block`."""
    before, start, rest = page.partition(start_mark)
    _, end, after = rest.partition(end_mark)
    if not start or not end:
        raise ValueError(f"BENCHMARKS.md lacks {start_mark} ... {end_mark}")
    return f"{before}{start_mark}\n{block}{end_mark}{after}"


def stamp() -> str:
    """The run's date and time, as a section's heading gives it."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def publish(block: str, start_mark: str = START_MARK, end_mark: str = END_MARK) -> None:
    """Print `block` and write it into BENCHMARKS.md between the two marks."""
    print("\n" + block)
    BENCHMARKS.write_text(replace_section(BENCHMARKS.read_text(), block, start_mark, end_mark))
    print(f"written into {BENCHMARKS.relative_to(ROOT)}")


@dataclass(frozen=True)
class Run:
    """A wrk run's frame: when its rounds and its installs must end (monotonic time), the
    machine's load average when it started, and the pinning asked for."""

    deadline: float
    install_by: float
    load_average: float
    pin: Pinning


def begin(
    arguments: Sequence[str] | None,
    *,
    target: str,
    description: str | None,
    budget: float = BUDGET_SECONDS,
    install: float = INSTALL_SECONDS,
) -> Run | None:
    """Read the flags (`--pin`), start the clock and install wrk; None, said on stderr, when
    wrk cannot be had. `target` is the make target that runs the bench."""
    parser = argparse.ArgumentParser(prog=f"make {target}", description=description)
    parser.add_argument(
        "--pin", action="store_true", help="wrk on core 0 and the servers on core 1 (taskset)"
    )
    options = parser.parse_args(arguments)
    started_at = time.monotonic()
    load_average = os.getloadavg()[0]
    missing = peer_servers.install_wrk(started_at + install)
    if missing:
        print(f"make {target} needs wrk: {missing}", file=sys.stderr)
        return None
    return Run(started_at + budget, started_at + install, load_average, pinning(options.pin))


def main(arguments: Sequence[str] | None = None) -> int:
    run = begin(arguments, target="bench-peers", description=__doc__)
    if run is None:
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        chosen, skipped = servers(folder, run.install_by)
        for line in skipped:
            print(line, flush=True)
        body = analyze_body(processes.free_port())
        with started(chosen, run.pin, folder, body) as (targets, not_ready):
            rounds = measure(targets, run.pin.load, run.deadline)
    measured = [t.server for t in targets]
    lines = notes(rounds, [*skipped, *not_ready], run.pin, run.load_average)
    publish(section(rounds, measured, lines, stamp()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
