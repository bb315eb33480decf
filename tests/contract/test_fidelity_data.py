"""The ledger as data: mock_server/data/fidelity.toml is refused when it breaks its schema, and
every quote in it is the reference's own words.

The reference text lives beside the repository (`../shared/reference/audjust-api.txt`), on every
development machine and in CI. Outside CI a checkout without it skips the quote check; in CI
(the environment variable CI set) a missing reference fails it, so the check cannot quietly stop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mock_server.contract import fidelity
from mock_server.contract.fidelity import LEDGER, Basis, load
from mock_server.contract.profile import Profile
from tests.support import reference_notes, reference_words, words

QUOTED = [(entry.id, quote) for entry in LEDGER for quote in entry.quotes]


@pytest.fixture(scope="module")
def reference() -> str:
    return reference_words()


@pytest.mark.parametrize(("entry_id", "quote"), QUOTED, ids=[f"{i}:{q[:30]}" for i, q in QUOTED])
def test_every_quote_is_the_references_own_words(reference: str, entry_id: str, quote: str) -> None:
    assert words(quote) in reference, f"{entry_id}: not word for word in the reference: {quote!r}"


def test_what_the_reference_says_or_shows_is_quoted() -> None:
    resting = [entry for entry in LEDGER if entry.basis is not Basis.CHOICE]
    assert resting and all(entry.quotes or entry.notes_items for entry in resting)


# Items of the notes on the newer endpoints: 1-7 from Audjust's own pages, 8-11 a public client.
OFFICIAL_ITEMS = range(1, 8)


def test_every_notes_item_cited_exists_and_documented_rows_cite_audjusts_own() -> None:
    """A documented row rests on Audjust's own words (items 1-7), never on a client's usage;
    every item cited is one the notes number."""
    notes = reference_notes()
    numbered = {int(line.split(".")[0]) for line in notes.splitlines() if line[:1].isdigit()}
    cited = [entry for entry in LEDGER if entry.notes_items]
    assert cited
    for entry in cited:
        assert set(entry.notes_items) <= numbered, entry.id
        if entry.basis is Basis.DOCUMENTED:
            assert set(entry.notes_items) <= set(OFFICIAL_ITEMS), entry.id


# --- refused when it breaks the schema ----------------------------------------------------------

ENTRY = """
[[entry]]
id = "auth.header"
behaviour = "the key travels in the X-API-Key header"
mock_does = "a request without it is refused"
basis = "documented"
source = "Authentication"
quote = "include it in the X-API-Key HTTP header"
contract_test = "test_errors.py::test_missing_key_is_refused"
"""


def _ledger(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fidelity.toml"
    path.write_text(text)
    return path


def test_a_well_formed_entry_loads(tmp_path: Path) -> None:
    (loaded,) = load(_ledger(tmp_path, ENTRY))
    assert loaded.basis is Basis.DOCUMENTED
    assert loaded.quotes == ("include it in the X-API-Key HTTP header",)
    assert loaded.profile_key is None and loaded.unobserved is None


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('basis = "documented"', 'basis = "inferred"'),  # the old words are gone
        ('quote = "include it in the X-API-Key HTTP header"\n', ""),  # documented, unquoted
        ("mock_does =", "mock_did ="),  # a misspelt field
        ('contract_test = "test_errors.py::test_missing_key_is_refused"', ""),  # neither
        ("contract_test =", 'unobserved = "never"\ncontract_test ='),  # both
        ('id = "auth.header"', 'id = "auth header"'),
    ],
)
def test_an_entry_that_breaks_the_schema_is_refused(tmp_path: Path, old: str, new: str) -> None:
    assert old in ENTRY
    with pytest.raises(jsonschema.ValidationError):
        load(_ledger(tmp_path, ENTRY.replace(old, new)))


def test_a_repeated_id_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"ids repeat: auth\.header"):
        load(_ledger(tmp_path, ENTRY * 2))


def test_an_entry_is_found_by_id_or_refused() -> None:
    assert fidelity.entry("ack.status").mock_does == "200"
    with pytest.raises(KeyError):
        fidelity.entry("ack.nothing")


def test_the_served_entry_carries_its_quotes() -> None:
    served: dict[str, Any] = fidelity.entry("rate_limit.number").to_json(Profile())
    assert served["quotes"] == ["Requests are rate limited (currently 100 requests per minute)."]
    assert served["what"] == "how many requests are admitted" and served["basis"] == "documented"
