"""Profiles: the behaviours the reference leaves open or shows only by example, as one document.

The mock has to choose a status for each error, how many times a webhook is tried, which reading
of the price list to apply, and more; the reference does not say. A profile holds every such
choice a client could depend on, so a team can see them, change them (`serve --profile FILE`),
and write down what the live API was observed to do (`pytest contract_tests --observed-profile`).

On the wire a profile is JSON (`schemas/profile.json`): a `version` and any subset of the keys;
what a file leaves out keeps the mock's default, which is `Profile()`. A key is named by its dotted
path in that document, e.g. `errors.rate_limited.status` or `webhooks.attempts`: the fidelity
ledger, the calibration report and error messages all use those names.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from mock_server.accounts import PricingRule
from mock_server.audio.resize import Candidate
from mock_server.contract.schemas import every_error, load_schema

VERSION = 1
SCHEMA = "profile"


class ErrorName(StrEnum):
    """The errors whose status (and optional headers) a profile sets: the API's answers, not the
    control routes', which are the mock's own and keep their statuses."""

    INVALID_METHOD = "invalid_method"
    MISSING_KEY = "missing_key"
    INVALID_KEY = "invalid_key"
    MISSING_PARAMETER = "missing_parameter"
    INVALID_PARAMETER = "invalid_parameter"
    MALFORMED_JSON = "malformed_json"
    RATE_LIMITED = "rate_limited"
    USAGE_EXCEEDED = "usage_exceeded"
    RESULT_MISSING = "result_missing"  # a result URL with nothing (yet, or any more) behind it
    RESIZE_FAILED = "resize_failed"  # a synchronous resize whose job failed
    RESIZE_TIMED_OUT = "resize_timed_out"  # a synchronous resize past the job limit
    STRUCTURE_FAILED = "structure_failed"  # a synchronous structure whose job failed or timed out
    UPLOAD_EXPIRED = "upload_expired"  # a retrievalUrl an hour after its PUT, or after a reset


# The headers an error may carry beyond the envelope; a profile chooses which of them it sends.
OPTIONAL_HEADERS: Mapping[ErrorName, tuple[str, ...]] = {
    ErrorName.INVALID_METHOD: ("Allow",),
    ErrorName.RATE_LIMITED: ("Retry-After",),
}


@dataclass(frozen=True)
class ErrorAnswer:
    status: int
    headers: tuple[str, ...] = ()  # which of the error's OPTIONAL_HEADERS are sent


class DetailPlacement(StrEnum):
    """Where the mock's explanation of a listed error goes."""

    HEADER = "header"  # the listed text alone in `message`, the detail in X-Mock-Detail
    MESSAGE = "message"  # `message` is the listed text, a colon and the detail


class ResultOrder(StrEnum):
    """How the resize candidates are ordered."""

    BLENDED_SCORE = "blended_score"  # highest blendedScore first
    DISSIMILARITY = "dissimilarity"  # lowest dissimilarity first
    DURATION = "duration"  # shortest durationSeconds first


@dataclass(frozen=True)
class CandidateSort:
    """What one order sorts resize candidates by: a field, lowest first unless `highest_first`.
    `key` reads it from the engine's candidate, `wire_key` from a candidate as the wire writes
    it, so the mock's own ordering and the recognition of a target's are one definition."""

    field: str  # as audio/resize.Candidate names it
    wire: str  # as a candidate on the wire spells it
    highest_first: bool = False

    def key(self, candidate: Candidate) -> float:
        return self._signed(getattr(candidate, self.field))

    def wire_key(self, candidate: Mapping[str, Any]) -> float:
        return self._signed(candidate[self.wire])

    def _signed(self, value: float) -> float:
        return -value if self.highest_first else value


# What each order sorts by; the engine gives candidates best blended score first, and a stable
# sort keeps that order among equals. The mock orders its own answers with `key`; the contract
# suite and the proxy recognise a target's order with `wire_key`, trying the orders in this order.
ORDER_BY: Mapping[ResultOrder, CandidateSort] = {
    ResultOrder.BLENDED_SCORE: CandidateSort("blended_score", "blendedScore", highest_first=True),
    ResultOrder.DISSIMILARITY: CandidateSort("dissimilarity", "dissimilarity"),
    ResultOrder.DURATION: CandidateSort("duration_seconds", "durationSeconds"),
}


class UsageRule(StrEnum):
    """When a key's usage refuses a request."""

    REACHED = "reached"  # once usage has reached the plan's limit
    EXCEEDED = "exceeded"  # once this request's price, where known at once, would pass it


class PartialExportCharge(StrEnum):
    """What an export with some failed groups costs."""

    MADE = "made"  # the minutes of the files that were made
    REQUESTED = "requested"  # the minutes every group asked for


