"""Calibration: what the target was seen to do, written as a profile (`--observed-profile`),
and the fidelity ledger marked against it: each entry confirmed, refuted (with what was seen)
or not observed (and why).

One run against the live API thus yields a profile with which `audjust-mock serve --profile`
behaves as the live API did, as far as the suite could see.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from contract_tests.session import Report
from mock_server.fidelity import LEDGER, Behaviour
from mock_server.profile import ErrorName, Profile, sparse

# The reference's listed messages, by the profile's name for their error.
LISTED_ERRORS = {
    "Invalid request method": ErrorName.INVALID_METHOD,
    "Missing API key header": ErrorName.MISSING_KEY,
    "Invalid API Key": ErrorName.INVALID_KEY,
    "Missing parameter": ErrorName.MISSING_PARAMETER,
    "Rate limit exceeded": ErrorName.RATE_LIMITED,
    "Usage limit exceeded": ErrorName.USAGE_EXCEEDED,
}


def observed_values(report: Report) -> tuple[dict[str, Any], dict[str, str]]:
    """(profile key -> observed value, profile key -> why it could not be told) from what the
    tests noted: statuses per listed message, text after messages, pricing rules matched."""
    values, reasons = dict(report.observed), dict(report.unobserved)
    for message, statuses in report.error_statuses.items():
        key = f"errors.{LISTED_ERRORS[message]}.status"
        if len(statuses) == 1:
            values[key] = next(iter(statuses))
        else:
            reasons[key] = f"answered with several statuses: {sorted(statuses)}"
    if report.error_statuses:
        values["messages.detail"] = "message" if report.appended_text else "header"
    if len(report.allow_header) == 1:
        sent = next(iter(report.allow_header))
        values["errors.invalid_method.headers"] = ["Allow"] if sent else []
    if report.pricing:
        fitting = set.intersection(
            *({rule.split(":")[0] for rule in rules} for rules in report.pricing.values())
        )
        if len(fitting) == 1:
            values["pricing"] = fitting.pop()
        else:
            reasons["pricing"] = (
                "every creditCost seen fits both rules" if fitting else "no one rule fits them all"
            )
    return values, reasons


def write_profile(path: Path, values: Mapping[str, Any]) -> None:
    """The observed values as a profile document (checked: the mock must be able to load it)."""
    document = sparse(values)
    Profile.from_json(document)
    path.write_text(json.dumps(document, indent=2) + "\n")


def _short(value: Any) -> str:
    return json.dumps(value)


def verdict(
    behaviour: Behaviour,
    values: Mapping[str, Any],
    reasons: Mapping[str, str],
    outcomes: Mapping[str, set[str]],
) -> str:
    """One ledger entry against the run: confirmed, refuted (with what was seen) or not
    observed (and why)."""
    key = behaviour.profile_key
    if key is not None and key in values:
        default = Profile().value_at(key)
        if values[key] == default:
            return f"confirmed: {key} = {_short(default)}"
        return f"REFUTED: {key} is {_short(values[key])} (the mock's default: {_short(default)})"
    ran = outcomes.get(behaviour.contract_test or "", set())
    if key is None and "failed" in ran:
        return f"REFUTED: {behaviour.contract_test} failed"
    if key is None and "passed" in ran:
        return f"confirmed by {behaviour.contract_test}"
    if key is not None and key in reasons:
        return f"not observed: {reasons[key]}"
    if behaviour.unobserved:
        return f"not observed: {behaviour.unobserved}"
    return f"not observed: {behaviour.contract_test} did not run"


def fidelity_lines(report: Report, outcomes: Mapping[str, set[str]]) -> list[str]:
    values, reasons = observed_values(report)
    lines = []
    counts = {"confirmed": 0, "REFUTED": 0, "not observed": 0}
    for behaviour in LEDGER:
        said = verdict(behaviour, values, reasons, outcomes)
        counts[next(word for word in counts if said.startswith(word))] += 1
        lines.append(f"  {behaviour.id} ({behaviour.basis.value}): {said}")
    summary = ", ".join(f"{count} {word.lower()}" for word, count in counts.items())
    return [f"fidelity ledger: {summary}", *lines]
