"""The webhook handler, fed payloads the mock really sent."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from jingle_maker import AudjustClient, Delivery, JobStore, handle_webhook
from jingle_maker.webhooks import InvalidWebhook, JobKind

if TYPE_CHECKING:
    from mock_server.pytest_plugin import AudjustMock


def analysis_payload(audjust_mock: AudjustMock, client: AudjustClient) -> dict[str, Any]:
    ack = client.analyze(audjust_mock.fixture_url("pop_120"), audjust_mock.webhook_url())
    return audjust_mock.wait_for_webhook(ack.request_id, timeout=20)


def test_a_repeated_delivery_is_recorded_once(
    audjust_mock: AudjustMock, client: AudjustClient, store: JobStore
) -> None:
    payload = analysis_payload(audjust_mock, client)
    assert handle_webhook(payload, store) is Delivery.RECORDED
    assert handle_webhook(dict(payload), store) is Delivery.DUPLICATE
    record = store.get(payload["requestId"])
    assert record is not None
    assert record.kind is JobKind.ANALYSIS and record.succeeded
    assert record.deliveries == 2 and record.conflicting == []
    assert len(store) == 1


def test_a_conflicting_repeat_keeps_the_first_and_leaves_a_trace(
    audjust_mock: AudjustMock, client: AudjustClient, store: JobStore
) -> None:
    payload = analysis_payload(audjust_mock, client)
    late_failure = {"requestId": payload["requestId"], "success": False, "message": "late"}
    handle_webhook(payload, store)
    assert handle_webhook(late_failure, store) is Delivery.DUPLICATE
    record = store.get(payload["requestId"])
    assert record is not None and record.succeeded
    assert record.conflicting == [late_failure]


def test_deliveries_in_any_order_and_before_anyone_waits(
    audjust_mock: AudjustMock, client: AudjustClient, store: JobStore
) -> None:
    source = audjust_mock.fixture_url("pop_120")
    analysis = analysis_payload(audjust_mock, client)
    ack = client.export(source, audjust_mock.webhook_url(), [[(0.0, 4.0)]])
    export = audjust_mock.wait_for_webhook(ack.request_id, timeout=20)

    # The export's webhook comes first, for a request nobody waits for yet.
    assert handle_webhook(export, store) is Delivery.RECORDED
    assert handle_webhook(analysis, store) is Delivery.RECORDED
    exported = store.wait(ack.request_id, timeout=0)
    assert exported is not None and exported.kind is JobKind.EXPORT
    assert exported.failures == {}
    analysed = store.get(analysis["requestId"])
    assert analysed is not None and analysed.kind is JobKind.ANALYSIS


def test_a_failure_is_recorded_with_its_message(
    audjust_mock: AudjustMock, client: AudjustClient, store: JobStore
) -> None:
    missing = f"{audjust_mock.base_url}/_mock/fixtures/no_such_song.mp3"
    ack = client.analyze(missing, audjust_mock.webhook_url())
    payload = audjust_mock.wait_for_webhook(ack.request_id, timeout=20)
    assert handle_webhook(payload, store) is Delivery.RECORDED
    record = store.get(ack.request_id)
    assert record is not None
    assert not record.succeeded and record.kind is JobKind.UNKNOWN
    assert record.message
    assert store.failed() == [record]


def test_a_waiter_wakes_when_the_webhook_arrives(
    audjust_mock: AudjustMock, client: AudjustClient, store: JobStore
) -> None:
    payload = analysis_payload(audjust_mock, client)
    later = threading.Timer(0.1, handle_webhook, args=(payload, store))
    later.start()
    try:
        assert store.wait_for_payload(payload["requestId"], timeout=5) == payload
    finally:
        later.join()
    assert store.wait_for_payload("no-such-request", timeout=0.05) is None


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"success": True, "result": {}},
        {"requestId": "", "success": True, "result": {}},
        {"requestId": "abc", "result": {}},
        {"requestId": "abc", "success": True},
    ],
    ids=["not-an-object", "no-request-id", "empty-request-id", "no-success", "no-result"],
)
def test_what_is_not_an_audjust_payload_is_refused(payload: Any, store: JobStore) -> None:
    with pytest.raises(InvalidWebhook):
        handle_webhook(payload, store)
    assert len(store) == 0
