"""No class name is defined twice in the package: a name says which class it is, so a reader
(or an import) never has to tell two `Exchange`s apart."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import mock_server

PACKAGE = Path(mock_server.__file__).resolve().parent


def classes_by_name(package: Path) -> dict[str, list[str]]:
    """Each class name defined anywhere under `package` -> the modules (and lines) defining it."""
    defined: dict[str, list[str]] = defaultdict(list)
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef):
                defined[node.name].append(f"{path.relative_to(package)}:{node.lineno}")
    return defined


def test_no_class_name_is_defined_twice() -> None:
    twice = {name: where for name, where in classes_by_name(PACKAGE).items() if len(where) > 1}
    assert twice == {}


def test_the_check_sees_classes_in_two_modules(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("class Exchange:\n    pass\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "c.py").write_text("def f():\n    class Exchange: ...\n")
    assert classes_by_name(tmp_path)["Exchange"] == ["a.py:1", "b/c.py:2"]
