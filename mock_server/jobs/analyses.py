"""A content-addressed cache of analyses, so a client suite that analyses the same few songs
again and again pays for each song once.

The key is what shapes the engine's result: the source bytes' hash, the options (raw features,
the decode limits) and the engine's version, which is a hash of the engine's own source, so any
change to the engine misses the cache by itself. What is applied after the engine (pricing,
profiles, contract_edges) is applied to a cached result as to a fresh one, so it need not be in
the key. Results are kept as the JSON they are sent as (`analysis_from_json` reads one back as the
engine's AnalysisResult, whose `to_json` gives the same JSON again, byte for byte; the job runner
keeps each beside the song's waveform summary, for the dashboard);
in memory (bounded, least recently used first out) and on disk in one folder (bounded, oldest
first out), where a restart on the same --data-dir finds them again. A reset keeps them: the same
bytes analyse the same way in every test.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import astuple
from functools import cache
from pathlib import Path
from typing import Any

import mock_server.audio
from mock_server.audio.analysis import AnalysisResult
from mock_server.audio.similarity import EncodedSimilarity
from mock_server.audio.types import DecodeLimits

MEMORY_BYTES = 64 * 1024 * 1024
DISK_BYTES = 1024 * 1024 * 1024


@cache
def engine_version() -> str:
    """A hash of the engine's source files: a new engine never reads an old engine's result."""
    digest = hashlib.sha256()
    for path in sorted(Path(mock_server.audio.__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def analysis_from_json(result: Mapping[str, Any]) -> AnalysisResult:
    """The analysis whose `to_json()` is `result`: what the cache (and the engine's worker
    processes) hand over as JSON, typed again for the domain."""
    features = result.get("features")
    return AnalysisResult(
        duration=result["duration"],
        tempo=result["tempo"],
        boundaries=tuple(result["boundaries"]),
        similarity=EncodedSimilarity(**result["similarity"]),
        features=None if features is None else tuple(tuple(vector) for vector in features),
    )


def analysis_key(data: bytes, raw_features: bool, limits: DecodeLimits) -> str:
    """The cache key of analysing `data` so (hashing a 5 MB file takes a few milliseconds:
    call it off the event loop)."""
    digest = hashlib.sha256(data)
    digest.update(json.dumps([raw_features, astuple(limits), engine_version()]).encode())
    return digest.hexdigest()


class AnalysisCache:
    def __init__(
        self, folder: Path | None, memory_bytes: int = MEMORY_BYTES, disk_bytes: int = DISK_BYTES
    ) -> None:
        self.folder = folder
        self.memory_bytes = memory_bytes
        self.disk_bytes = disk_bytes
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._held = 0
        self.hits = 0
        self.misses = 0
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def get(self, key: str) -> dict[str, Any] | None:
        text = self._memory.get(key)
        if text is not None:
            self._memory.move_to_end(key)
        elif self.folder is not None and (self.folder / f"{key}.json").is_file():
            text = (self.folder / f"{key}.json").read_bytes()
            self._remember(key, text)
        if text is None:
            self.misses += 1
            return None
        self.hits += 1
        result: dict[str, Any] = json.loads(text)
        return result

    def put(self, key: str, result: dict[str, Any]) -> None:
        text = json.dumps(result).encode()
        self._remember(key, text)
        if self.folder is not None:
            path = self.folder / f"{key}.json"
            temporary = path.with_suffix(".tmp")
            temporary.write_bytes(text)
            temporary.replace(path)  # a reader sees the whole result or none
            self._trim_disk()

    def _remember(self, key: str, text: bytes) -> None:
        if len(text) > self.memory_bytes:
            return
        self._held += len(text) - len(self._memory.pop(key, b""))
        self._memory[key] = text
        while self._held > self.memory_bytes:
            _, dropped = self._memory.popitem(last=False)
            self._held -= len(dropped)

    def _trim_disk(self) -> None:
        assert self.folder is not None
        files = sorted(self.folder.glob("*.json"), key=lambda path: path.stat().st_mtime)
        total = sum(path.stat().st_size for path in files)
        for path in files:
            if total <= self.disk_bytes:
                break
            total -= path.stat().st_size
            path.unlink(missing_ok=True)

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "entries": len(self._memory)}
