"""Every rule the checking proxy applies names a ledger row that exists, on every route it applies
to, and its grade is that row's basis, never the rule's own: re-auditing a row re-grades it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mock_server.contract import conformance, layers, rulebook
from mock_server.contract.fidelity import LEDGER, Basis, entry
from mock_server.contract.rulebook import PAYLOADS, ROUTES, RULES, Grade, Rule, grade, row_of

ROWS = {each.id for each in LEDGER}


@pytest.mark.parametrize("name", sorted(RULES))
def test_every_rule_names_a_ledger_row_on_every_route(name: str) -> None:
    rule = RULES[name]
    for route in ROUTES:
        row = rule.row_for(route)
        assert row in ROWS, f"{name} on /{route}: {row} is not a ledger row"


def test_a_rule_of_each_routes_own_promise_covers_every_route() -> None:
    assert set(PAYLOADS) == set(ROUTES)
    for name, rule in RULES.items():
        if not isinstance(rule.row, str):
            assert set(rule.row) == set(ROUTES), name


def test_the_schema_layers_name_ledger_rows() -> None:
    assert {reading.row for reading in layers.READINGS} <= ROWS


@pytest.mark.parametrize(
    ("basis", "expected"),
    [
        (Basis.DOCUMENTED, Grade.VIOLATION),
        (Basis.READING, Grade.FINDING),
        (Basis.CHOICE, Grade.OBSERVED),
    ],
)
def test_the_grade_is_the_rows_basis(basis: Basis, expected: Grade) -> None:
    rows = [name for name in RULES for route in ROUTES if entry(row_of(name, route)).basis is basis]
    assert rows, f"no rule stands for a {basis} row"
    for name in rows:
        for route in ROUTES:
            if entry(row_of(name, route)).basis is basis:
                assert grade(row_of(name, route)) is expected


def test_a_departure_is_graded_by_its_row_not_its_rule() -> None:
    """The schema rule of an acknowledgement is documented (ack.queued); its literal, a reading
    of the examples, departs as a finding under the same rule."""
    ack = {"success": True, "message": "Queued", "requestId": "a" * 32}
    ack["resultUrl"] = f"https://results.example/{'a' * 32}/analysis.json"
    found = conformance._Found("answer", "analyze", None, [])
    assert found.schema("queued-response", ack)
    assert [(d.rule, d.row, d.grade) for d in found.items] == [
        ("schema:queued-response", "ack.literals", Grade.FINDING)
    ]
    assert not found.schema("queued-response", {k: v for k, v in ack.items() if k != "requestId"})
    missing = [d for d in found.items if d.row == "ack.queued"]
    assert [(d.rule, d.grade) for d in missing] == [("schema:queued-response", Grade.VIOLATION)]


def test_no_rule_names_its_grade_in_code() -> None:
    """Grades are read from the ledger: neither the rulebook nor conformance names a Basis or
    builds a Grade of its own beyond the one table."""
    for module in (rulebook, conformance):
        tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
        named = [
            node.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Basis"
        ]
        expected = ["DOCUMENTED", "READING", "CHOICE"] if module is rulebook else []
        assert named == expected, module.__name__


def test_a_rule_reads_a_row_for_a_route() -> None:
    per_route = Rule("x", {"analyze": "analyze.payload", "resize": "resize.payload"})
    assert per_route.row_for("resize") == "resize.payload"
    assert Rule("x", "ack.queued").row_for("export") == "ack.queued"
