"""The tests moved to mirror the package (issue 25) are all still here: every id from before the
move maps to one test that exists now, and no two old ids share one."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from tests.support import ROOT

MAP = Path(__file__).with_name("moved_ids.txt")
IDS_BEFORE_THE_MOVE = 1158


def moved() -> list[tuple[str, str]]:
    pairs = []
    for line in MAP.read_text().splitlines():
        if line and not line.startswith("#"):
            old, new = line.split(" -> ")
            pairs.append((old, new))
    return pairs


@functools.cache
def defined_tests(path: str) -> frozenset[str]:
    """The test functions `path` defines at its top level."""
    tree = ast.parse((ROOT / path).read_text())
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    )


def test_every_old_id_maps_to_one_distinct_new_one() -> None:
    pairs = moved()
    assert len(pairs) == IDS_BEFORE_THE_MOVE
    assert len({new for _, new in pairs}) == len(pairs)


def test_every_new_id_names_a_test_that_exists() -> None:
    missing = []
    for _, new in moved():
        path, _, rest = new.partition("::")
        name = rest.split("[")[0]
        if not (ROOT / path).is_file() or name not in defined_tests(path):
            missing.append(new)
    assert missing == []
