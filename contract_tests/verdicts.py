"""Three verdicts, from the fidelity ledger: every check of the suite names the ledger row of the
promise it checks, and the row's basis decides what a broken check means.

- documented (a sentence of the reference says it): a failure;
- reading (the reference's examples suggest it): a finding, reported with what was seen (in the
  report, and as a `finding` property of the test in JUnit), and the test passes;
  `--readings enforce` makes it a failure;
- choice (the mock's own): noted as observed, never a failure; except that with
  `--readings enforce` against a target that publishes the ledger at `/_mock/fidelity` (a mock),
  a choice it publishes is held to, so the mock keeps to its own profile.

The live API may differ from the mock wherever the reference leaves room: a suite that failed
every such difference would go red on its first live run. So the grade comes from the row of the
promise, never from a failure turned into a finding wholesale; a test (tests/contract/
test_suite_grading.py) checks that no assertion of the suite escapes a `promise`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pytest

from mock_server.contract import fidelity, layers
from mock_server.contract.fidelity import Basis, Entry

# The JUnit property a finding is reported under (its value: "row: what was seen").
FINDING_PROPERTY = "finding"
OBSERVED_PROPERTY = "observed"


class Readings(StrEnum):
    """What a broken reading is: reported as a finding, or enforced as a failure."""

    REPORT = "report"
    ENFORCE = "enforce"


@dataclass(frozen=True)
class Noted:
    """A check that did not hold but did not fail: a finding (reading) or an observation."""

    entry: Entry
    test: str
    seen: str


def broken(entry: Entry) -> str:
    """What a failed check of `entry` breaks: its row and basis, and the reference's words."""
    said = "; ".join(f"“{quote}”" for quote in entry.quotes) or entry.source
    return f"breaks {entry.id} ({entry.basis}): {said}"


@dataclass
class Grader:
    """Grades each check by its ledger row; keeps what it noted for the report."""

    readings: Readings = Readings.REPORT
    # the ledger the target publishes at /_mock/fidelity, by row id (None: it publishes none)
    published: Mapping[str, Any] | None = None
    item: pytest.Item | None = None  # the test running now
    noted: list[Noted] = field(default_factory=list)
    failed: list[Noted] = field(default_factory=list)  # the checks that failed, by their row

    @contextmanager
    def promise(self, entry_id: str) -> Iterator[None]:
        """Checks inside are the promise `entry_id`'s: an AssertionError they raise is graded
        by its basis, and the code after the block runs on unless it is a failure."""
        entry = fidelity.entry(entry_id)
        try:
            yield
        except AssertionError as error:
            seen = str(error).splitlines()[0] if str(error) else repr(error)
            if self.fails(entry):
                self.failed.append(Noted(entry, self._test(), seen))
                raise AssertionError(f"{error}\n{broken(entry)}") from error
            self._note(entry, seen)

    def check(self, entry_id: str, holds: bool, seen: str) -> None:
        """A condition of the promise `entry_id`; `seen` says what the target did if not."""
        with self.promise(entry_id):
            if not holds:
                raise AssertionError(seen)

    def conforms(self, entry_id: str, schema: str, document: object) -> None:
        """`document` against schema `schema`: the documented layer is the promise `entry_id`,
        each reading is graded by its own row (mock_server.contract.layers)."""
        graded = layers.graded_errors(schema, document)
        for row, seen in graded.readings:
            self.check(row, False, f"{schema}: {seen}")
        self.check(entry_id, not graded.documented, f"{schema}: {'; '.join(graded.documented)}")

    def fails(self, entry: Entry) -> bool:
        if entry.basis is Basis.DOCUMENTED:
            return True
        enforced = self.readings is Readings.ENFORCE
        if entry.basis is Basis.READING:
            return enforced
        return enforced and self.published is not None and entry.id in self.published

    def _test(self) -> str:
        return self.item.nodeid if self.item is not None else "(session)"

    def _note(self, entry: Entry, seen: str) -> None:
        test = self._test()
        if any(n.entry == entry and n.test == test and n.seen == seen for n in self.noted):
            return
        self.noted.append(Noted(entry, test, seen))
        if self.item is not None:
            name = FINDING_PROPERTY if entry.basis is Basis.READING else OBSERVED_PROPERTY
            self.item.user_properties.append((name, f"{entry.id}: {seen}"))

    @property
    def findings(self) -> list[Noted]:
        return [n for n in self.noted if n.entry.basis is Basis.READING]

    @property
    def observations(self) -> list[Noted]:
        return [n for n in self.noted if n.entry.basis is Basis.CHOICE]

    def by_row(self) -> dict[str, str]:
        """Row id -> the first thing seen against it, for the ledger's lines in the report."""
        seen: dict[str, str] = {}
        for noted in self.noted:
            seen.setdefault(noted.entry.id, noted.seen)
        return seen

    def lines(self) -> list[str]:
        """The report's lines: each finding, then each choice observed otherwise than the mock."""
        lines = [
            f"findings: {len(self.findings)} (readings of the reference's examples the target "
            "departs from; --readings enforce fails them)"
        ]
        for kind, noted in (("finding", self.findings), ("observed", self.observations)):
            for each in noted:
                basis = each.entry.basis.value
                lines.append(f"{kind} {each.entry.id} ({basis}) in {each.test}: {each.seen}")
        return lines
