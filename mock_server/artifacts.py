"""Stored results: JSON payloads and exported files on disk, each with its expiry in mock time."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUEST_ID = re.compile(r"^[a-z0-9]{32}$")
FILE_NAME = re.compile(r"^(analysis\.json|resize\.json|export_[1-9][0-9]{0,3}\.(mp3|wav))$")
CONTENT_TYPES = {".json": "application/json", ".mp3": "audio/mpeg", ".wav": "audio/wav"}


@dataclass(frozen=True)
class Artifact:
    path: Path
    content_type: str
    expires_at: float


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._artifacts: dict[tuple[str, str], Artifact] = {}

    def _place(self, request_id: str, name: str, content: bytes, expires_at: float) -> None:
        folder = self.root / request_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(content)
        content_type = CONTENT_TYPES[path.suffix]
        self._artifacts[(request_id, name)] = Artifact(path, content_type, expires_at)

    def put_json(
        self, request_id: str, name: str, payload: dict[str, Any], expires_at: float
    ) -> None:
        self._place(request_id, name, json.dumps(payload).encode(), expires_at)

    def put_file(self, request_id: str, name: str, data: bytes, expires_at: float) -> None:
        self._place(request_id, name, data, expires_at)

    def get(self, request_id: str, name: str, now: float) -> Artifact | None:
        """The artifact if the names are valid, it is stored and it has not expired."""
        if not REQUEST_ID.match(request_id) or not FILE_NAME.match(name):
            return None
        artifact = self._artifacts.get((request_id, name))
        if artifact is None or artifact.expires_at <= now:
            return None
        return artifact

    def reset(self) -> None:
        for artifact in self._artifacts.values():
            artifact.path.unlink(missing_ok=True)
        self._artifacts.clear()
