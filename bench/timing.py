"""Small timing and table helpers shared by the benchmark sections."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """One line of the results table: what was measured, and what it is compared to."""

    section: str
    name: str
    value: str
    compared_to: str = ""
    ratio: str = ""
    target: str = ""


def median_seconds(fn: Callable[[], object], repeats: int = 3) -> float:
    """Median wall time of `repeats` calls; the median shrugs off one noisy neighbour."""
    return statistics.median(_seconds_of(fn) for _ in range(repeats))


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs > 0 else "n/a"


def table(rows: list[Row]) -> str:
    """The sections' rows as one Markdown table, as bench/results.md holds them."""
    header = ("section", "measure", "ours", "compared to", "ratio", "target")
    return markdown_table(
        header, [(r.section, r.name, r.value, r.compared_to, r.ratio, r.target) for r in rows]
    )


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table with its columns padded, readable on a terminal and in a page alike."""
    lines = [header, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def render(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([render(header), rule, *(render(line) for line in rows)])


@dataclass(frozen=True)
class Alternation:
    """Two workloads timed in alternation: each one's median, and the median of the rounds'
    ratios (ours / theirs)."""

    ours: float
    theirs: float
    ratio: float


def alternating(
    ours: Callable[[], object], theirs: Callable[[], object], rounds: int = 5
) -> Alternation:
    """Time `ours` and `theirs` back to back, `rounds` times.

    On a shared machine the load moves within seconds: timing one workload's runs and then the
    other's compared two different machines. A round's two runs see nearly the same load, so the
    median of the rounds' ratios is what to read (warm both up first).
    """
    pairs = [(_seconds_of(ours), _seconds_of(theirs)) for _ in range(rounds)]
    return Alternation(
        ours=statistics.median(a for a, _ in pairs),
        theirs=statistics.median(b for _, b in pairs),
        ratio=statistics.median(a / b for a, b in pairs),
    )


def _seconds_of(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def load_average() -> str:
    """The 1-, 5- and 15-minute load averages, which say how shared the machine was."""
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())
