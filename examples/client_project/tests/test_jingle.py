"""The whole workflow against the mock: real analysis, resize and export of real audio."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from mock_server.testing import AnswerRefused

from jingle_maker import AudjustClient, Candidate, JobFailed, JobStore, make_jingle, pick_best
from jingle_maker.webhooks import JobKind
from support import SinkRelay, bundled_jingle, is_mp3

if TYPE_CHECKING:
    from mock_server.pytest_plugin import AudjustMock


def mp3_128_seconds(data: bytes) -> float:
    """The length of a constant 128 kbit/s MP3, from its size."""
    return len(data) * 8 / 128_000


def test_a_jingle_from_a_bundled_song(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    jingle = make_jingle(
        client,
        audjust_mock.fixture_url("pop_120"),  # a 12 s song the mock serves itself
        target_seconds=8,
        webhook_url=audjust_mock.webhook_url(),
        wait_for_webhook=relay.wait_for_payload,
        webhook_timeout=20,
    )

    assert is_mp3(jingle)
    assert mp3_128_seconds(jingle) == pytest.approx(8, abs=1.5)
    calls = audjust_mock.requests
    assert [(e.method, e.status) for e in calls.to("/analyze")] == [("POST", 200)]
    assert [(e.method, e.status) for e in calls.to("/resize")] == [("POST", 200)]
    assert [(e.method, e.status) for e in calls.to("/export")] == [("POST", 200)]
    # Both queued steps reported through the webhook, and nothing failed.
    kinds = sorted(record.kind for record in map(store.get, _request_ids(relay)) if record)
    assert kinds == [JobKind.ANALYSIS, JobKind.EXPORT]
    assert store.failed() == []


def test_the_export_gets_the_best_candidates_segments(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    """What the client sent, checked from the mock's side: the bodies of the calls it made."""
    make_jingle(
        client,
        audjust_mock.fixture_url("pop_120"),
        target_seconds=8,
        webhook_url=audjust_mock.webhook_url(),
        wait_for_webhook=relay.wait_for_payload,
        webhook_timeout=20,
    )
    resize = audjust_mock.last_call("/resize")
    assert resize.request["targetLengthSeconds"] == 8
    best = max(resize.answer["result"], key=lambda c: c["blendedScore"])
    audjust_mock.assert_called(
        "/export", times=1, json={"segmentsGroups": [best["segmentsSeconds"]]}
    )
    assert audjust_mock.wait_for_request("/analyze").answer["message"] == "Request queued."


# A hand-made analysis of the 12 s song: six beats two seconds apart, each like itself only.
SIX_BEATS: dict[str, Any] = {
    "duration": 12.0,
    "tempo": 30,
    "similarity": {
        "data": "".join("~" if i == j else "a" for i in range(6) for j in range(i + 1)),
        "min": 32,
        "max": 126,
    },
    "boundaries": [0.0, 2.0, 4.0, 6.0, 8.0, 10.0],
}


def six_seconds(beats: list[list[int]], score: float, dissimilarity: float) -> dict[str, Any]:
    """A candidate of SIX_BEATS whose segments last six seconds in all."""
    seconds = [[SIX_BEATS["boundaries"][s], SIX_BEATS["boundaries"][e]] for s, e in beats]
    return {
        "dissimilarity": dissimilarity,
        "blendedScore": score,
        "segmentsBeats": beats,
        "segmentsSeconds": seconds,
        "durationSeconds": 6,
    }


