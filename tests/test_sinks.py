"""The built-in webhook sinks keep what they receive, within bounds."""

from __future__ import annotations

from mock_server.sinks import MAX_PER_SINK, MAX_SINKS, WebhookSinks


def test_a_sink_keeps_its_latest_payloads_in_order() -> None:
    sinks = WebhookSinks()
    for number in range(MAX_PER_SINK + 5):
        sinks.record("hook", {"n": number})
    kept = sinks.received("hook")
    assert len(kept) == MAX_PER_SINK and kept[0] == {"n": 5} and kept[-1] == {"n": MAX_PER_SINK + 4}
    assert sinks.received("never-used") == []


def test_the_oldest_sink_goes_when_there_are_too_many() -> None:
    sinks = WebhookSinks()
    for number in range(MAX_SINKS + 1):
        sinks.record(f"sink-{number}", number)
    assert sinks.received("sink-0") == []
    assert sinks.received("sink-1") == [1] and sinks.received(f"sink-{MAX_SINKS}") == [MAX_SINKS]
    sinks.reset()
    assert sinks.received("sink-1") == []


def test_one_requests_deliveries_are_found_in_any_sink_in_arrival_order() -> None:
    sinks = WebhookSinks()
    sinks.record("a", {"requestId": "r1", "n": 1})
    sinks.record("b", {"requestId": "r2"})
    sinks.record("b", {"requestId": "r1", "n": 2})
    sinks.record("a", {"requestId": "r1", "n": 3})
    sinks.record("a", ["not", "an", "object"])
    assert [d.payload["n"] for d in sinks.deliveries_for("r1")] == [1, 2, 3]
    assert [d.sink for d in sinks.deliveries_for("r1")] == ["a", "b", "a"]
    assert [d.payload["n"] for d in sinks.deliveries_for("r1", sink="a")] == [1, 3]
    assert sinks.deliveries_for("r3") == []
    assert sinks.summary() == {"a": ["r1", "r1", None], "b": ["r2", "r1"]}
