"""The offline CLI: real files in, JSON or audio out, one-line errors with status 2."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from mock_server.audio.mp3_frames import frames
from mock_server.audio.synth import FIXTURE_SONGS, song_bytes
from mock_server.cli import main
from mock_server.contract.schemas import validate


@pytest.fixture(scope="module")
def song(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "song.mp3"
    path.write_bytes(song_bytes(FIXTURE_SONGS["pop_120"], "mp3"))
    return path


@pytest.fixture(scope="module")
def analysis(song: Path) -> Path:
    out = subprocess.run(
        [sys.executable, "-m", "mock_server", "analyze", str(song), "--raw-features"],
        capture_output=True,
        text=True,
        check=True,
    )
    path = song.with_name("analysis.json")
    path.write_text(out.stdout)
    return path


def test_analyze_prints_the_result_object(analysis: Path) -> None:
    result = json.loads(analysis.read_text())
    assert set(result) == {"duration", "tempo", "similarity", "boundaries", "features"}
    assert result["tempo"] == 120
    assert len(result["features"]) == len(result["boundaries"])


def test_resize_reads_a_result_or_a_whole_webhook(
    analysis: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["resize", str(analysis), "--target", "15"]) == 0
    from_result = json.loads(capsys.readouterr().out)
    webhook = tmp_path / "webhook.json"
    webhook.write_text(json.dumps({"requestId": "x", "result": json.loads(analysis.read_text())}))
    assert main(["resize", str(webhook), "--target", "15"]) == 0
    assert json.loads(capsys.readouterr().out) == from_result
    assert abs(from_result[0]["durationSeconds"] - 15) <= 1


def test_structure_prints_sections_as_the_route_answers_them(
    song: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["structure", str(song)]) == 0
    document = json.loads(capsys.readouterr().out)
    validate("structure-response", document)
    sections = document["sections"]
    assert sections[0]["startMs"] == 0 and len(sections) >= 2
    assert all(a["endMs"] == b["startMs"] for a, b in itertools.pairwise(sections))


def test_export_writes_the_requested_format(song: Path, tmp_path: Path) -> None:
    out = tmp_path / "cut.mp3"
    assert (
        main(
            [
                "export",
                str(song),
                "--segments",
                "[[0,4],[8,12]]",
                "--format",
                "mp3_256",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert {f.bitrate_kbps for f in frames(out.read_bytes())} == {256}
    assert abs(sf.info(str(out)).duration - 8.0) < 0.1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["analyze", "/no/such/file.mp3"], "cannot read /no/such/file.mp3"),
        (["analyze", __file__], "could not be decoded as audio"),
        (["resize", __file__, "--target", "10"], "is not JSON"),
        (["export", __file__, "--segments", "[[0,", "-o", "/tmp/x.wav"], "--segments is not JSON"),
    ],
)
def test_bad_input_is_one_line_and_status_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_invalid_parameters_are_named(analysis: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resize", str(analysis), "--target", "-1"]) == 2
    assert "invalid targetLengthSeconds: " in capsys.readouterr().err


def test_a_failing_export_reports_why(song: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mock_server",
            "export",
            str(song),
            "--segments",
            "[[5,2]]",
            "-o",
            str(tmp_path / "x.wav"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == "audjust-mock export: segment 1 [5, 2]: start must be before end"
    assert not (tmp_path / "x.wav").exists()