def test_the_best_candidate_is_chosen_by_blended_score_not_by_its_place(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    """Per-test answers: the analysis and the candidates are the test's own, so the ranking is
    tested on a case the engine may never produce: the best candidate comes second of three."""
    audjust_mock.answer("/analyze", SIX_BEATS, times=1)
    best = six_seconds([[0, 2], [3, 4]], score=-0.05, dissimilarity=0.5)
    candidates = [six_seconds([[0, 3]], -0.2, 0), best, six_seconds([[1, 4]], -0.3, 0)]
    audjust_mock.answer("/resize", candidates, times=1)
    # Exported from the real song, at the chosen candidate's segments.
    assert is_mp3(bundled_jingle(audjust_mock, client, relay, target_seconds=6))
    assert audjust_mock.last_call("/resize").request["boundaries"] == SIX_BEATS["boundaries"]
    audjust_mock.assert_called(
        "/export", times=1, json={"segmentsGroups": [best["segmentsSeconds"]]}
    )


def test_an_answer_the_live_api_could_never_send_is_refused_naming_the_rule(
    audjust_mock: AudjustMock,
) -> None:
    """A positive blendedScore would test the client against a shape that never comes: the
    reference says it is negative, and the mock refuses the answer with that rule."""
    too_good = six_seconds([[0, 3]], score=0.5, dissimilarity=0)
    with pytest.raises(AnswerRefused, match=r"breaks resize\.payload .*blendedScore"):
        audjust_mock.answer("/resize", [too_good])
    with pytest.raises(AnswerRefused, match=r"breaks resize\.dissimilarity"):
        audjust_mock.answer("/resize", [six_seconds([[0, 3]], score=-0.1, dissimilarity=0.4)])
    assert audjust_mock.answer("/resize", [too_good], break_contract=True)["breakContract"]


def test_a_production_url_works_offline(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    # The plugin synthesizes every non-loopback source, seeded by its URL: same song on every
    # machine, no network.
    jingle = make_jingle(
        client,
        "https://audjust.com/sample.mp3",
        target_seconds=15,
        webhook_url=audjust_mock.webhook_url(),
        wait_for_webhook=relay.wait_for_payload,
        webhook_timeout=20,
    )
    assert is_mp3(jingle)
    assert mp3_128_seconds(jingle) == pytest.approx(15, abs=2)
    assert len(audjust_mock.requests.find(method="POST", status=200)) == 3


def test_mocks_own_wait_for_webhook_fits_the_workflow(
    audjust_mock: AudjustMock, client: AudjustClient
) -> None:
    # The fixture's wait_for_webhook(request_id, timeout) has the shape make_jingle wants.
    jingle = make_jingle(
        client,
        audjust_mock.fixture_url("dnb_170"),
        target_seconds=6,
        webhook_url=audjust_mock.webhook_url(),
        wait_for_webhook=audjust_mock.wait_for_webhook,
        fmt="wav",
    )
    assert jingle[:4] == b"RIFF" and jingle[8:12] == b"WAVE"


def test_an_unreachable_source_fails_with_the_failure_webhook(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, store: JobStore
) -> None:
    missing = f"{audjust_mock.base_url}/_mock/fixtures/no_such_song.mp3"  # answers 404
    with pytest.raises(JobFailed) as failure:
        make_jingle(client, missing, 8, audjust_mock.webhook_url(), relay.wait_for_payload)
    record = store.get(str(failure.value.request_id))
    assert record is not None and not record.succeeded
    assert record.message == failure.value.message
    assert audjust_mock.requests.to("/resize") == []  # it stopped at the failure


def test_an_expired_link_is_exported_once_more(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay
) -> None:
    """Artifacts live 30 days: let the export webhook "arrive" 31 days late."""
    exports: list[str] = []

    def late_webhooks(request_id: str, timeout: float) -> dict[str, Any] | None:
        payload = relay.wait_for_payload(request_id, timeout)
        if payload is not None and "resultUrls" in payload and not exports:
            exports.append(request_id)
            audjust_mock.clock.advance(31 * 24 * 3600)
        return payload

    jingle = make_jingle(
        client, audjust_mock.fixture_url("pop_120"), 8, audjust_mock.webhook_url(), late_webhooks
    )
    assert is_mp3(jingle)
    assert [e.status for e in audjust_mock.requests.to("/export")] == [200, 200]


def candidate(score: float, duration: float) -> Candidate:
    return Candidate(0.0, score, ((0, 1),), ((0.0, duration),), duration)


def test_pick_best_prefers_the_score_then_the_target() -> None:
    best = candidate(-0.01, 40)
    assert pick_best([candidate(-0.2, 30), best, candidate(-0.05, 30)], 30) is best
    closer = candidate(-0.1, 31)
    assert pick_best([candidate(-0.1, 27), closer, candidate(-0.1, 34)], 30) is closer


def _request_ids(relay: SinkRelay) -> list[str]:
    return [request_id for request_id, _ in relay.outcomes]
