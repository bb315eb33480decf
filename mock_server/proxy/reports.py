"""The summaries CI reads: every departure as JSON, violations apart from findings and observations
(--report), and one JUnit test case per exchange (--junit): failed by a violation, passing with
a `finding` (or `observed`) property for each of the others, never skipped. The proxy rewrites
them soon after an exchange changes and at exit; each write goes beside and is renamed, so a
proxy killed at any moment leaves them whole."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from mock_server.contract.rulebook import Grade
from mock_server.proxy.exchanges import GRADED_KEYS, KeptExchanges, dumps

REPORT_VERSION = 1


def write_json(path: Path, exchanges: KeptExchanges) -> None:
    """`totals` count every exchange; `exchanges`, `violations`, `findings` and `observed`
    detail the kept ones."""
    summaries = [exchange.summary() for exchange in exchanges]
    document: dict[str, Any] = {
        "version": REPORT_VERSION,
        "totals": exchanges.totals(),
        "exchanges": summaries,
    }
    for key in GRADED_KEYS:
        document[key] = [each for summary in summaries for each in summary[key]]
    _replace(path, dumps(document))


def write_junit(path: Path, exchanges: KeptExchanges) -> None:
    """A test case per kept exchange; the suite's properties count every exchange."""
    kept = list(exchanges)
    failed = sum(1 for exchange in kept if exchange.violations)
    suite = ET.Element(
        "testsuite",
        name="audjust-mock proxy",
        tests=str(len(kept)),
        failures=str(failed),
        errors="0",
    )
    properties = ET.SubElement(suite, "properties")
    for name, count in exchanges.totals().items():
        ET.SubElement(properties, "property", name=f"totals.{name}", value=str(count))
    for exchange in kept:
        name = f"{exchange.number:04d} /{exchange.route} {exchange.request_id or '-'}"
        case = ET.SubElement(suite, "testcase", classname="audjust-mock.proxy", name=name)
        if exchange.violations:
            lines = [violation.line() for violation in exchange.violations]
            failure = ET.SubElement(
                case, "failure", message=f"{len(lines)} contract violation(s)", type="violation"
            )
            failure.text = "\n".join(lines)
        noted = [d for d in exchange.departures if d.grade is not Grade.VIOLATION]
        if noted:
            listed = ET.SubElement(case, "properties")
            for departure in noted:
                value = f"{departure.row}: {departure.line()}"
                ET.SubElement(listed, "property", name=departure.grade.value, value=value)
    _replace(path, ET.tostring(suite, encoding="unicode") + "\n")


def _replace(path: Path, text: str) -> None:
    """Write beside and rename, so a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)
