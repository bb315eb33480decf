"""The fidelity ledger: every behaviour a client can observe, what the mock does, and on what
basis, with the profile key that changes it and the contract test that observes it on a live
target.

The entries are data a person edits, `mock_server/data/fidelity.toml` (shipped in the wheel),
checked against `schemas/fidelity.json` when this module loads, so a misspelt field or basis
fails at import, not in a rendered page. This module types them, serves them at
`GET /_mock/fidelity` and renders docs/fidelity.md (`python -m mock_server.contract.fidelity >
docs/fidelity.md`); the contract suite's report marks each entry confirmed, refuted or not
observed. Tests keep it true: every quote is the reference's own words, every contract test
named exists, every profile key is listed, and flipping each key changes what a test observes.
"""

from __future__ import annotations

import sys
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from mock_server.contract import schemas
from mock_server.contract.profile import Profile

LEDGER_FILE = Path(__file__).resolve().parent.parent / "data" / "fidelity.toml"
SCHEMA = "fidelity"


class Basis(StrEnum):
    """What an entry rests on. A status class is a reading; an exact status code a choice."""

    DOCUMENTED = "documented"  # a sentence of the reference says it
    READING = "reading"  # the reference's examples suggest it: literals, types, ranges, shapes
    CHOICE = "choice"  # the mock's own; the reference is silent


# How docs/fidelity.md explains each basis, in the order the words are introduced.
BASIS_MEANING = {
    Basis.DOCUMENTED: "a sentence of the reference says it, quoted word for word",
    Basis.READING: "inferred from the reference's examples: literals, exact types, ranges, the "
    "id format, counts, the result URL's shape, status classes",
    Basis.CHOICE: "the mock's own; the reference is silent (an exact status code is one)",
}


@dataclass(frozen=True, kw_only=True)
class Entry:
    """One behaviour; the fields are those of a `[[entry]]` in fidelity.toml."""

    id: str
    behaviour: str  # as a client sees it
    mock_does: str  # by default
    basis: Basis
    source: str  # the reference's section or example it rests on, or why it is a choice
    quotes: tuple[str, ...] = ()  # the reference's words, verbatim
    # Items of audjust-api-gen2-notes.md: what is known of the newer endpoints, and from where.
    notes_items: tuple[int, ...] = ()
    profile_key: str | None = None  # the dotted profile key that changes it
    contract_test: str | None = None  # FILE::FUNCTION in contract_tests/ that observes it
    unobserved: str | None = None  # why no contract run observes it (with no contract_test)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> Entry:
        """An entry from its TOML table, whose `quote` is one string or a list of them."""
        fields = {k: v for k, v in table.items() if k not in ("quote", "notes_item")}
        quote = table.get("quote", ())
        quotes = (quote,) if isinstance(quote, str) else tuple(quote)
        item = table.get("notes_item", ())
        items = (item,) if isinstance(item, int) else tuple(item)
        basis = Basis(table["basis"])
        return cls(**{**fields, "basis": basis, "quotes": quotes, "notes_items": items})

    def to_json(self, profile: Profile) -> dict[str, Any]:
        """The entry as `GET /_mock/fidelity` serves it, with its key's value in `profile`."""
        value = profile.value_at(self.profile_key) if self.profile_key else None
        return {
            "id": self.id,
            "what": self.behaviour,
            "does": self.mock_does,
            "basis": self.basis.value,
            "source": self.source,
            "quotes": list(self.quotes),
            "notesItems": list(self.notes_items),
            "profileKey": self.profile_key,
            "value": value,
            "contractTest": self.contract_test,
            "unobserved": self.unobserved,
        }


def load(path: Path = LEDGER_FILE) -> tuple[Entry, ...]:
    """The ledger in `path`. Raises jsonschema.ValidationError when it breaks
    schemas/fidelity.json, and ValueError when two entries share an id (which no schema says)."""
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    schemas.validate(SCHEMA, document)
    entries = tuple(Entry.from_table(table) for table in document["entry"])
    repeated = sorted(name for name, count in Counter(e.id for e in entries).items() if count > 1)
    if repeated:
        raise ValueError(f"{path.name}: ids repeat: {', '.join(repeated)}")
    return entries


LEDGER: tuple[Entry, ...] = load()


def entry(entry_id: str) -> Entry:
    """The entry `entry_id`; KeyError when there is none."""
    for found in LEDGER:
        if found.id == entry_id:
            return found
    raise KeyError(entry_id)


def to_json(profile: Profile) -> dict[str, Any]:
    """`GET /_mock/fidelity`: the ledger, with each profile key's value in `profile`."""
    return {
        "profile": profile.to_json(),
        "behaviours": [each.to_json(profile) for each in LEDGER],
    }


def markdown() -> str:
    """docs/fidelity.md."""
    bases = "; ".join(f"**{basis}** ({meaning})" for basis, meaning in BASIS_MEANING.items())
    lines = [
        "# Fidelity: every behaviour, and what it rests on",
        "",
        "<!-- Generated by `python -m mock_server.contract.fidelity > docs/fidelity.md` from "
        "mock_server/data/fidelity.toml; tests/contract/test_fidelity.py checks it. -->",
        "",
        "What a client of the Audjust API can observe, what audjust-mock does, and why: "
        f"{bases}. Each quote is checked word for word against the reference. A profile key "
        "changes the behaviour (`serve --profile FILE`, see [profiles](profiles.md)); the "
        "contract test observes it on any target, the live API included, and "
        "`pytest contract_tests --observed-profile FILE` writes what it saw as a profile. "
        "The running mock serves this table, with its profile's values, at `GET /_mock/fidelity`. "
        "To change an entry, edit mock_server/data/fidelity.toml and regenerate this page.",
        "",
        "| behaviour | audjust-mock does | basis | source | profile key | observed by |",
        "|---|---|---|---|---|---|",
    ]
    for each in LEDGER:
        key = f"`{each.profile_key}`" if each.profile_key else ""
        observed = f"`{each.contract_test}`" if each.contract_test else ""
        seen = observed or f"not observed: {each.unobserved}"
        cells = [each.behaviour, each.mock_does, each.basis.value, _source(each), key, seen]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def _source(each: Entry) -> str:
    """The source, then the reference's words in quotation marks, then the items of the notes on
    the newer endpoints it rests on."""
    items = ", ".join(str(item) for item in each.notes_items)
    cited = [f"gen2 notes, item {items}"] if items else []
    return "; ".join([each.source, *(f"“{quote}”" for quote in each.quotes), *cited])


if __name__ == "__main__":
    sys.stdout.write(markdown())
