"""A song's sections, and the jingle that starts where its most repeated part first comes."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from jingle_maker import AudjustClient, InvalidApiKey, Section, make_jingle, most_alike
from support import SinkRelay, is_mp3, local_song

if TYPE_CHECKING:
    from collections.abc import Callable

    from mock_server.pytest_plugin import AudjustMock


def test_an_uploaded_song_has_sections_end_to_end(
    audjust_mock: AudjustMock, client: AudjustClient, tmp_path: Path
) -> None:
    sections = client.structure(client.upload(local_song(audjust_mock, tmp_path, "rock_145")))

    assert sections[0].start_ms == 0
    assert all(a.end_ms == b.start_ms for a, b in pairwise(sections))
    assert sections[-1].end_ms == pytest.approx(12_000, abs=100)  # a 12-second song
    assert all(s.start_ms < s.end_ms and 0 <= s.label <= 1000 for s in sections)
    answered = audjust_mock.last_call("/structure").answer["sections"]
    assert sections == [Section(s["startMs"], s["endMs"], s["label"]) for s in answered]


def test_the_chorus_jingle_starts_at_the_part_that_comes_back(
    audjust_mock: AudjustMock, client: AudjustClient, relay: SinkRelay, tmp_path: Path
) -> None:
    song = local_song(audjust_mock, tmp_path, "house_128_lead_in")  # a lead-in, then a loop
    jingle = make_jingle(
        client, song, 3, audjust_mock.webhook_url(), relay.wait_for_payload, from_chorus=True
    )
    assert is_mp3(jingle)
    sections = audjust_mock.last_call("/structure").answer["sections"]
    labels = [s["label"] for s in sections]
    first_repeat = next(s for s in sections if labels.count(s["label"]) > 1)
    segment = [first_repeat["startMs"] / 1000, (first_repeat["startMs"] + 3000) / 1000]
    audjust_mock.assert_called("/export", times=1, json={"segmentsGroups": [[segment]]})


def hand_made(*parts: tuple[float, float, int]) -> list[dict[str, Any]]:
    return [{"startMs": int(s * 1000), "endMs": int(e * 1000), "label": lab} for s, e, lab in parts]


# The verses are alike (labels 40 apart), the choruses more so (20 apart): the chorus wins.
INTRO_VERSE_CHORUS_TWICE = hand_made(
    (0, 2, 500), (2, 5, 0), (5, 8, 980), (8, 10, 40), (10, 12, 1000)
)


@pytest.mark.parametrize(
    ("sections", "seconds", "segment"),
    [
        (INTRO_VERSE_CHORUS_TWICE, 6, [5.0, 11.0]),
        (INTRO_VERSE_CHORUS_TWICE, 10, [5.0, 12.0]),  # the song ends sooner
        (hand_made((0, 12, 0)), 4, [0.0, 4.0]),  # nothing comes back: from the start
    ],
    ids=["chorus", "cut-at-the-end", "one-section"],
)
def test_the_chorus_jingle_of_hand_made_sections(
    audjust_mock: AudjustMock,
    client: AudjustClient,
    relay: SinkRelay,
    sections: list[dict[str, Any]],
    seconds: float,
    segment: list[float],
) -> None:
    """Per-test answers: the sections are the test's own, so the choice is tested on forms the
    engine's 12-second songs do not have. The export is still made from the real song."""
    audjust_mock.answer("/structure", sections, times=1)
    jingle = make_jingle(
        client,
        audjust_mock.fixture_url("pop_120"),
        seconds,
        audjust_mock.webhook_url(),
        relay.wait_for_payload,
        from_chorus=True,
    )
    assert is_mp3(jingle)
    audjust_mock.assert_called("/export", times=1, json={"segmentsGroups": [[segment]]})
    assert audjust_mock.calls("/analyze") == audjust_mock.calls("/resize") == []


def test_most_alike_prefers_the_closest_labels_then_the_earliest_pair() -> None:
    intro, verse, chorus = Section(0, 1, 500), Section(1, 2, 0), Section(2, 3, 990)
    verse2, chorus2 = Section(3, 4, 10), Section(4, 5, 1000)
    assert most_alike([intro, verse, chorus, verse2, chorus2]) == (verse, verse2)  # a tie
    assert most_alike([chorus2, verse, chorus]) == (chorus, chorus2)  # found in time order
    assert most_alike([intro]) is None


def test_structure_with_a_wrong_key_is_refused(
    audjust_mock: AudjustMock, make_client: Callable[..., AudjustClient]
) -> None:
    with pytest.raises(InvalidApiKey):
        make_client(api_key="not-a-key").structure(audjust_mock.fixture_url("pop_120"))
