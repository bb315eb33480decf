"""No assertion of the contract suite lacks a ledger row: every `assert`, every rule of
`mock_server.contract.rules` and every JSON parse of an answer runs inside a `promise("row")`
block, or is a `check` / `conforms` call naming its row, and every row named is in the ledger.
So each assertion's verdict (failure, finding, observed) follows the basis of the promise it
checks, never a wholesale rule (contract_tests/verdicts.py).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

from contract_tests.verdicts import Grader, Readings
from mock_server.contract import layers
from mock_server.contract.fidelity import LEDGER, Basis, entry
from mock_server.contract.rulebook import LISTED_ROWS
from tests.support import ROOT

SUITE = sorted((ROOT / "contract_tests").glob("*.py"))
# The graded helper itself raises what it grades.
HELPER = "verdicts.py"
NAMED = ("check", "conforms")  # calls whose first argument is the row
GRADED_CALLS = ("json",)  # Answer.json raises AssertionError: it belongs inside a promise
ROWS = {each.id for each in LEDGER}


@dataclass(frozen=True)
class Ungraded:
    file: str
    line: int
    what: str


def _promise(node: ast.expr) -> ast.expr | None:
    """The row argument of a `promise(row)` call."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return None
    return node.args[0] if node.func.attr == "promise" and node.args else None


class _Scan(ast.NodeVisitor):
    """Walks one module: what asserts outside a promise, and which rows are named."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.depth = 0
        self.ungraded: list[Ungraded] = []
        self.named: list[tuple[int, str]] = []

    def visit_With(self, node: ast.With) -> None:
        rows = [row for item in node.items if (row := _promise(item.context_expr))]
        constant = [row.value for row in rows if isinstance(row, ast.Constant)]
        self.named += [(node.lineno, str(row)) for row in constant]
        self.depth += bool(rows)
        self.generic_visit(node)
        self.depth -= bool(rows)

    def visit_Assert(self, node: ast.Assert) -> None:
        self._graded(node, "assert")
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        raised = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(raised, ast.Name) and raised.id == "AssertionError":
            self._graded(node, "raise AssertionError")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value
            if isinstance(owner, ast.Name) and owner.id == "rules" and _raises(func.attr):
                self._graded(node, f"rules.{func.attr}")
            if func.attr in GRADED_CALLS and not node.args:
                self._graded(node, f".{func.attr}()")
            if func.attr in NAMED and node.args and isinstance(node.args[0], ast.Constant):
                self.named.append((node.lineno, str(node.args[0].value)))
        self.generic_visit(node)

    def _graded(self, node: ast.stmt | ast.expr, what: str) -> None:
        if self.depth == 0:
            self.ungraded.append(Ungraded(self.file, node.lineno, what))


def _raises(name: str) -> bool:
    return name.startswith("check_") or name == "matching_rules"


def _scan(path: Path) -> _Scan:
    scan = _Scan(path.name)
    scan.visit(ast.parse(path.read_text(encoding="utf-8")))
    return scan


def _answer_json_lines() -> set[int]:
    """The lines of Answer.json's own raise: the definition, not a use."""
    tree = ast.parse((ROOT / "contract_tests" / "session.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "json":
            return {n.lineno for n in ast.walk(node) if isinstance(n, ast.Raise)}
    return set()


def test_every_assertion_of_the_suite_runs_inside_a_promise() -> None:
    exempt = _answer_json_lines()
    ungraded = [
        u
        for path in SUITE
        if path.name != HELPER
        for u in _scan(path).ungraded
        if not (u.file == "session.py" and u.line in exempt)
    ]
    assert not ungraded, "\n".join(f"{u.file}:{u.line}: {u.what}" for u in ungraded)


def test_every_row_the_suite_names_is_in_the_ledger() -> None:
    named = [(path.name, line, row) for path in SUITE for line, row in _scan(path).named]
    assert len(named) > 40, named
    missing = [f"{file}:{line}: {row}" for file, line, row in named if row not in ROWS]
    assert not missing, missing


def test_each_listed_error_is_checked_by_its_documented_row() -> None:
    """test_errors.py names its rows through rulebook.LISTED_ROWS, which the scan cannot read."""
    for message, row in LISTED_ROWS.items():
        assert entry(row).basis is Basis.DOCUMENTED, message


def test_the_scan_sees_an_assertion_outside_a_promise(tmp_path: Path) -> None:
    module = tmp_path / "test_x.py"
    module.write_text(
        "def test_x(contract, answer):\n"
        "    with contract.promise('ack.queued'):\n"
        "        assert answer\n"
        "    assert answer.status == 200\n"
        "    rules.check_tempo(answer.json())\n"
        "    contract.check('no.such.row', True, '')\n"
    )
    scan = _scan(module)
    assert [(u.line, u.what) for u in scan.ungraded] == [
        (4, "assert"),
        (5, "rules.check_tempo"),
        (5, ".json()"),
    ]
    assert [row for _, row in scan.named] == ["ack.queued", "no.such.row"]


def test_the_schema_layers_name_rows_that_are_not_documented() -> None:
    for reading in layers.READINGS:
        expected = Basis.CHOICE if reading.row == "request.unknown_fields" else Basis.READING
        assert entry(reading.row).basis is expected, reading.row


@pytest.mark.parametrize(
    ("basis_row", "readings", "published", "fails"),
    [
        ("resize.segments", Readings.REPORT, None, True),
        ("analyze.tempo", Readings.REPORT, None, False),
        ("analyze.tempo", Readings.ENFORCE, None, True),
        ("result.document", Readings.ENFORCE, None, False),
        ("result.document", Readings.ENFORCE, {"result.document": {}}, True),
        ("result.document", Readings.REPORT, {"result.document": {}}, False),
    ],
)
def test_the_verdict_follows_the_basis(
    basis_row: str, readings: Readings, published: dict[str, object] | None, fails: bool
) -> None:
    grader = Grader(readings, published)
    if fails:
        with pytest.raises(AssertionError, match="seen"):
            grader.check(basis_row, False, "seen")
    else:
        grader.check(basis_row, False, "seen")
        assert [(n.entry.id, n.seen) for n in grader.noted] == [(basis_row, "seen")]
