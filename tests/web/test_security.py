"""Security defaults: loopback unless told, control routes behind a token beyond it, keys never
in full, result paths that cannot climb out, and downloads kept off private networks on request."""

from __future__ import annotations

import logging

import pytest

from mock_server.cli import build_parser
from mock_server.flags import settings_from
from mock_server.settings import Settings
from mock_server.sources import PublicOnlyResolver
from tests.conftest import AppClient, FileServer, MakeMock, Receiver
from tests.support import TINY_RESIZE

SECRET = "sk_live_0123456789abcdef"
GUARDED = [("GET", "/_mock/requests"), ("POST", "/_mock/reset"), ("GET", "/_mock/sink/x")]
OPEN = [("GET", "/_mock/health"), ("GET", "/_mock/fixtures"), ("POST", "/_mock/sink/x")]


def test_the_mock_binds_loopback_unless_told() -> None:
    assert Settings().host == "127.0.0.1"
    assert settings_from(build_parser().parse_args(["serve"])).host == "127.0.0.1"


async def status_of(mock: AppClient, method: str, path: str, token: str | None = None) -> int:
    headers = {"X-Admin-Token": token} if token else {}
    async with mock.request(method, path, json={}, headers=headers) as response:
        return response.status


@pytest.mark.parametrize(("method", "path"), GUARDED)
async def test_an_admin_token_guards_the_control_routes(
    make_mock: MakeMock, method: str, path: str
) -> None:
    mock = await make_mock(admin_token="let-me-in")
    async with mock.request(method, path, json={}) as response:
        refusal = await response.json()
    assert response.status == 403
    assert refusal == {
        "success": False,
        "message": f"Forbidden: {path} needs the X-Admin-Token header (--admin-token)",
    }
    assert await status_of(mock, method, path, "wrong") == 403
    assert await status_of(mock, method, path, "let-me-in") == 200


@pytest.mark.parametrize(("method", "path"), OPEN)
async def test_health_songs_and_sink_receivers_stay_open(
    make_mock: MakeMock, method: str, path: str
) -> None:
    mock = await make_mock(admin_token="let-me-in")
    assert await status_of(mock, method, path) == 200


async def test_beyond_loopback_without_a_token_the_control_routes_are_off(
    make_mock: MakeMock,
) -> None:
    mock = await make_mock(host="0.0.0.0")
    async with mock.get("/_mock/requests") as response:
        message = (await response.json())["message"]
    assert response.status == 403 and "listens on 0.0.0.0, beyond loopback" in message
    assert await status_of(mock, "GET", "/_mock/health") == 200
    async with mock.post("/resize", json=TINY_RESIZE, headers={"X-API-Key": "test-key"}) as answer:
        assert answer.status == 200  # the API itself is unaffected


async def test_keys_never_appear_in_full_in_the_journal_or_the_logs(
    make_mock: MakeMock, caplog: pytest.LogCaptureFixture
) -> None:
    mock = await make_mock(api_keys=((SECRET, Settings().api_keys[0][1]),))
    caplog.set_level(logging.DEBUG)
    for key in (SECRET, SECRET + "-wrong"):
        async with mock.post("/resize", json=TINY_RESIZE, headers={"X-API-Key": key}):
            pass
    async with mock.get("/_mock/requests") as response:
        journal = await response.text()
    assert SECRET not in journal and "X-API-Key" not in caplog.text and SECRET not in caplog.text
    assert journal.count(SECRET[:4]) == 2  # masked, yet recognisable


@pytest.mark.parametrize(
    "path",
    [
        "/results/../../etc/passwd",
        "/results/%2e%2e/%2e%2e/etc/passwd",
        "/results/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/..%2f..%2f..%2fetc%2fpasswd",
        "/results/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/analysis.json%00.mp3",
        "/results/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/analysis.json",
        "/results/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/export_0.mp3",
        "/results/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/.artifacts.json",
    ],
)
async def test_result_paths_take_only_request_ids_and_result_names(
    mock: AppClient, path: str
) -> None:
    async with mock.get(path) as response:
        body = await response.read()
    assert response.status == 404 and response.content_type == "application/json"
    assert b"root:" not in body


async def test_public_sources_only_refuses_loopback_by_address_and_by_name(
    make_mock: MakeMock, files: FileServer, receiver: Receiver
) -> None:
    mock = await make_mock(public_sources_only=True)
    port = files.server.port
    sources = [files.url("/song.mp3"), f"http://localhost:{port}/song.mp3"]
    for source in sources:
        body = {"resultWebhook": receiver.url(), "sourceFileUrl": source}
        async with mock.post("/analyze", json=body, headers={"X-API-Key": "test-key"}) as ack:
            assert ack.status == 200
    failures = await receiver.wait_for(2)
    messages = sorted(failure["message"] for failure in failures)
    assert all(failure["success"] is False for failure in failures)
    assert "127.0.0.1 is not a public address (--public-sources-only)" in messages[0]
    assert "localhost resolves only to non-public addresses" in messages[1]
    assert files.downloads == {}


async def test_the_public_only_resolver_keeps_public_addresses_only() -> None:
    resolver = PublicOnlyResolver()
    try:
        with pytest.raises(OSError, match="non-public addresses"):
            await resolver.resolve("localhost", 80)
        public = await resolver.resolve("8.8.8.8", 53)
        assert [entry["host"] for entry in public] == ["8.8.8.8"]
    finally:
        await resolver.close()