class StructureCalls(StrEnum):
    """How /structure answers: the only known client calls it synchronously; whether it also
    takes `resultWebhook`, as resize does, is not known."""

    BOTH = "both"  # synchronous without resultWebhook, queued with it (resize's pattern)
    SYNCHRONOUS = "synchronous"  # always answers at once; resultWebhook is not a parameter
    QUEUED = "queued"  # resultWebhook required; acknowledged, then the webhook


def _default_errors() -> dict[ErrorName, ErrorAnswer]:
    return {
        ErrorName.INVALID_METHOD: ErrorAnswer(405, ("Allow",)),
        ErrorName.MISSING_KEY: ErrorAnswer(401),
        ErrorName.INVALID_KEY: ErrorAnswer(403),
        ErrorName.MISSING_PARAMETER: ErrorAnswer(400),
        ErrorName.INVALID_PARAMETER: ErrorAnswer(400),
        ErrorName.MALFORMED_JSON: ErrorAnswer(400),
        ErrorName.RATE_LIMITED: ErrorAnswer(429, ("Retry-After",)),
        ErrorName.USAGE_EXCEEDED: ErrorAnswer(402),
        ErrorName.RESULT_MISSING: ErrorAnswer(404),
        ErrorName.RESIZE_FAILED: ErrorAnswer(500),
        ErrorName.RESIZE_TIMED_OUT: ErrorAnswer(504),
        ErrorName.STRUCTURE_FAILED: ErrorAnswer(422),
        ErrorName.UPLOAD_EXPIRED: ErrorAnswer(404),
    }


def _error_json(name: ErrorName, answer: ErrorAnswer) -> dict[str, Any]:
    """An error's entry: its status, and which optional headers it sends if it has any."""
    if name in OPTIONAL_HEADERS:
        return {"status": answer.status, "headers": list(answer.headers)}
    return {"status": answer.status}


class ProfileError(ValueError):
    """A profile document the mock cannot use; the message names the key."""


@dataclass(frozen=True)
class Profile:
    """Every open behaviour, at the mock's defaults unless a profile says otherwise."""

    errors: Mapping[ErrorName, ErrorAnswer] = field(default_factory=_default_errors)
    detail: DetailPlacement = DetailPlacement.HEADER
    pricing: PricingRule = PricingRule.EXAMPLES
    webhook_attempts: int = 3
    webhook_backoff_seconds: tuple[float, ...] = (1.0, 2.0)
    webhook_timeout_seconds: float = 10.0
    timeout_webhook: bool = True  # a job past the time limit gets a failure webhook
    result_order: ResultOrder = ResultOrder.BLENDED_SCORE
    usage_rule: UsageRule = UsageRule.REACHED
    partial_export_charge: PartialExportCharge = PartialExportCharge.MADE
    contract_edges: bool = False  # the contract_edges scenario on every request it applies to
    structure_calls: StructureCalls = StructureCalls.BOTH
    structure_credits_per_minute: int = 10  # of the source; unknown live: analyze's rate

    def error(self, name: ErrorName) -> ErrorAnswer:
        return self.errors[name]

    def to_json(self) -> dict[str, Any]:
        """The whole profile as its document, every key present."""
        return {
            "version": VERSION,
            "errors": {
                name.value: _error_json(name, answer) for name, answer in self.errors.items()
            },
            "messages": {"detail": self.detail.value},
            "pricing": self.pricing.value,
            "webhooks": {
                "attempts": self.webhook_attempts,
                "backoffSeconds": list(self.webhook_backoff_seconds),
                "timeoutSeconds": self.webhook_timeout_seconds,
                "onTimeout": self.timeout_webhook,
            },
            "resize": {"order": self.result_order.value},
            "usage": {
                "refuse": self.usage_rule.value,
                "partialExport": self.partial_export_charge.value,
            },
            "contractEdges": self.contract_edges,
            "structure": {
                "calls": self.structure_calls.value,
                "creditsPerMinute": self.structure_credits_per_minute,
            },
        }

    @classmethod
    def from_json(cls, document: object) -> Profile:
        """A profile from a (possibly partial) document; ProfileError naming the bad key."""
        check(document)
        assert isinstance(document, dict)
        merged = _merged(Profile().to_json(), document)
        webhooks, usage = merged["webhooks"], merged["usage"]
        return cls(
            errors={
                ErrorName(name): ErrorAnswer(answer["status"], tuple(answer.get("headers", ())))
                for name, answer in merged["errors"].items()
            },
            detail=DetailPlacement(merged["messages"]["detail"]),
            pricing=PricingRule(merged["pricing"]),
            webhook_attempts=webhooks["attempts"],
            webhook_backoff_seconds=tuple(float(s) for s in webhooks["backoffSeconds"]),
            webhook_timeout_seconds=float(webhooks["timeoutSeconds"]),
            timeout_webhook=webhooks["onTimeout"],
            result_order=ResultOrder(merged["resize"]["order"]),
            usage_rule=UsageRule(usage["refuse"]),
            partial_export_charge=PartialExportCharge(usage["partialExport"]),
            contract_edges=merged["contractEdges"],
            structure_calls=StructureCalls(merged["structure"]["calls"]),
            structure_credits_per_minute=merged["structure"]["creditsPerMinute"],
        )

    @classmethod
    def load(cls, path: Path) -> Profile:
        try:
            document = json.loads(path.read_text())
        except OSError as error:
            raise ProfileError(f"cannot read {path}: {error.strerror}") from None
        except ValueError as error:
            raise ProfileError(f"{path} is not JSON: {error}") from None
        return cls.from_json(document)

    def value_at(self, key: str) -> Any:
        """The value of dotted `key` in this profile's document; KeyError if there is no such
        key."""
        node: Any = self.to_json()
        for part in key.split("."):
            node = node[part]
        return node

    def with_values(self, values: Mapping[str, Any]) -> Profile:
        """This profile with each dotted key in `values` set to its value."""
        return Profile.from_json(_merged(self.to_json(), sparse(values)))


