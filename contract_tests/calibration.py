"""Calibration: the fidelity ledger marked against what the target was seen to do, each entry
confirmed, refuted (with what was seen) or not observed (and why).

What was seen, and the profile written from it (`--observed-profile`), belong to
`mock_server.contract.observations`, which `audjust-mock proxy` shares: one run against the
live API thus yields a profile with which `audjust-mock serve --profile` behaves as the live API
did, as far as the suite could see.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from contract_tests.verdicts import Grader
from mock_server.contract.fidelity import LEDGER, Entry
from mock_server.contract.observations import Observations, observed_values
from mock_server.contract.profile import Profile


def _short(value: Any) -> str:
    return json.dumps(value)


def expected_value(entry: Entry, key: str, published: Mapping[str, Any] | None) -> tuple[Any, str]:
    """(the value profile `key` of `entry` should have, whose it is): what a mock target
    publishes at /_mock/fidelity, else the mock's default (what a live run compares with)."""
    if published is not None and entry.id in published:
        return published[entry.id].get("value"), "the target's published profile"
    return Profile().value_at(key), "the mock's default"


def verdict(
    entry: Entry,
    values: Mapping[str, Any],
    reasons: Mapping[str, str],
    outcomes: Mapping[str, set[str]],
    grader: Grader,
) -> str:
    """One ledger entry against the run: confirmed, refuted (with what was seen) or not
    observed (and why)."""
    key = entry.profile_key
    if key is not None and key in values:
        expected, whose = expected_value(entry, key, grader.published)
        if values[key] == expected:
            return f"confirmed: {key} = {_short(expected)}"
        return f"REFUTED: {key} is {_short(values[key])} ({whose}: {_short(expected)})"
    noted = grader.by_row()
    if entry.id in noted:
        return f"REFUTED: {noted[entry.id]}"
    ran = outcomes.get(entry.contract_test or "", set())
    if key is None and "failed" in ran:
        return f"REFUTED: {entry.contract_test} failed"
    if key is None and "passed" in ran:
        return f"confirmed by {entry.contract_test}"
    if key is not None and key in reasons:
        return f"not observed: {reasons[key]}"
    if entry.unobserved:
        return f"not observed: {entry.unobserved}"
    return f"not observed: {entry.contract_test} did not run"


def fidelity_lines(
    report: Observations, outcomes: Mapping[str, set[str]], grader: Grader
) -> list[str]:
    values, reasons = observed_values(report)
    lines = []
    counts = {"confirmed": 0, "REFUTED": 0, "not observed": 0}
    for entry in LEDGER:
        said = verdict(entry, values, reasons, outcomes, grader)
        counts[next(word for word in counts if said.startswith(word))] += 1
        lines.append(f"  {entry.id} ({entry.basis.value}): {said}")
    summary = ", ".join(f"{count} {word.lower()}" for word, count in counts.items())
    return [f"fidelity ledger: {summary}", *lines]
