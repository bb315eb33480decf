"""Source and webhook URLs the mock must not fetch are a 400 naming the field; `file:` URLs,
allowed by a flag, still fail cleanly with a failure webhook."""

from __future__ import annotations

import aiohttp
import pytest

from tests.conftest import MakeMock
from tests.support import Hooks, assert_healthy, refused, replaced, send

BAD_URLS = [
    ("ftp://127.0.0.1/song.mp3", "must be an http or https URL"),
    ("javascript:alert(1)", "must be an http or https URL"),
    ("file:///etc/passwd", "must be an http or https URL"),
    ("file://localhost/etc/passwd", "must be an http or https URL"),
    ("\tfile:///etc/passwd", "must be an http or https URL"),
    ("data:audio/mpeg;base64,SUQz", "must be an http or https URL"),
    ("gopher://127.0.0.1:70/1", "must be an http or https URL"),
    ("//127.0.0.1/song.mp3", "must be an http or https URL"),
    ("127.0.0.1/song.mp3", "must be an http or https URL"),
    ("http:///song.mp3", "must name a host"),
    ("http://user:password@127.0.0.1/song.mp3", "must not carry credentials"),
    ("https://user@127.0.0.1/song.mp3", "must not carry credentials"),
    ("http://:secret@127.0.0.1/song.mp3", "must not carry credentials"),
    ("http://[::1/song.mp3", "Invalid IPv6 URL"),
]


@pytest.mark.parametrize(
    ("path", "field"),
    [("/analyze", "sourceFileUrl"), ("/export", "sourceFileUrl"), ("/analyze", "resultWebhook")],
)
@pytest.mark.parametrize(("url", "fragment"), BAD_URLS, ids=[u for u, _ in BAD_URLS])
async def test_a_url_the_mock_must_not_fetch_is_a_400(
    api: aiohttp.ClientSession, path: str, field: str, url: str, fragment: str
) -> None:
    await refused(
        api, path, replaced(path, field, url), 400, f"Invalid parameter: {field}", fragment
    )


async def test_a_port_out_of_range_is_a_400(api: aiohttp.ClientSession) -> None:
    body = replaced("/analyze", "sourceFileUrl", "http://127.0.0.1:99999/song.mp3")
    await refused(api, "/analyze", body, 400, "Invalid parameter: sourceFileUrl")


async def test_file_urls_with_the_flag_still_fail_cleanly(
    make_mock: MakeMock, hooks: Hooks
) -> None:
    mock = await make_mock(allow_file_urls=True)
    source = "file:///nonexistent/audjust-mock/song.mp3"
    body = {"resultWebhook": hooks.url(), "sourceFileUrl": source}
    status, _, ack = await send(mock, "/analyze", body)
    assert status == 200, ack
    failure = await hooks.payload(ack["requestId"])
    assert failure == {
        "requestId": ack["requestId"],
        "success": False,
        "message": f"Could not read source file {source}: no such file",
        "sourceFileUrl": source,
        "creditCost": 0,
    }
    body["sourceFileUrl"] = "file://user:pw@localhost/etc/passwd"
    await refused(mock, "/analyze", body, 400, "must not carry credentials")
    await assert_healthy(mock)
