"""Shared pieces of the suite. The only test double is audjust-mock's `audjust_mock` fixture
(registered by the installed plugin; nothing to import): everything here is built on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from jingle_maker import AudjustClient, JobStore
from support import FAST_RETRIES, RecordingSleep, SinkRelay

if TYPE_CHECKING:
    from mock_server.pytest_plugin import AudjustMock


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def store() -> JobStore:
    return JobStore()


@pytest.fixture
def relay(audjust_mock: AudjustMock, store: JobStore) -> SinkRelay:
    return SinkRelay(audjust_mock, store)


@pytest.fixture
def make_client(
    audjust_mock: AudjustMock, sleeps: RecordingSleep
) -> Iterator[Callable[..., AudjustClient]]:
    """Clients on the mock with fast retries and polling; keyword arguments override."""
    made: list[AudjustClient] = []

    def make(**options: Any) -> AudjustClient:
        settings: dict[str, Any] = {
            "timeout": (2.0, 10.0),
            "retry": FAST_RETRIES,
            "result_timeout": 20.0,
            "poll_interval": 0.05,
            "sleep": sleeps,
        }
        settings.update(options)
        api_key = settings.pop("api_key", audjust_mock.api_key)
        client = AudjustClient(audjust_mock.base_url, api_key, **settings)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., AudjustClient]) -> AudjustClient:
    return make_client()
