"""--report-json FILE: the run as one JSON document a CI job reads without parsing pytest's
output: each test's outcome, each failure with the ledger row and the reference's words it
breaks, each finding and each observation with what was seen, and the report's lines."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from contract_tests.verdicts import Grader, Noted

REPORT_VERSION = 1


def _noted(each: Noted) -> dict[str, Any]:
    return {
        "test": each.test,
        "row": each.entry.id,
        "basis": each.entry.basis.value,
        "seen": each.seen,
        "reference": list(each.entry.quotes),
    }


def document(
    *,
    target: str,
    outcomes: Mapping[str, str],
    grader: Grader,
    credits: tuple[int, int],
    lines: Sequence[str] = (),
) -> dict[str, Any]:
    """The report: `outcomes` by test id, `credits` (spent, limit), and the lines the terminal
    report opens with (statuses, pricing, text after listed messages)."""
    counts = {kind: sum(1 for o in outcomes.values() if o == kind) for kind in _KINDS}
    return {
        "version": REPORT_VERSION,
        "target": target,
        "readings": grader.readings.value,
        "summary": {
            **counts,
            "findings": len(grader.findings),
            "observed": len(grader.observations),
        },
        "tests": [{"test": test, "outcome": outcome} for test, outcome in outcomes.items()],
        "failures": [_noted(each) for each in grader.failed],
        "findings": [_noted(each) for each in grader.findings],
        "observed": [_noted(each) for each in grader.observations],
        "credits": {"spent": credits[0], "limit": credits[1]},
        "report": list(lines),
    }


_KINDS = ("passed", "failed", "skipped")


def write(path: Path, report: dict[str, Any]) -> None:
    """Written beside and renamed, so a reader never sees half a file."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    partial.replace(path)
