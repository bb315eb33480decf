"""The schemas in two layers: what the reference documents (fields, their JSON types, structure)
and what its examples only suggest (integer types, ranges, patterns, literals, counts).

The files in `schemas/` state both at once, as strict as the mock is. `graded_errors` validates
against them and sorts each error into the layer it belongs to: an error listed in `READINGS` (by
the keyword that failed and where in the document) is a reading, named by its ledger row; every
other error is documented (one row of the table is a choice: a request's unknown field). So the
contract suite and the checking proxy can fail a missing field and only report a tempo of 99.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jsonschema import ValidationError

from mock_server.contract import schemas

ANY = "*"  # matches any key or index in a location


@dataclass(frozen=True)
class Reading:
    """Errors of one of `keywords` at `location` (keys and indices from the document's root,
    ANY for any one; for `required`, the missing field's name last) are the reading `row`."""

    keywords: frozenset[str]
    location: tuple[str, ...]
    row: str
    schemas: frozenset[str] | None = None  # the schemas it applies to; None: all

    def matches(self, schema: str, keyword: str, location: Sequence[str]) -> bool:
        if self.schemas is not None and schema not in self.schemas:
            return False
        if keyword not in self.keywords or len(location) != len(self.location):
            return False
        return all(want in (ANY, got) for want, got in zip(self.location, location, strict=True))


RANGE = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"})
COUNT = frozenset({"minItems", "maxItems"})
# An integer where the examples show one: a reading only while the value is still a JSON number
# (`graded_errors` checks); a string where a number is documented stays documented.
INTEGER = frozenset({"type"})

# The acknowledgements and results, whose success and message values are the examples' (an
# error's body has no example at all: error-response is the mock's choice, error.envelope).
LITERAL = frozenset(
    {
        "queued-response",
        "export-queued-response",
        "analyze-webhook",
        "resize-webhook",
        "export-webhook",
    }
)

# /structure's answer: nothing of it is documented. What the known client reads (top-level
# sections of startMs, endMs and label) is a reading; the schema states nothing of the envelope
# around them, which is the mock's choice.
STRUCTURE = frozenset({"structure-response"})
SHAPE = frozenset({"type", "required", "minItems"}) | RANGE
# A request's fields beyond its endpoint's list: the reference lists parameters, not what becomes
# of others (a choice; the only row of this table that is not a reading).
REQUESTS = frozenset(
    {"analyze-request", "resize-request", "export-request", "structure-request", "upload-request"}
)

READINGS = (
    Reading(frozenset({"additionalProperties"}), (), "request.unknown_fields", REQUESTS),
    Reading(SHAPE, ("sections", ANY, "label"), "structure.labels", STRUCTURE),
    Reading(SHAPE, ("sections",), "structure.sections", STRUCTURE),
    Reading(SHAPE, ("sections", ANY), "structure.sections", STRUCTURE),
    Reading(SHAPE, ("sections", ANY, ANY), "structure.sections", STRUCTURE),
    Reading(frozenset({"pattern"}), ("requestId",), "ack.request_id"),
    Reading(frozenset({"const", "required"}), ("success",), "ack.literals", LITERAL),
    Reading(frozenset({"const", "required"}), ("message",), "ack.literals", LITERAL),
    Reading(INTEGER | RANGE, ("creditCost",), "credits.rounding"),
    Reading(INTEGER | RANGE, ("result", "tempo"), "analyze.tempo"),
    Reading(RANGE, ("result", "features", ANY, ANY), "analyze.feature_values"),
    Reading(INTEGER | RANGE, ("result", "similarity", "min"), "analyze.similarity_codes"),
    Reading(INTEGER | RANGE, ("result", "similarity", "max"), "analyze.similarity_codes"),
    Reading(RANGE | COUNT, ("result", "boundaries"), "analyze.boundaries"),
    Reading(RANGE, ("result", "boundaries", ANY), "analyze.boundaries"),
)


@dataclass(frozen=True)
class Graded:
    """A document's errors against one schema, by layer."""

    documented: tuple[str, ...]  # each error's message, with where it is
    readings: tuple[tuple[str, str], ...]  # (ledger row, message)


@dataclass(frozen=True)
class LayeredError:
    """One error of a document against a schema: where, what, and the row of its layer (None:
    the documented layer, whose row is the document's own)."""

    path: tuple[str, ...]
    message: str
    row: str | None

    def said(self) -> str:
        return f"{'/'.join(self.path) or '(root)'}: {self.message}"


def layered_errors(name: str, document: object) -> list[LayeredError]:
    """`document`'s errors against schema `name`, each with its layer's row."""
    found = []
    for error in schemas.errors(name, document):
        where = [str(part) for part in error.absolute_path]
        found.append(LayeredError(tuple(where), error.message, _reading(name, error, where)))
    return found


def graded_errors(name: str, document: object) -> Graded:
    """`document`'s errors against schema `name`, documented apart from readings."""
    errors = layered_errors(name, document)
    documented = tuple(e.said() for e in errors if e.row is None)
    readings = tuple((e.row, e.said()) for e in errors if e.row is not None)
    return Graded(documented, readings)


def _reading(schema: str, error: ValidationError, where: list[str]) -> str | None:
    keyword = str(error.validator)
    if keyword == "required":
        fields: list[str] = (
            list(error.validator_value) if isinstance(error.validator_value, list) else []
        )
        missing = [f for f in fields if repr(f) in error.message]
        where = [*where, *missing[:1]]
    if keyword == "type" and not _is_number(error.instance) and schema not in STRUCTURE:
        return None  # a string where a number is documented (nothing of a structure is)
    return next((r.row for r in READINGS if r.matches(schema, keyword, where)), None)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
