"""The client's calls, answers and errors against the mock's ordinary behaviour."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
import requests

from jingle_maker import (
    AnalysisResult,
    AudjustClient,
    InvalidApiKey,
    InvalidParameter,
    MissingApiKey,
    RateLimited,
    ResultNotFound,
    ResultTimeout,
    RetryPolicy,
    TransientError,
    UsageLimitExceeded,
)
from jingle_maker.models import candidates_from_payload
from support import TINY_ANALYSIS, RecordingSleep, SinkRelay, is_mp3

if TYPE_CHECKING:
    from mock_server.pytest_plugin import AudjustMock


def analysis_of(
    audjust_mock: AudjustMock, client: AudjustClient, song: str, raw_features: bool = False
) -> AnalysisResult:
    ack = client.analyze(audjust_mock.fixture_url(song), audjust_mock.webhook_url(), raw_features)
    return AnalysisResult.from_payload(audjust_mock.wait_for_webhook(ack.request_id, timeout=20))


def test_analyze_is_acknowledged_and_its_result_url_holds_the_webhook_payload(
    audjust_mock: AudjustMock, client: AudjustClient
) -> None:
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    assert len(ack.request_id) == 32
    assert ack.result_url.endswith(f"/{ack.request_id}/analysis.json")

    polled = client.fetch_result(ack.result_url)
    assert polled == audjust_mock.wait_for_webhook(ack.request_id, timeout=5)

    analysis = AnalysisResult.from_payload(polled)
    assert analysis.request_id == ack.request_id
    assert analysis.tempo == pytest.approx(120, abs=2)
    n = len(analysis.boundaries)
    assert len(analysis.similarity.data) == n * (n + 1) // 2
    assert analysis.similarity.between(5, 5) == 1.0  # a beat is identical to itself
    assert 0.0 <= analysis.similarity.between(3, 9) == analysis.similarity.between(9, 3) <= 1.0
    assert analysis.features is None


def test_raw_features_give_one_embedding_per_beat(
    audjust_mock: AudjustMock, client: AudjustClient
) -> None:
    analysis = analysis_of(audjust_mock, client, "swing_96", raw_features=True)
    assert analysis.features is not None
    assert len(analysis.features) == len(analysis.boundaries)
    assert {len(row) for row in analysis.features} == {13}


def test_sync_and_queued_resize_agree(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    analysis = analysis_of(audjust_mock, client, "rock_145")
    candidates = client.resize(analysis, 8)
    assert candidates
    scores = [c.blended_score for c in candidates]
    assert scores == sorted(scores, reverse=True)  # best first
    for c in candidates:
        assert c.segments_seconds[0][0] < c.segments_seconds[-1][1]
        assert len(c.segments_beats) == len(c.segments_seconds) == c.cuts + 1

    ack = client.resize_async(analysis, 8, audjust_mock.webhook_url())
    assert ack.result_url.endswith("/resize.json")
    payload = relay.wait_for_payload(ack.request_id, timeout=20)
    assert payload is not None
    assert candidates_from_payload(payload) == candidates
    assert candidates_from_payload(client.fetch_result(ack.result_url)) == candidates


def test_export_makes_one_file_per_group(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    source = audjust_mock.fixture_url("house_128_lead_in")
    analysis = analysis_of(audjust_mock, client, "house_128_lead_in")
    first, second = client.resize(analysis, 6)[:2]
    ack = client.export(
        source, audjust_mock.webhook_url(), [first.segments_seconds, second.segments_seconds]
    )
    assert [url.rsplit("/", 1)[1] for url in ack.result_urls] == ["export_1.mp3", "export_2.mp3"]

    payload = relay.wait_for_payload(ack.request_id, timeout=20)
    assert payload is not None and payload["failures"] == {}
    assert all(is_mp3(client.download(url)) for url in ack.result_urls)


def test_a_wrong_key_is_invalid_api_key_and_not_retried(
    audjust_mock: AudjustMock, make_client: Callable[..., AudjustClient], sleeps: RecordingSleep
) -> None:
    client = make_client(api_key="not-a-key")
    with pytest.raises(InvalidApiKey) as error:
        client.resize(TINY_ANALYSIS, 1)
    assert error.value.status == 403
    assert error.value.message.startswith("Invalid API Key")
    assert len(audjust_mock.requests) == 1 and sleeps.calls == []


def test_an_empty_key_is_missing_api_key(make_client: Callable[..., AudjustClient]) -> None:
    with pytest.raises(MissingApiKey) as error:
        make_client(api_key="").resize(TINY_ANALYSIS, 1)
    assert error.value.status == 401


def test_a_bad_analysis_is_an_invalid_parameter_naming_the_field(client: AudjustClient) -> None:
    unsorted = AnalysisResult(
        duration=2.0, tempo=120.0, similarity=TINY_ANALYSIS.similarity, boundaries=(0.5, 0.0)
    )
    with pytest.raises(InvalidParameter) as error:
        client.resize(unsorted, 1)
    assert error.value.status == 400
    assert error.value.parameter == "boundaries"


@pytest.mark.audjust(keys={"free-key": "free"})
def test_a_spent_plan_is_usage_limit_exceeded_and_not_retried(
    audjust_mock: AudjustMock, make_client: Callable[..., AudjustClient], sleeps: RecordingSleep
) -> None:
    client = make_client(api_key="free-key")
    client.resize(TINY_ANALYSIS, 30 * 60)  # 120 credits: the free plan's 100 are gone
    with pytest.raises(UsageLimitExceeded) as error:
        client.resize(TINY_ANALYSIS, 30 * 60)
    assert error.value.status == 402
    assert [e.status for e in audjust_mock.requests] == [200, 402]
    assert sleeps.calls == []


def test_the_rate_limit_is_waited_out_as_retry_after_says(
    audjust_mock: AudjustMock, make_client: Callable[..., AudjustClient]
) -> None:
    # Spend the minute's 100 requests, then let the client "sleep" on the mock's clock.
    with requests.Session() as raw:
        for _ in range(100):
            raw.post(f"{audjust_mock.base_url}/resize", json={}, headers=_key(audjust_mock))
    waits: list[float] = []

    def sleep_in_mock_time(seconds: float) -> None:
        waits.append(seconds)
        audjust_mock.clock.advance(seconds)

    client = make_client(sleep=sleep_in_mock_time)
    assert client.resize(TINY_ANALYSIS, 1)
    assert [e.status for e in audjust_mock.requests[-2:]] == [429, 200]
    assert len(waits) == 1 and 1 <= waits[0] <= 60


def test_a_retry_after_longer_than_the_cap_is_raised_at_once(
    audjust_mock: AudjustMock, make_client: Callable[..., AudjustClient], sleeps: RecordingSleep
) -> None:
    with requests.Session() as raw:
        for _ in range(100):
            raw.post(f"{audjust_mock.base_url}/resize", json={}, headers=_key(audjust_mock))
    client = make_client(retry=RetryPolicy(max_retry_after=5))
    with pytest.raises(RateLimited) as error:
        client.resize(TINY_ANALYSIS, 1)
    assert error.value.retry_after is not None and error.value.retry_after > 5
    assert sleeps.calls == []


def test_an_unreachable_api_is_transient_after_bounded_retries(sleeps: RecordingSleep) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with (
        AudjustClient(f"http://127.0.0.1:{port}", "k", sleep=sleeps) as client,
        pytest.raises(TransientError) as error,
    ):
        client.resize(TINY_ANALYSIS, 1)
    assert error.value.status is None
    assert error.value.ambiguous is False  # refused: the server never saw it
    assert sleeps.calls == [0.5, 1.0, 2.0]  # the default policy: 3 retries, doubling


def test_fetch_result_gives_up_at_its_deadline(
    audjust_mock: AudjustMock, client: AudjustClient
) -> None:
    never = f"{audjust_mock.results_url}/{'0' * 32}/analysis.json"
    started = time.monotonic()
    with pytest.raises(ResultTimeout):
        client.fetch_result(never, timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert issubclass(ResultTimeout, TimeoutError)


def test_downloading_a_missing_file_is_result_not_found(
    audjust_mock: AudjustMock, client: AudjustClient
) -> None:
    with pytest.raises(ResultNotFound) as error:
        client.download(f"{audjust_mock.results_url}/{'0' * 32}/export_1.mp3")
    assert error.value.status == 404


def _key(audjust_mock: AudjustMock) -> dict[str, str]:
    return {"X-API-Key": audjust_mock.api_key}
