"""The bundled songs: committed fixture songs, shipped in the wheel, that the mock serves itself,
so a newcomer, a demo or a test needs no file server."""

from __future__ import annotations

import functools
from pathlib import Path

SONG_DIR = Path(__file__).resolve().parent / "data" / "songs"


def song_names() -> list[str]:
    return sorted(path.name for path in SONG_DIR.glob("*.mp3"))


def song_file(name: str) -> str:
    """The file name of the bundled song `name` (`pop_120` or `pop_120.mp3`); LookupError
    naming the songs there are otherwise."""
    file_name = name if name.endswith(".mp3") else f"{name}.mp3"
    names = song_names()
    if file_name not in names:
        raise LookupError(f"no fixture song {name!r}; there are {', '.join(names)}")
    return file_name


@functools.cache
def song_bytes(file_name: str) -> bytes:
    """A bundled song's bytes, read once: served from memory, so that no request the client
    drops half-way leaves a file handle open (a few hundred KiB each, four of them)."""
    return (SONG_DIR / file_name).read_bytes()
