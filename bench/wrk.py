"""wrk as the load generator: a Lua script that sends one POST (body and headers) on every
connection and, when the round ends, prints it as one JSON line that `parse` reads back.

Reading wrk's own summary would mean parsing units it rounds to two decimals ("1.23ms"); its Lua
`done()` hook hands over exact counts and microseconds instead.
"""

from __future__ import annotations

import json
import statistics
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

THREADS, CONNECTIONS = 1, 8
MARKER = "bench-round "  # what starts the line done() prints

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests": %d, "microseconds": %d, "p50_us": %d, "p99_us": %d, "status_errors": %d, '
    .. '"socket_errors": %d}\\n',
    MARKER, summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class Round:
    """One wrk run against one server: how many answers in how long, and two percentiles."""

    requests: int
    seconds: float
    p50: float  # seconds
    p99: float
    failed: int  # answers of status 400 or more, and connect, read, write and timeout errors

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class Summary:
    """A server's rounds in one figure each: the median, which one noisy round cannot move, and
    the range of throughput, which shows a server still warming up (a JVM) or a noisy machine."""

    per_second: float
    slowest: float  # the lowest round's requests per second
    fastest: float
    p50: float
    p99: float  # the median round's p99
    worst_p99: float
    failed: int

    @classmethod
    def of(cls, rounds: Sequence[Round]) -> Summary:
        rates = [r.per_second for r in rounds]
        return cls(
            per_second=statistics.median(rates),
            slowest=min(rates),
            fastest=max(rates),
            p50=statistics.median(r.p50 for r in rounds),
            p99=statistics.median(r.p99 for r in rounds),
            worst_p99=max(r.p99 for r in rounds),
            failed=sum(r.failed for r in rounds),
        )


def script(body: Mapping[str, object], headers: Mapping[str, str]) -> str:
    """The Lua script for a POST of `body` as JSON with `headers`. wrk builds the request once
    from these, so the script costs nothing per request."""
    lines = [
        f"MARKER = {_lua_string(MARKER)}",
        'wrk.method = "POST"',
        f"wrk.body = {_lua_string(json.dumps(body))}",
        'wrk.headers["Content-Type"] = "application/json"',
        *(f"wrk.headers[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items()),
    ]
    return "\n".join(lines) + "\n" + _DONE


def _lua_string(text: str) -> str:
    """`text` as a Lua long string, which takes every byte as it is (Lua's quoted strings know
    no `\\uXXXX`, so JSON's escaping would not do); its level is one the text does not close."""
    level = next(n for n in range(len(text) + 2) if f"]{'=' * n}]" not in text + "]")
    opening = "\n" if text.startswith("\n") else ""  # Lua drops a first newline
    return f"[{'=' * level}[{opening}{text}]{'=' * level}]"


def command(url: str, script_path: str, seconds: float) -> list[str]:
    return [
        *("wrk", f"--threads={THREADS}", f"--connections={CONNECTIONS}"),
        *(f"--duration={seconds:g}s", f"--script={script_path}", url),
    ]


def parse(output: str) -> Round:
    """The round from wrk's output; ValueError when done() printed no line (wrk failed)."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            fields = json.loads(line.removeprefix(MARKER))
            return Round(
                requests=fields["requests"],
                seconds=fields["microseconds"] / 1e6,
                p50=fields["p50_us"] / 1e6,
                p99=fields["p99_us"] / 1e6,
                failed=fields["status_errors"] + fields["socket_errors"],
            )
    raise ValueError(f"no {MARKER.strip()!r} line in wrk's output:\n{output}")


def run(url: str, script_path: str, seconds: float, prefix: Sequence[str] = ()) -> Round:
    """One round of `seconds` against `url`, wrk started behind `prefix` (taskset, say)."""
    done = subprocess.run(
        [*prefix, *command(url, script_path, seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
    )
    return parse(done.stdout + done.stderr)