def keys() -> list[str]:
    """Every dotted key a profile can set, in document order."""
    return list(_leaves(Profile().to_json()))


def _leaves(node: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in node.items():
        if name == "version" and not prefix:
            continue
        if isinstance(value, Mapping):
            found |= _leaves(value, f"{prefix}{name}.")
        else:
            found[f"{prefix}{name}"] = value
    return found


def changed_keys(profile: Profile, base: Profile | None = None) -> dict[str, Any]:
    """The dotted keys whose value in `profile` differs from `base` (the defaults), with it."""
    mine, theirs = _leaves(profile.to_json()), _leaves((base or Profile()).to_json())
    return {key: value for key, value in mine.items() if theirs.get(key) != value}


def sparse(values: Mapping[str, Any]) -> dict[str, Any]:
    """A profile document holding only the dotted keys in `values` (and the version)."""
    document: dict[str, Any] = {"version": VERSION}
    for key, value in values.items():
        *parents, last = key.split(".")
        node = document
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return document


def _merged(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for name, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(merged.get(name), dict):
            merged[name] = _merged(merged[name], value)
        else:
            merged[name] = value
    return merged


@cache
def _property_names() -> dict[str, tuple[str, ...]]:
    """For each object in the schema by dotted path, the properties it takes (for hints)."""
    names: dict[str, tuple[str, ...]] = {}

    def walk(schema: Mapping[str, Any], path: str) -> None:
        properties = schema.get("properties", {})
        if properties:
            names[path] = tuple(properties)
        for name, sub in properties.items():
            walk(sub, f"{path}.{name}" if path else name)

    walk(load_schema(SCHEMA), "")
    return names


def check(document: object) -> None:
    """ProfileError naming every key of `document` that breaks `schemas/profile.json`, and every
    header an error cannot carry, in one message (a person fixes them all in one go)."""
    problems = [line for error in every_error(SCHEMA, document) for line in _explained(error)]
    if isinstance(document, dict) and isinstance(document.get("errors"), dict):
        problems += _header_problems(document["errors"])
    if len(problems) == 1:
        raise ProfileError(problems[0])
    if problems:
        raise ProfileError(f"{len(problems)} problems:\n" + "\n".join(f"  {p}" for p in problems))


def _header_problems(answers: dict[str, Any]) -> list[str]:
    problems = []
    for name, answer in answers.items():
        if name not in ErrorName.__members__.values() or not isinstance(answer, dict):
            continue  # the schema has said what is wrong with it
        allowed = OPTIONAL_HEADERS.get(ErrorName(name), ())
        for header in answer.get("headers", []):
            if header not in allowed:
                can = ", ".join(allowed) or "none"
                problems.append(
                    f"errors.{name}.headers: {header!r} is not a header this error can carry "
                    f"(it can carry: {can})"
                )
    return problems


def _explained(error: jsonschema.ValidationError) -> list[str]:
    path = ".".join(str(part) for part in error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = _property_names().get(path, ())
        unknown = [name for name in error.instance if name not in known]
        if unknown:
            return [_not_a_key(path, name, known) for name in unknown]
    return [f"{path or 'the document'}: {error.message}"]


def _not_a_key(path: str, name: str, known: tuple[str, ...]) -> str:
    key = f"{path}.{name}" if path else name
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{key}: not a profile key (here: {', '.join(known)}){hint}"
