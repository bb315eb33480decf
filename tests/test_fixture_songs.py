"""The fixture generator and the committed sample songs it produced."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import soundfile as sf

from fixtures.generate import DEFAULT_OUT, main, song_document
from mock_server.audio.synth import FIXTURE_SONGS, SongSpec

COMMITTED_LIMIT_BYTES = 3 * 1024 * 1024


def test_generator_writes_audio_and_truth(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(tmp_path), "--seconds", "4", "--format", "wav"]) == 0
    for name, spec in FIXTURE_SONGS.items():
        samples, _ = sf.read(tmp_path / f"{name}.wav", always_2d=True)
        assert samples.shape == (4 * spec.sample_rate, spec.channels)
        document = json.loads((tmp_path / f"{name}.json").read_text())
        assert document["spec"]["duration_seconds"] == 4.0
        assert document["truth"]["tempo_bpm"] == spec.tempo_bpm
        assert all(t < 4.0 for t in document["truth"]["beat_times"])
    assert str(tmp_path / "pop_120.wav") in capsys.readouterr().out


def test_generator_rejects_a_length_shorter_than_the_lead_in(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path), "--seconds", "2"])
    assert exit_info.value.code == 2


def test_committed_samples_match_the_generator() -> None:
    files = sorted(DEFAULT_OUT.iterdir())
    assert sum(path.stat().st_size for path in files) < COMMITTED_LIMIT_BYTES
    for name in FIXTURE_SONGS:
        document = json.loads((DEFAULT_OUT / f"{name}.json").read_text())
        spec_fields = dict(document["spec"], form=tuple(document["spec"]["form"]))
        spec = SongSpec(**spec_fields)
        assert json.loads(json.dumps(song_document(name, spec))) == document
        audio = (DEFAULT_OUT / f"{name}.mp3").read_bytes()
        info = sf.info(io.BytesIO(audio))
        assert info.samplerate == spec.sample_rate
        assert info.duration == pytest.approx(spec.duration_seconds, abs=0.1)
