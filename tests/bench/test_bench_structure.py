"""The structure bench's songs play their form once through, and its grid baseline tiles the song:
what `make bench` scores must be the form it claims (librosa and mir_eval are not needed here)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.structure import FORMS, TEMPI, _spec, grid
from mock_server.audio.analysis import AnalysisResult
from mock_server.audio.similarity import encode_similarity
from mock_server.audio.synth import PICKUP, render_song


@pytest.mark.parametrize("name", list(FORMS))
def test_each_song_plays_its_form_once(name: str) -> None:
    fields = FORMS[name]
    truth = render_song(_spec(fields, TEMPI[-1], seed=1)).truth
    labels = [s.label for s in truth.sections if s.label != PICKUP]
    assert tuple(labels) == fields["form"]
    assert truth.sections[-1].end - truth.sections[-1].start > 1.0


def test_the_grid_cuts_every_eight_bars_and_tiles_the_song() -> None:
    analysis = AnalysisResult(
        duration=100.0,
        tempo=120,
        boundaries=(0.0, 0.5),
        similarity=encode_similarity(np.eye(2)),
        features=None,
    )
    intervals, labels = grid(analysis)
    assert intervals[0][0] == 0.0 and intervals[-1][1] == 100.0
    assert intervals[1][0] == pytest.approx(16.0)
    assert set(labels) == {0}
