"""What the client does when things go wrong, one test per audjust-mock fault scenario.

`audjust_mock.scenario(name, count=1, route=None, key=None, **params)` arms a fault for the next
`count` matching requests; the `X-Mock-Scenario: NAME;param=value` header asks for one on a
single request; `@pytest.mark.audjust(scenarios=[...])` sets one for every request of a test.
Mock-time parameters (slow, webhook_delayed) are released with `audjust_mock.clock.advance`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
import requests

from jingle_maker import (
    AnalysisResult,
    AudjustClient,
    Candidate,
    Delivery,
    InvalidApiKey,
    InvalidRequestMethod,
    JobFailed,
    JobStore,
    MissingApiKey,
    MissingParameter,
    RateLimited,
    ResultNotFound,
    ResultTimeout,
    RetryPolicy,
    TransientError,
    UsageLimitExceeded,
    pick_best,
)
from jingle_maker.webhooks import JobKind
from support import TINY_ANALYSIS, RecordingSleep, SinkRelay, bundled_jingle, is_mp3, wait_until

if TYPE_CHECKING:
    from mock_server.pytest_plugin import AudjustMock

pytestmark = pytest.mark.scenario

ClientFactory = Callable[..., AudjustClient]


def statuses(audjust_mock: AudjustMock, path: str) -> list[int | None]:
    return [entry.status for entry in audjust_mock.requests.to(path)]


def sink_ids(audjust_mock: AudjustMock) -> list[str]:
    return [payload["requestId"] for payload in audjust_mock.webhooks()]


def kinds(relay: SinkRelay, count: int) -> list[JobKind]:
    """The kinds of the jobs whose webhooks the store recorded, in sink order, once the sink holds
    `count`: a client that stopped waiting and polled may be done before its webhook lands."""
    wait_until(lambda: len(relay.mock.webhooks()) >= count)
    relay.pump()
    records = (relay.store.get(request_id) for request_id in dict.fromkeys(sink_ids(relay.mock)))
    return [record.kind for record in records if record is not None]


# --- documented errors: typed, and not retried (sending the same again cannot help) ----------


def test_invalid_method_is_raised_not_retried(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("invalid_method")
    with pytest.raises(InvalidRequestMethod) as error:
        client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    assert error.value.status == 405
    assert statuses(audjust_mock, "/analyze") == [405] and sleeps.calls == []


def test_missing_key_is_raised_not_retried(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("missing_key")
    with pytest.raises(MissingApiKey) as error:
        client.resize(TINY_ANALYSIS, 1)
    assert error.value.status == 401
    assert statuses(audjust_mock, "/resize") == [401] and sleeps.calls == []


def test_invalid_key_is_raised_for_that_key_only(
    audjust_mock: AudjustMock, make_client: ClientFactory, sleeps: RecordingSleep
) -> None:
    audjust_mock.add_key("revoked-key")
    audjust_mock.scenario("invalid_key", count=None, key="revoked-key")
    with pytest.raises(InvalidApiKey) as error:
        make_client(api_key="revoked-key").resize(TINY_ANALYSIS, 1)
    assert error.value.status == 403
    assert make_client().resize(TINY_ANALYSIS, 1)  # the default key is unaffected
    assert statuses(audjust_mock, "/resize") == [403, 200] and sleeps.calls == []


def test_missing_parameter_names_the_parameter(
    audjust_mock: AudjustMock, client: AudjustClient
) -> None:
    audjust_mock.scenario("missing_parameter", route="/resize", name="boundaries")
    with pytest.raises(MissingParameter) as error:
        client.resize(TINY_ANALYSIS, 1)
    assert error.value.status == 400
    assert error.value.parameter == "boundaries"


def test_a_scenario_header_on_one_request(
    audjust_mock: AudjustMock, sleeps: RecordingSleep
) -> None:
    # Any client can ask for a fault per request, here through its requests.Session.
    session = requests.Session()
    session.headers["X-Mock-Scenario"] = "missing_parameter;name=targetLengthSeconds"
    with (
        AudjustClient(audjust_mock.base_url, audjust_mock.api_key, session, sleep=sleeps) as client,
        pytest.raises(MissingParameter) as error,
    ):
        client.resize(TINY_ANALYSIS, 1)
    session.close()
    assert error.value.parameter == "targetLengthSeconds"


def test_usage_exceeded_is_raised_not_retried(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("usage_exceeded", route="/analyze")
    with pytest.raises(UsageLimitExceeded) as error:
        client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    assert error.value.status == 402
    assert statuses(audjust_mock, "/analyze") == [402] and sleeps.calls == []


# --- rate limits: wait as Retry-After says, within bounds --------------------------------------


def test_rate_limited_waits_retry_after_then_succeeds(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("rate_limited", route="/resize", retry_after=3)
    assert client.resize(TINY_ANALYSIS, 1)
    assert statuses(audjust_mock, "/resize") == [429, 200]
    assert sleeps.calls == [3.0]


def test_rate_limited_gives_up_after_its_retries(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("rate_limited", count=10, route="/resize", retry_after=2)
    with pytest.raises(RateLimited) as error:
        client.resize(TINY_ANALYSIS, 1)
    assert error.value.status == 429 and error.value.retry_after == 2.0
    assert statuses(audjust_mock, "/resize") == [429] * 4  # 1 + 3 retries
    assert sleeps.calls == [2.0, 2.0, 2.0]


def test_rate_limited_for_longer_than_the_cap_is_raised_at_once(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("rate_limited", route="/resize", retry_after=3600)
    with pytest.raises(RateLimited) as error:
        client.resize(TINY_ANALYSIS, 1)
    assert error.value.retry_after == 3600.0  # for the caller to schedule
    assert sleeps.calls == []


# --- transport faults: retried with backoff; a retried POST may have queued a job --------------


def test_server_error_is_retried(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("server_error", route="/analyze")
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    assert statuses(audjust_mock, "/analyze") == [500, 200]
    assert sleeps.calls == [0.1]
    assert audjust_mock.wait_for_webhook(ack.request_id, timeout=20)["success"] is True


def test_server_error_on_every_attempt_is_raised_as_transient(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("server_error", count=None, route="/resize")
    with pytest.raises(TransientError) as error:
        client.resize(TINY_ANALYSIS, 1)
    assert error.value.status == 500
    assert statuses(audjust_mock, "/resize") == [500] * 4
    assert sleeps.calls == [0.1, 0.2, 0.4]


def test_bad_gateway_html_is_transient_and_retried(
    audjust_mock: AudjustMock,
    client: AudjustClient,
    make_client: ClientFactory,
    sleeps: RecordingSleep,
) -> None:
    audjust_mock.scenario("bad_gateway", count=2, route="/resize")
    with pytest.raises(TransientError) as error:
        make_client(retry=RetryPolicy(transient_retries=0)).resize(TINY_ANALYSIS, 1)
    assert error.value.status == 502 and "502 Bad Gateway" in error.value.message  # not JSON
    assert client.resize(TINY_ANALYSIS, 1)  # the second 502, then success
    assert statuses(audjust_mock, "/resize") == [502, 502, 200]


def test_bad_gateway_after_processing_leaves_an_orphan_job(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    # The documented trade-off: the proxy failed after Audjust queued the job, the retry queued
    # another. Both report; the workflow follows the one it was acknowledged.
    audjust_mock.scenario("bad_gateway", route="/analyze", processed=1)
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    assert statuses(audjust_mock, "/analyze") == [502, 200]
    wait_until(lambda: len(audjust_mock.webhooks()) == 2)
    relay.pump()
    assert len(store) == 2 and ack.request_id in store


def test_connection_reset_is_retried(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("connection_reset", route="/resize")
    assert client.resize(TINY_ANALYSIS, 1)
    assert statuses(audjust_mock, "/resize") == [None, 200]  # None: no answer at all
    assert sleeps.calls == [0.1]


def test_connection_reset_is_not_retried_when_at_most_once_is_asked(
    audjust_mock: AudjustMock, make_client: ClientFactory
) -> None:
    audjust_mock.scenario("connection_reset", route="/analyze")
    client = make_client(retry=RetryPolicy(retry_ambiguous_posts=False))
    with pytest.raises(TransientError) as error:
        client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    assert error.value.ambiguous and error.value.status is None
    assert statuses(audjust_mock, "/analyze") == [None]


def test_malformed_json_is_retried_and_the_duplicate_job_is_harmless(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    audjust_mock.scenario("malformed_json", route="/analyze")
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    assert statuses(audjust_mock, "/analyze") == [200, 200]  # the first 200 was cut in half
    assert relay.wait_for_payload(ack.request_id, timeout=20) is not None
    wait_until(lambda: len(audjust_mock.webhooks()) == 2)  # the first job ran too
    relay.pump()
    orphans = [rid for rid in sink_ids(audjust_mock) if rid != ack.request_id]
    assert len(orphans) == 1
    orphan = store.get(orphans[0])
    assert orphan is not None and orphan.succeeded


def test_latency_beyond_the_read_timeout_is_retried(
    audjust_mock: AudjustMock, make_client: ClientFactory, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("latency", route="/resize", seconds=1.5)
    client = make_client(timeout=(2.0, 0.5))
    started = time.monotonic()
    assert client.resize(TINY_ANALYSIS, 1)
    assert 0.5 <= time.monotonic() - started < 1.5  # one read timeout, one quick retry
    assert sleeps.calls == [0.1]
    # The abandoned request was handled all the same (a retried POST may double a job); its
    # late answer is journaled when it is written, so wait for it rather than let it land in
    # the next test's journal.
    wait_until(lambda: len(audjust_mock.requests.to("/resize")) == 2, timeout=3)


def test_a_result_download_is_retried(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    source = audjust_mock.fixture_url("pop_120")
    ack = client.export(source, audjust_mock.webhook_url(), [[(0.0, 4.0)]])
    assert relay.wait_for_payload(ack.request_id, timeout=20) is not None
    audjust_mock.scenario("server_error", route="/results")
    assert is_mp3(client.download(ack.result_urls[0]))


def test_polling_rides_out_a_bad_gateway(audjust_mock: AudjustMock, client: AudjustClient) -> None:
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    audjust_mock.wait_for_webhook(ack.request_id, timeout=20)
    audjust_mock.scenario("bad_gateway", count=2, route="/results")
    assert client.fetch_result(ack.result_url)["requestId"] == ack.request_id


# --- job faults: failure webhooks, deadlines, partial results, expired links ---------------


def test_slow_job_reports_once_mock_time_passes(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    audjust_mock.scenario("slow", route="/analyze", seconds=120)
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    assert relay.wait_for_payload(ack.request_id, timeout=0.3) is None
    with pytest.raises(ResultTimeout):
        client.fetch_result(ack.result_url, timeout=0.2)
    audjust_mock.clock.advance(120)
    payload = relay.wait_for_payload(ack.request_id, timeout=20)
    assert payload is not None and payload["success"] is True


def test_slow_past_seven_minutes_is_a_failure(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    audjust_mock.scenario("slow", route="/analyze", seconds=600)
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    audjust_mock.clock.advance(7 * 60)
    payload = relay.wait_for_payload(ack.request_id, timeout=5)
    assert payload is not None and payload["success"] is False
    assert "timed out" in payload["message"]


def test_never_completes_hits_the_clients_deadline(
    audjust_mock: AudjustMock, make_client: ClientFactory, relay: SinkRelay
) -> None:
    audjust_mock.scenario("never_completes", route="/analyze")
    client = make_client(result_timeout=1.0)  # the reference's 7 minutes, shortened
    started = time.monotonic()
    with pytest.raises(ResultTimeout):
        bundled_jingle(audjust_mock, client, relay, webhook_timeout=0.3)
    assert time.monotonic() - started < 2
    assert audjust_mock.requests.to("/resize") == []


def test_source_download_fails_raises_job_failed(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    audjust_mock.scenario("source_download_fails", route="/analyze", status=403)
    with pytest.raises(JobFailed) as failure:
        bundled_jingle(audjust_mock, client, relay)
    assert "403" in failure.value.message
    assert [record.request_id for record in store.failed()] == [failure.value.request_id]
    assert audjust_mock.requests.to("/resize") == []


def test_internal_failure_is_recorded_by_the_webhook_handler(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    audjust_mock.scenario("internal_failure", route="/export")
    with pytest.raises(JobFailed) as failure:
        bundled_jingle(audjust_mock, client, relay)
    record = store.get(str(failure.value.request_id))
    assert record is not None and not record.succeeded
    assert record.message == failure.value.message
    assert statuses(audjust_mock, "/export") == [200]  # a failed job is not resubmitted


def test_internal_failure_of_a_synchronous_resize_is_retried(
    audjust_mock: AudjustMock, client: AudjustClient, sleeps: RecordingSleep
) -> None:
    audjust_mock.scenario("internal_failure", route="/resize")
    assert client.resize(TINY_ANALYSIS, 1)
    assert statuses(audjust_mock, "/resize") == [500, 200]
    assert sleeps.calls == [0.1]


def test_partial_export_failure_names_the_failed_group(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    audjust_mock.scenario("partial_export_failure", route="/export", group=2)
    source = audjust_mock.fixture_url("pop_120")
    ack = client.export(source, audjust_mock.webhook_url(), [[(0.0, 4.0)], [(4.0, 8.0)]])
    payload = relay.wait_for_payload(ack.request_id, timeout=20)
    assert payload is not None and payload["success"] is True
    first, second = ack.result_urls
    assert list(payload["failures"]) == [second]
    assert is_mp3(client.download(first))
    with pytest.raises(ResultNotFound):
        client.download(second)


def test_partial_export_failure_of_the_jingle_is_raised(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    audjust_mock.scenario("partial_export_failure", route="/export", group=1)
    with pytest.raises(JobFailed):  # its only group: the whole export failed
        bundled_jingle(audjust_mock, client, relay)


def test_expired_artifact_is_exported_once_more(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    audjust_mock.scenario("expired_artifact", route="/export")
    assert is_mp3(bundled_jingle(audjust_mock, client, relay))
    assert statuses(audjust_mock, "/export") == [200, 200]


def test_expired_artifact_twice_is_raised(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    audjust_mock.scenario("expired_artifact", count=2, route="/export")
    with pytest.raises(ResultNotFound):
        bundled_jingle(audjust_mock, client, relay)
    assert statuses(audjust_mock, "/export") == [200, 200]  # one re-export, no more


# --- the edges of the contract: what the reference allows, not what is usual -----------------


def naive_feature_table(analysis: AnalysisResult) -> list[list[float]]:
    """Written against the usual payloads: 13 features a beat, as the reference's example has.
    The reference says "generally 13 items, but this is not guaranteed"."""
    assert analysis.features is not None
    return [[vector[i] for i in range(13)] for vector in analysis.features]


def naive_best_and_worst(candidates: list[Candidate]) -> tuple[Candidate, Candidate]:
    """Written against the usual payloads: 20 candidates, best first. The reference says
    "(generally 20)", and that you may sort them by blendedScore yourself."""
    return candidates[0], candidates[19]


def analysis_with_features(audjust_mock: AudjustMock, client: AudjustClient) -> AnalysisResult:
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url(), True)
    return AnalysisResult.from_payload(audjust_mock.wait_for_webhook(ack.request_id, timeout=20))


def test_contract_edges_catch_a_client_that_hard_codes_13_features_or_20_candidates(
    audjust_mock: AudjustMock, client: AudjustClient
) -> None:
    usual = analysis_with_features(audjust_mock, client)
    naive_feature_table(usual)  # the usual payloads let the naive helpers pass...
    naive_best_and_worst(client.resize(usual, 8))

    audjust_mock.scenario("contract_edges", count=None)  # ...the edges of the contract do not
    edges = analysis_with_features(audjust_mock, client)
    with pytest.raises(IndexError):
        naive_feature_table(edges)
    candidates = client.resize(edges, 8)
    with pytest.raises(IndexError):
        naive_best_and_worst(candidates)
    assert candidates[0] != pick_best(candidates, 8)  # and the first is not the best


@pytest.mark.audjust(scenarios=["contract_edges"])
def test_the_client_makes_a_jingle_at_the_edges_of_the_contract(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    assert is_mp3(bundled_jingle(audjust_mock, client, relay))
    analysis = analysis_with_features(audjust_mock, client)
    assert analysis.similarity.min != 32 and analysis.similarity.between(3, 3) == 1.0
    assert analysis.features is not None and len(analysis.features[0]) != 13
    candidates = client.resize(analysis, 8)
    best = pick_best(candidates, 8)
    assert len(candidates) < 20 and best.blended_score == max(c.blended_score for c in candidates)


# --- delivery faults: the handler and the polling fallback ----------------------------------


def test_webhook_duplicate_is_ignored_by_the_handler(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    audjust_mock.scenario("webhook_duplicate", route="/analyze", times=3)
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    wait_until(lambda: sink_ids(audjust_mock).count(ack.request_id) == 3)
    relay.pump()
    assert relay.outcomes_for(ack.request_id) == [
        Delivery.RECORDED,
        Delivery.DUPLICATE,
        Delivery.DUPLICATE,
    ]
    record = store.get(ack.request_id)
    assert record is not None and record.deliveries == 3 and record.conflicting == []


@pytest.mark.audjust(scenarios=["webhook_duplicate;times=2"])
def test_every_webhook_twice_still_makes_one_jingle(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    assert is_mp3(bundled_jingle(audjust_mock, client, relay))
    assert len(audjust_mock.requests.to("/export")) == 1
    wait_until(lambda: len(audjust_mock.webhooks()) == 4)
    relay.pump()
    assert len(store) == 2
    assert [outcome for _, outcome in relay.outcomes].count(Delivery.DUPLICATE) == 2


def test_webhook_delayed_falls_back_to_polling(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    audjust_mock.scenario("webhook_delayed", route="/analyze", seconds=300)
    assert is_mp3(bundled_jingle(audjust_mock, client, relay, webhook_timeout=0.5))
    assert kinds(relay, 1) == [JobKind.EXPORT]  # the analysis was polled for
    audjust_mock.clock.advance(300)  # release the late one: recorded, harmlessly
    wait_until(lambda: len(audjust_mock.webhooks()) == 2)
    relay.pump()
    assert len(store) == 2 and store.failed() == []


def test_webhook_out_of_order_is_matched_by_request_id(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    audjust_mock.scenario("webhook_out_of_order", route="/analyze")  # held until the next one
    first_song = audjust_mock.fixture_url("pop_120")
    second_song = audjust_mock.fixture_url("dnb_170")
    first = client.analyze(first_song, audjust_mock.webhook_url())
    second = client.analyze(second_song, audjust_mock.webhook_url())
    wait_until(lambda: len(audjust_mock.webhooks()) == 2)
    assert sink_ids(audjust_mock) == [second.request_id, first.request_id]
    relay.pump()
    for ack, song, tempo in ((first, first_song, 120), (second, second_song, 170)):
        record = store.get(ack.request_id)
        assert record is not None and record.payload["sourceFileUrl"] == song
        assert AnalysisResult.from_payload(record.payload).tempo == pytest.approx(tempo, abs=3)


def test_webhook_dropped_falls_back_to_the_result_url(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    audjust_mock.scenario("webhook_dropped", route="/analyze")
    started = time.monotonic()
    assert is_mp3(bundled_jingle(audjust_mock, client, relay, webhook_timeout=0.5))
    assert time.monotonic() - started < 5
    assert kinds(relay, 1) == [JobKind.EXPORT]
