"""The layout is the architecture: the engine <- the domain <- the web layer <- the entry points,
checked on every module's parsed imports (relative ones included), not by grep."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import mock_server

PACKAGE = Path(mock_server.__file__).resolve().parent
ENTRY_POINTS = {
    "server",
    "cli",
    "testing",
    "remote",
    "proxy",
    "pytest_plugin",
    "__main__",
    "__init__",
}
ENGINE, DOMAIN, WEB, ENTRY = 0, 1, 2, 3
LAYER_NAMES = {ENGINE: "the engine", DOMAIN: "the domain", WEB: "the web layer", ENTRY: "entry"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] == "audio":
        return ENGINE
    if len(parts) > 1 and parts[1] == "web":
        return WEB
    if len(parts) == 1 or parts[1] in ENTRY_POINTS:
        return ENTRY
    return DOMAIN


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
    broken = []
    for imported in sorted(imports_of(source, module, is_package)):
        if imported == "aiohttp.web" and own < WEB:
            broken.append(f"{module} ({LAYER_NAMES[own]}) imports aiohttp's web layer")
        if not imported.startswith("mock_server.") or imported == "mock_server.__version__":
            continue
        target = layer(imported)
        if own != ENTRY and (target > own or (own == ENGINE and target != ENGINE)):
            broken.append(f"{module} ({LAYER_NAMES[own]}) imports {imported}")
    return broken


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
        ("from .web.handlers import x\n", "mock_server.jobs", "mock_server.web.handlers"),
        ("import mock_server.server\n", "mock_server.web.fake", "mock_server.server"),
        ("from aiohttp import web\n", "mock_server.journal", "aiohttp's web layer"),
    ],
)
def test_the_checker_catches_upward_imports_relative_or_not(
    source: str, module: str, broken: str
) -> None:
    """Without this, the test above could pass on imports it fails to resolve."""
    found = violations(source, module)
    assert found and broken in found[0], found


def test_the_checker_allows_what_points_down() -> None:
    assert violations("from . import clock\nfrom .audio import decode\n", "mock_server.jobs") == []
    assert violations("from ..jobs import Job\n", "mock_server.web.fake") == []


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
    from mock_server.testing import AudjustMock, MockServer

    assert mock_server.MockServer is MockServer and mock_server.AudjustMock is AudjustMock
    assert FromThePlugin is AudjustMock  # the import path earlier versions documented
    assert set(mock_server.__all__) == {"AudjustMock", "MockServer", "Settings", "__version__"}
    with pytest.raises(AttributeError):
        _ = mock_server.create_app
