"""The layout is the architecture: the engine <- the domain <- the jobs <- the web layer <- the
entry points, checked on every module's parsed imports (relative ones included), not by grep."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import mock_server

PACKAGE = Path(mock_server.__file__).resolve().parent
ENGINE, DOMAIN, JOBS, WEB, ENTRY = range(5)
LAYER_NAMES = {
    ENGINE: "the engine",
    DOMAIN: "the domain",
    JOBS: "the jobs",
    WEB: "the web layer",
    ENTRY: "entry",
}
# The first part of a module's name under mock_server -> its layer; anything else is the domain
# (the flat modules, contract/ and faults/).
LAYER_OF = {
    "audio": ENGINE,
    "jobs": JOBS,
    "services": JOBS,  # builds the running backend: the runner with everything it needs
    "web": WEB,
    "server": ENTRY,
    "cli": ENTRY,
    "testing": ENTRY,
    "proxy": ENTRY,
    "pytest_plugin": ENTRY,
    "__main__": ENTRY,
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return ENTRY  # mock_server itself: the public surface
    return LAYER_OF.get(parts[1], DOMAIN)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module `source` (the text of `module`) imports, relative imports resolved."""
    tree = ast.parse(source)
    here = module.split(".")
    package = here if is_package else here[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            imported = ".".join([*base, *([node.module] if node.module else [])])
            found.add(imported)
            found.update(f"{imported}.{alias.name}" for alias in node.names)
    return found


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    own = layer(module)
    broken: list[str] = []
    reported_modules: list[str] = []
    for imported in sorted(imports_of(source, module, is_package)):
        if imported == "aiohttp.web" and own < WEB:
            broken.append(f"{module} ({LAYER_NAMES[own]}) imports aiohttp's web layer")
        if not imported.startswith("mock_server.") or imported == "mock_server.__version__":
            continue
        if any(imported.startswith(f"{reported}.") for reported in reported_modules):
            continue  # `from x import y` is one broken import, not two (x, then x.y)
        target = layer(imported)
        if own != ENTRY and (target > own or (own == ENGINE and target != ENGINE)):
            broken.append(f"{module} ({LAYER_NAMES[own]}) imports {imported}")
            reported_modules.append(imported)
    return broken


def package_violations(package: Path) -> list[str]:
    """Every broken rule in the package at `package` (the real one, or a copy of it)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        module = module_name(path, package)
        found.extend(violations(path.read_text(), module, path.name == "__init__.py"))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_only_down_the_layers(path: Path) -> None:
    module = module_name(path)
    assert violations(path.read_text(), module, path.name == "__init__.py") == []


@pytest.mark.parametrize(
    ("source", "module", "broken"),
    [
        ("from ..web import app\n", "mock_server.audio.fake", "mock_server.web"),
        ("from .. import jobs\n", "mock_server.audio.fake", "mock_server.jobs"),
        ("from ..web.handlers import x\n", "mock_server.jobs.runner", "mock_server.web.handlers"),
        ("from ..jobs.runner import Job\n", "mock_server.contract.rules", "mock_server.jobs"),
        (
            "from mock_server.services import S\n",
            "mock_server.faults.edges",
            "mock_server.services",
        ),
        ("from .jobs import runner\n", "mock_server.journal", "mock_server.jobs"),
        ("import mock_server.server\n", "mock_server.web.fake", "mock_server.server"),
        ("from aiohttp import web\n", "mock_server.journal", "aiohttp's web layer"),
        ("from aiohttp import web\n", "mock_server.jobs.runner", "aiohttp's web layer"),
    ],
)
def test_the_checker_catches_upward_imports_relative_or_not(
    source: str, module: str, broken: str
) -> None:
    """Without this, the test above could pass on imports it fails to resolve."""
    found = violations(source, module)
    assert found and broken in found[0], found


def test_the_checker_allows_what_points_down() -> None:
    assert (
        violations("from .. import clock\nfrom ..audio import decode\n", "mock_server.jobs.runner")
        == []
    )
    assert violations("from ..contract import rules\n", "mock_server.jobs.runner") == []
    assert violations("from ..jobs import Job\n", "mock_server.web.fake") == []
    assert violations("from mock_server.jobs.runner import Job\n", "mock_server.services") == []


@pytest.mark.parametrize(
    ("into", "line"),
    [
        ("contract/rules.py", "from mock_server.jobs.runner import JobRunner\n"),
        ("faults/arming.py", "from ..web import errors\n"),
        ("jobs/operations.py", "from mock_server.web.keys import SERVICES\n"),
        ("audio/cuts.py", "from mock_server.contract import results\n"),
    ],
)
def test_the_checker_finds_one_back_reference_injected_into_a_copy_of_the_package(
    tmp_path: Path, into: str, line: str
) -> None:
    """The real package, copied whole, is clean; one import that runs back up, added to one of
    its modules, is exactly what the checker reports."""
    copy = tmp_path / "mock_server"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("data", "__pycache__"))
    assert package_violations(copy) == []
    target = copy / into
    target.write_text(target.read_text() + line)
    found = package_violations(copy)
    assert len(found) == 1, found
    assert found[0].startswith(module_name(target, copy)), found


def test_the_engine_loads_without_the_server() -> None:
    """A worker process imports the engine alone: neither aiohttp's web layer nor the app."""
    probe = (
        "import sys, mock_server, mock_server.audio.analysis, mock_server.audio.export; "
        "print(sorted(m for m in sys.modules if m.startswith(('aiohttp.web', 'mock_server.web'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_public_surface() -> None:
    from mock_server.pytest_plugin import AudjustMock as FromThePlugin
    from mock_server.testing.inprocess import AudjustMock, MockServer

    assert mock_server.MockServer is MockServer and mock_server.AudjustMock is AudjustMock
    assert FromThePlugin is AudjustMock  # the import path earlier versions documented
    assert set(mock_server.__all__) == {"AudjustMock", "MockServer", "Settings", "__version__"}
    with pytest.raises(AttributeError):
        _ = mock_server.create_app
