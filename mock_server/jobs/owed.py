"""The jobs still owed a webhook, on disk under --data-dir: a mock stopped mid-job owes each of
them an answer after the restart (the result if it had finished, a failure if not), so no
acknowledged request is ever silently dropped."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class OwedJob:
    request_id: str
    webhook: str
    source_url: str | None
    payload: dict[str, Any] | None = None  # the final payload, once the job has one


class JobLedger:
    """One small JSON file per job from acknowledgement until its webhook is settled; without a
    folder (no --data-dir) it keeps nothing, since nothing outlives the process anyway."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)

    def _write(self, entry: OwedJob) -> None:
        if self.folder is not None:
            path = self.folder / f"{entry.request_id}.json"
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(asdict(entry)))
            temporary.replace(path)  # a crash leaves the old record or the new, never half

    def opened(self, request_id: str, webhook: str, source_url: str | None) -> None:
        self._write(OwedJob(request_id, webhook, source_url))

    def finished(self, entry: OwedJob) -> None:
        self._write(entry)

    def settled(self, request_id: str) -> None:
        if self.folder is not None:
            (self.folder / f"{request_id}.json").unlink(missing_ok=True)

    def owed(self) -> list[OwedJob]:
        if self.folder is None:
            return []
        return [OwedJob(**json.loads(path.read_text())) for path in self.folder.glob("*.json")]

    def clear(self) -> None:
        if self.folder is not None:
            for path in self.folder.glob("*.json"):
                path.unlink(missing_ok=True)
