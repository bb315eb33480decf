"""Small timing and table helpers shared by the benchmark sections."""

from __future__ import annotations

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
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


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
