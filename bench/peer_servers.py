"""The peers a user would otherwise pick, installed and described: Prism and Mockoon serving the
mock's own OpenAPI document, WireMock serving one stub for the ack, Prism's validation proxy in
front of a mock, and wrk to load them all.

Each npm package is pinned, so a rerun measures the same peer, and installed into `.peers/`
(ignored by git), so nothing reaches the project's own environment. A peer whose runtime is
missing or whose install fails is skipped with the reason; the others still run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import ROOT
from mock_server.contract.schemas import bundled_openapi
from mock_server.contract.wire import KEY_HEADER
from mock_server.settings import DEFAULT_KEY

PEERS_DIR = ROOT / ".peers"
INSTALL_TIMEOUT = 120  # seconds per command; a cold npm install of one peer here takes 10-30 s

# What WireMock's one stub answers: the reference's acknowledgement, a fixed request id in it.
STUB_ACK: dict[str, Any] = {
    "success": True,
    "message": "Request queued.",
    "requestId": "0123456789abcdef0123456789abcdef",
    "resultUrl": "http://127.0.0.1:8081/0123456789abcdef0123456789abcdef/analysis.json",
}


@dataclass(frozen=True)
class Package:
    """An npm package at the version the bench measures."""

    name: str
    version: str

    @property
    def folder(self) -> Path:
        return PEERS_DIR / "node_modules" / self.name

    def installed(self) -> bool:
        manifest = self.folder / "package.json"
        return manifest.is_file() and json.loads(manifest.read_text())["version"] == self.version


PRISM = Package("@stoplight/prism-cli", "5.16.0")
MOCKOON = Package("@mockoon/cli", "9.9.0")
WIREMOCK = Package("wiremock", "3.13.2")  # ships WireMock's standalone jar


@dataclass(frozen=True)
class Peer:
    """A server to measure: its name in the table, what it does with each request, and how it
    starts (`command`, given its port and a scratch folder)."""

    name: str
    does: str
    package: Package
    runtime: str  # the executable it needs: node or java
    command: Callable[[int, Path], list[str]]


def _prism(port: int, folder: Path) -> list[str]:
    return [*_bin("prism"), "mock", "-h", "127.0.0.1", "-p", str(port), _document(folder)]


def _mockoon(port: int, folder: Path) -> list[str]:
    return [
        *_bin("mockoon-cli", "start", "--data", _document(folder)),
        *("--hostname", "127.0.0.1", "--port", str(port)),
        "--disable-log-to-file",  # it logs to stdout, which goes to a file as every server's does
        "--disable-admin-api",
    ]


def _wiremock(port: int, folder: Path) -> list[str]:
    return [
        *("java", "-jar", str(_wiremock_jar())),
        *("--bind-address", "127.0.0.1", "--port", str(port)),
        *("--root-dir", _stub_folder(folder), "--disable-banner"),
    ]


def prism_proxy(port: int, upstream: str, folder: Path) -> list[str]:
    """Prism's validation proxy in front of `upstream`, checking against the mock's OpenAPI
    document. With `--errors` a request or answer that breaks the document is answered as an
    error, so a violation would show in wrk's count of failed requests."""
    return [
        *(*_bin("prism"), "proxy", "--errors", "-h", "127.0.0.1", "-p", str(port)),
        *(_document(folder), upstream),
    ]


PRISM_PEER = Peer(
    f"Prism {PRISM.version}",
    "validates the request (body, API key present) against the mock's OpenAPI document,"
    " answers an example made from the response schema, checks that answer, logs",
    PRISM,
    "node",
    _prism,
)
PEERS = (
    PRISM_PEER,
    Peer(
        f"Mockoon CLI {MOCKOON.version}",
        "matches the route imported from the mock's OpenAPI document, answers the body"
        " generated from its schema (no validation), logs",
        MOCKOON,
        "node",
        _mockoon,
    ),
    Peer(
        f"WireMock {WIREMOCK.version}",
        "matches one stub (POST /analyze with the key), answers its fixed body, keeps the"
        " request in its in-memory journal (its default)",
        WIREMOCK,
        "java",
        _wiremock,
    ),
)


def _bin(name: str, *arguments: str) -> list[str]:
    return [str(PEERS_DIR / "node_modules" / ".bin" / name), *arguments]


def _wiremock_jar() -> Path:
    return next((WIREMOCK.folder / "build").glob("wiremock-standalone-*.jar"))


def _document(folder: Path) -> str:
    """The API's OpenAPI document as `serve` answers GET /openapi.json: its schema files
    inlined, as Mockoon cannot follow references to sibling files."""
    path = folder / "openapi.json"
    if not path.exists():
        path.write_text(json.dumps(bundled_openapi()))
    return str(path)


def _stub_folder(folder: Path) -> str:
    mappings = folder / "wiremock" / "mappings"
    mappings.mkdir(parents=True, exist_ok=True)
    (mappings / "ack.json").write_text(json.dumps(wiremock_stub()))
    return str(mappings.parent)


def wiremock_stub() -> dict[str, Any]:
    """WireMock's mapping: the analyze POST with the mock's key answers the acknowledgement."""
    return {
        "request": {
            "method": "POST",
            "urlPath": "/analyze",
            "headers": {KEY_HEADER: {"equalTo": DEFAULT_KEY}},
        },
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "jsonBody": STUB_ACK,
        },
    }


def install(peer: Peer, deadline: float) -> str | None:
    """Install `peer` into .peers/ unless it is there at its version, by `deadline` (monotonic
    time); None when it can run, else why it cannot."""
    missing = [tool for tool in ("npm", peer.runtime) if shutil.which(tool) is None]
    if missing:
        return f"{' and '.join(missing)} not found"
    if peer.package.installed():
        return None
    package = f"{peer.package.name}@{peer.package.version}"
    print(f"installing {package} into {PEERS_DIR.relative_to(ROOT)}/", flush=True)
    PEERS_DIR.mkdir(exist_ok=True)
    flags = ("--no-audit", "--no-fund", "--save-exact", "--loglevel=error")
    return _run_install(["npm", "install", "--prefix", str(PEERS_DIR), *flags, package], deadline)


def install_wrk(deadline: float) -> str | None:
    """wrk from Debian's packages when it is not on the PATH; None when it is there after."""
    if shutil.which("wrk"):
        return None
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "wrk not found (install it: apt-get install wrk), and apt-get is not usable here"
    print("installing wrk with apt-get", flush=True)
    install_it = ["apt-get", "install", "-y", "-q", "wrk"]
    failed = _run_install(install_it, deadline)
    if failed:  # the package lists may be missing or stale
        failed = _run_install(["apt-get", "update", "-q"], deadline) or _run_install(
            install_it, deadline
        )
    return failed


def _run_install(command: list[str], deadline: float) -> str | None:
    """None when `command` succeeds by `deadline`; else what went wrong, in its first lines of
    output (npm's and apt's last lines only point to a log file)."""
    what = " ".join(command[:2] + command[-1:])
    timeout = min(INSTALL_TIMEOUT, deadline - time.monotonic())
    if timeout < 1:
        return f"no time left in the run's budget for `{what}`"
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"`{what}` took over {timeout:.0f} s"
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        return f"`{what}` failed: {'; '.join(said[:2])}"
    return None
