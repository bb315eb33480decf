"""`upload(file)` on a test's handle, in this process and over the control API alike: a local
file or bytes become a retrievalUrl that any route takes as its source."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from mock_server.songs import SONG_DIR
from mock_server.testing import MockHandle


def structure(mock: MockHandle, source: str) -> Any:
    request = urllib.request.Request(
        f"{mock.base_url}/structure",
        data=json.dumps({"sourceFileUrl": source}).encode(),
        headers={"X-API-Key": mock.api_key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def test_an_uploaded_file_is_a_source(mock: MockHandle, tmp_path: Path) -> None:
    song = tmp_path / "song.mp3"
    song.write_bytes((SONG_DIR / "pop_120.mp3").read_bytes())
    url = mock.upload(song)
    with urllib.request.urlopen(url, timeout=30) as served:
        assert served.read() == song.read_bytes()
    sections = structure(mock, url)["sections"]
    assert sections[0]["startMs"] == 0 and len(sections) >= 2
    assert mock.last_call("/structure").request == {"sourceFileUrl": url}


def test_bytes_upload_too_and_each_upload_is_a_new_url(mock: MockHandle) -> None:
    data = (SONG_DIR / "pop_120.mp3").read_bytes()
    first, second = mock.upload(data), mock.upload(data)
    assert first != second
    assert mock.calls("/upload") and len(mock.calls("/upload")) == 2
