"""Songs from local files: uploaded as Audjust's example page does, then used like any URL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

from jingle_maker import AudjustClient, InvalidApiKey, JobFailed, make_jingle
from support import SinkRelay, is_mp3, local_song

if TYPE_CHECKING:
    from collections.abc import Callable

    from mock_server.pytest_plugin import AudjustMock

# "Uploads ... expire after one hour" (Audjust's overview).
HOUR = 3600


def test_a_local_file_is_uploaded_in_two_steps_and_read_back_whole(
    audjust_mock: AudjustMock, make_client: Callable[..., AudjustClient], tmp_path: Path
) -> None:
    sent: list[requests.PreparedRequest] = []
    session = requests.Session()
    session.hooks["response"].append(lambda response, **_: sent.append(response.request))
    song = local_song(audjust_mock, tmp_path)

    retrieval_url = make_client(session=session).upload(song)

    asked, put = sent
    assert (asked.method, asked.url) == ("GET", f"{audjust_mock.base_url}/upload")
    assert asked.headers["X-API-Key"] == audjust_mock.api_key
    slot = audjust_mock.last_call("/upload").answer
    assert (put.method, put.url, put.body) == ("PUT", slot["storageUrl"], song.read_bytes())
    assert "X-API-Key" not in put.headers and "Content-Type" not in put.headers
    assert retrieval_url == slot["retrievalUrl"]
    assert requests.get(retrieval_url, timeout=10).content == song.read_bytes()


def test_a_jingle_from_a_local_file(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, tmp_path: Path
) -> None:
    song = local_song(audjust_mock, tmp_path)
    jingle = make_jingle(
        client, song, 8, audjust_mock.webhook_url(), relay.wait_for_payload, webhook_timeout=20
    )
    assert is_mp3(jingle)
    retrieval_url = audjust_mock.last_call("/upload").answer["retrievalUrl"]
    audjust_mock.assert_called("/analyze", times=1, json={"sourceFileUrl": retrieval_url})
    audjust_mock.assert_called("/export", times=1, json={"sourceFileUrl": retrieval_url})


def test_an_upload_serves_for_an_hour_then_the_job_fails_saying_so(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, tmp_path: Path
) -> None:
    url = client.upload(local_song(audjust_mock, tmp_path))
    audjust_mock.clock.advance(HOUR - 60)
    assert client.structure(url)  # still there a minute before the hour

    audjust_mock.clock.advance(120)
    with pytest.raises(JobFailed, match="expired") as synchronous:
        client.structure(url)
    assert synchronous.value.request_id and synchronous.value.status == 422
    with pytest.raises(JobFailed, match="expired") as queued:
        make_jingle(client, url, 8, audjust_mock.webhook_url(), relay.wait_for_payload)
    failure = audjust_mock.wait_for_webhook(str(queued.value.request_id), timeout=5)
    assert failure["success"] is False and failure["message"] == queued.value.message
    assert audjust_mock.calls("/resize") == []  # it stopped at the failure


def test_a_local_file_is_uploaded_again_when_its_jingle_is_exported_once_more(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, tmp_path: Path
) -> None:
    """The export's link expires (30 days) before download, and the upload (an hour) with it:
    exporting once more from the old retrieval URL would fail, so the file goes up again."""
    late: list[str] = []

    def late_webhooks(request_id: str, timeout: float) -> dict[str, Any] | None:
        payload = relay.wait_for_payload(request_id, timeout)
        if payload is not None and "resultUrls" in payload and not late:
            late.append(request_id)
            audjust_mock.clock.advance(31 * 24 * HOUR)
        return payload

    song = local_song(audjust_mock, tmp_path)
    assert is_mp3(make_jingle(client, song, 8, audjust_mock.webhook_url(), late_webhooks))
    uploads = [entry.answer["retrievalUrl"] for entry in audjust_mock.calls("/upload")]
    exported = [entry.request["sourceFileUrl"] for entry in audjust_mock.calls("/export")]
    assert len(set(uploads)) == 2 and exported == uploads


def test_a_wrong_key_is_refused_before_anything_is_put(
    audjust_mock: AudjustMock, make_client: Callable[..., AudjustClient], tmp_path: Path
) -> None:
    song = local_song(audjust_mock, tmp_path)
    with pytest.raises(InvalidApiKey):
        make_client(api_key="not-a-key").upload(song)
    assert [entry.status for entry in audjust_mock.requests] == [403]
