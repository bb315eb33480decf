"""Stored results: JSON payloads and exported files on disk, each with its expiry in mock time.

Each request's folder keeps an index of its results, so a mock restarted on the same --data-dir
serves what it had finished before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.contract.results import REQUEST_ID, content_type, is_result_path

INDEX = ".artifacts.json"  # in each request's folder: result name -> expiry (mock time)


@dataclass(frozen=True)
class Artifact:
    path: Path
    content_type: str
    expires_at: float


class ArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_request: dict[str, dict[str, Artifact]] = {}
        self._load()

    def _load(self) -> None:
        """Pick up the results a previous run left in `root`."""
        for index in self.root.glob(f"*/{INDEX}"):
            request_id = index.parent.name
            if not REQUEST_ID.match(request_id):
                continue
            results = self._by_request.setdefault(request_id, {})
            for name, expires_at in json.loads(index.read_text()).items():
                path = index.parent / name
                if is_result_path(request_id, name) and path.is_file():
                    results[name] = Artifact(path, content_type(name), expires_at)

    def _place(self, request_id: str, name: str, content: bytes, expires_at: float) -> None:
        folder = self.root / request_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_bytes(content)
        results = self._by_request.setdefault(request_id, {})
        results[name] = Artifact(path, content_type(name), expires_at)
        expiries = {result: artifact.expires_at for result, artifact in results.items()}
        (folder / INDEX).write_text(json.dumps(expiries))

    def put_json(
        self, request_id: str, name: str, payload: dict[str, Any], expires_at: float
    ) -> None:
        self._place(request_id, name, json.dumps(payload).encode(), expires_at)

    def put_file(self, request_id: str, name: str, data: bytes, expires_at: float) -> None:
        self._place(request_id, name, data, expires_at)

    def get(self, request_id: str, name: str, now: float) -> Artifact | None:
        """The artifact if the names are valid, it is stored and it has not expired."""
        if not is_result_path(request_id, name):
            return None
        artifact = self._by_request.get(request_id, {}).get(name)
        if artifact is None or artifact.expires_at <= now:
            return None
        return artifact

    def remove(self, request_ids: Iterable[str]) -> None:
        """Forget the results of these requests (a namespace's reset)."""
        for request_id in request_ids:
            for artifact in self._by_request.pop(request_id, {}).values():
                artifact.path.unlink(missing_ok=True)
            (self.root / request_id / INDEX).unlink(missing_ok=True)

    def reset(self) -> None:
        for request_id, results in self._by_request.items():
            for artifact in results.values():
                artifact.path.unlink(missing_ok=True)
            (self.root / request_id / INDEX).unlink(missing_ok=True)
        self._by_request.clear()
