"""The pytest plugin: one mock per test session, reset before each test, in one fixture.

Registered through the `pytest11` entry point, so a project that installs audjust-mock gets the
`audjust_mock` and `audjust_mock_app` fixtures and the `audjust` marker without any import. Only
fixtures and hooks live here; the client-side classes are in `mock_server.testing` (and stay
importable from here, where earlier versions had them).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from mock_server.accounts import Plan
from mock_server.contract.profile import Profile, ProfileError
from mock_server.faults.arming import Arming
from mock_server.faults.scenario import Scenario
from mock_server.settings import DEFAULT_KEY, Settings
from mock_server.sources import SourceMode
from mock_server.testing.inprocess import (
    AudjustMock,
    ClockHandle,
    MockHandle,
    MockServer,
    RequestLog,
)
from mock_server.testing.remote import RemoteMock
from mock_server.web.app import create_app

__all__ = [
    "AudjustMock",
    "ClockHandle",
    "MockClock",
    "MockHandle",
    "RemoteMock",
    "RequestLog",
]  # importable here, where earlier versions defined them
# What earlier versions called a handle's `clock` (the name is now the server's own clock's).
MockClock = ClockHandle
INI_KEY = "audjust_mock_api_key"
INI_WORKERS = "audjust_mock_workers"
INI_SEED = "audjust_mock_seed"
INI_SOURCES = "audjust_mock_sources"
INI_PROFILE = "audjust_mock_profile"
INI_URL = "audjust_mock_url"
INI_NAMESPACE = "audjust_mock_namespace"
PROFILE = pytest.StashKey[Profile]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_KEY, "the API key the mock accepts", default=DEFAULT_KEY)
    parser.addini(INI_WORKERS, "analysis worker processes", default="1")
    parser.addini(INI_SEED, "seed for request ids (reproducible across runs)", default="0")
    parser.addini(
        INI_SOURCES,
        "local: fetch loopback sources, synthesize every other host (no network); or fetch, "
        "synthesize, auto",
        default=SourceMode.LOCAL.value,
    )
    parser.addini(
        INI_URL,
        "the base URL of a running mock (audjust-mock serve) to use instead of starting one; "
        "its admin token, if any, from AUDJUST_MOCK_ADMIN_TOKEN",
        default="",
    )
    parser.addini(
        INI_NAMESPACE,
        "with audjust_mock_url: the namespace this suite's journal, sinks, scenarios, keys "
        "and resets are kept in, apart from other suites sharing the mock",
        default="",
    )
    parser.addini(
        INI_PROFILE,
        "a JSON profile (schemas/profile.json) for the behaviours the reference leaves open, "
        "relative to the ini file; default: the mock's own choices",
        default="",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[PROFILE] = _profile(config)  # a bad profile stops the run before any test
    config.addinivalue_line(
        "markers",
        "audjust(keys={KEY: PLAN}, scenarios=[NAME;param=value, ...], sources=MODE): extra API "
        "keys and their plans, fault scenarios for every request, and where sources come from "
        "(fetch, synthesize, auto, local) for this test",
    )


def _profile(config: pytest.Config) -> Profile:
    """The ini file's profile, read relative to the ini file; a bad one stops the run, naming
    the key."""
    name = str(config.getini(INI_PROFILE))
    if not name:
        return Profile()
    path = Path(config.inipath).parent / name if config.inipath else Path(name)
    try:
        return Profile.load(path)
    except ProfileError as error:
        raise pytest.UsageError(f"{INI_PROFILE} = {name}: {error}") from error


def worker_seed(seed: int, worker: str | None) -> int:
    """The request id seed of one xdist worker (`gw0`, `gw1`, ...): the ini seed alone without
    xdist, else one drawn from it and the worker's name, so workers never share a sequence and a
    run with the same seed and worker count repeats its ids."""
    if worker is None:
        return seed
    return int.from_bytes(hashlib.sha256(f"{seed}/{worker}".encode()).digest()[:8], "big")


def _settings(config: pytest.Config) -> Settings:
    return Settings(
        api_keys=((str(config.getini(INI_KEY)), Plan.ENTERPRISE),),
        workers=int(config.getini(INI_WORKERS)),
        seed=worker_seed(int(config.getini(INI_SEED)), os.environ.get("PYTEST_XDIST_WORKER")),
        sources=SourceMode(str(config.getini(INI_SOURCES))),
        profile=config.stash[PROFILE],
    )


@pytest.fixture(scope="session")
def audjust_mock_server(pytestconfig: pytest.Config) -> Iterator[MockServer]:
    """The session's one mock on 127.0.0.1 and a free port, in a background thread."""
    with MockServer(_settings(pytestconfig)) as server:
        yield server


@pytest.fixture(scope="session")
def _audjust_remote_mock(pytestconfig: pytest.Config) -> RemoteMock:
    """The shared mock named by audjust_mock_url, in audjust_mock_namespace if given."""
    return RemoteMock(
        str(pytestconfig.getini(INI_URL)),
        str(pytestconfig.getini(INI_KEY)),
        namespace=str(pytestconfig.getini(INI_NAMESPACE)) or None,
        admin_token=os.environ.get("AUDJUST_MOCK_ADMIN_TOKEN") or None,
    )


@pytest.fixture
def audjust_mock(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> MockHandle:
    """A mock reset for this test: the session's own, or the shared one audjust_mock_url names
    (reset in its namespace only)."""
    mock: MockHandle
    if pytestconfig.getini(INI_URL):
        mock = request.getfixturevalue("_audjust_remote_mock")
    else:
        server = request.getfixturevalue("audjust_mock_server")
        mock = AudjustMock(server, str(pytestconfig.getini(INI_KEY)))
    mock.reset()
    marker = request.node.get_closest_marker("audjust")
    options = marker.kwargs if marker else {}
    for key, plan in options.get("keys", {}).items():
        mock.add_key(key, plan)
    for text in options.get("scenarios", ()):
        mock.arm(Arming(Scenario.parse(text), count=None))
    if "sources" in options:
        mock.use_sources(options["sources"])
    return mock


@pytest.fixture
def audjust_mock_app(pytestconfig: pytest.Config) -> web.Application:
    """The aiohttp application itself, for pytest-aiohttp's `aiohttp_client`."""
    return create_app(dataclasses.replace(_settings(pytestconfig), port=0))
