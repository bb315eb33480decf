"""The handles' fixtures: one mock per module, and a test's handle on it, in this process and
over the control API (each test runs with both)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mock_server.settings import Settings
from mock_server.testing import AudjustMock, MockHandle, MockServer, RemoteMock


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(Settings(workers=1)) as running:
        yield running


@pytest.fixture(params=["in-process", "remote"])
def mock(request: pytest.FixtureRequest, server: MockServer) -> MockHandle:
    handle: MockHandle = AudjustMock(server, "test-key")
    if request.param == "remote":
        handle = RemoteMock(server.base_url, "test-key")
    handle.reset()
    return handle
