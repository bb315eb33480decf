"""Recordings of real traffic (written by `audjust-mock proxy --record`), and replaying them:
`serve --replay DIR` answers a request that matches one with the recorded result instead of the
engine's, under new ids and the mock's own result URLs.

A recording is a folder holding `exchange.json` (format `audjust-mock-recording`, version 1,
`schemas/recording.json`) and the result files under their result names. A request matches when
its route is the recording's and its body equals the recorded request body once the volatile
fields (`VOLATILE_FIELDS`: ids, URLs, the webhook) are left out of both.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mock_server.operations import Analyzed, Exported, Outcome, Resized, Workshop
from mock_server.schemas import validate

FORMAT = "audjust-mock-recording"
VERSION = 1
SCHEMA = "recording"
EXCHANGE_FILE = "exchange.json"
# Fields whose values differ on every run of the same request: a replay and a diff ignore them.
VOLATILE_FIELDS = frozenset({"requestId", "resultUrl", "resultUrls", "resultWebhook", "failures"})


def without_volatile(node: Any) -> Any:
    """`node` with every volatile field left out, at any depth."""
    if isinstance(node, dict):
        return {k: without_volatile(v) for k, v in node.items() if k not in VOLATILE_FIELDS}
    if isinstance(node, list):
        return [without_volatile(item) for item in node]
    return node


def _canonical(body: object) -> str:
    return json.dumps(without_volatile(body), sort_keys=True)


@dataclass(frozen=True)
class Recording:
    """One recorded exchange that can be replayed: a request and its successful result."""

    folder: Path
    route: str  # "analyze", "resize" or "export"
    request: str  # the request body, canonical and without volatile fields
    payload: dict[str, Any]  # the result as the webhook (or a synchronous resize) carried it
    files: dict[str, bytes] = field(default_factory=dict)  # result name -> bytes


def load(root: Path) -> list[Recording]:
    """Every replayable recording under `root`, in folder order; a recording that breaks the
    format raises ValueError naming it, since a replay that silently skips it would mislead."""
    found = []
    for path in sorted(root.glob(f"*/{EXCHANGE_FILE}")):
        try:
            document = json.loads(path.read_text())
            validate(SCHEMA, document)
        except ValueError as broken:  # jsonschema's ValidationError is one too
            raise ValueError(f"{path} is not a recording: {broken}") from broken
        recording = _replayable(path.parent, document)
        if recording is not None:
            found.append(recording)
    return found


def _replayable(folder: Path, document: dict[str, Any]) -> Recording | None:
    """The recording, if it holds a successful result (and, for an export, its files)."""
    answer = document["answer"]
    bodies = [hook["body"] for hook in document["webhooks"]] + [answer.get("body")]
    payload = next(
        (
            b
            for b in bodies
            if isinstance(b, dict) and b.get("success") is True and "creditCost" in b
        ),
        None,
    )
    if payload is None:
        return None
    route = document["route"].lstrip("/")
    files: dict[str, bytes] = {}
    for result in document["results"]:
        if result["status"] == 200 and (folder / result["file"]).is_file():
            files[result["file"]] = (folder / result["file"]).read_bytes()
    if route == "export" and len(files) < len(payload["resultUrls"]) - len(payload["failures"]):
        return None
    return Recording(folder, route, _canonical(document["request"]["body"]), payload, files)


class Replays:
    """The recordings a mock replays, looked up by route and body."""

    def __init__(self, recordings: Sequence[Recording]) -> None:
        self.recordings = list(recordings)

    def match(self, route: str, body: object) -> Recording | None:
        wanted = _canonical(body)
        return next((r for r in self.recordings if r.route == route and r.request == wanted), None)

    def closest(self, route: str, body: object) -> Recording | None:
        """The recording of `route` whose request is most like `body`, to name in a refusal."""
        wanted = _canonical(body)
        same_route = [r for r in self.recordings if r.route == route]
        return max(
            same_route,
            key=lambda r: difflib.SequenceMatcher(None, r.request, wanted).ratio(),
            default=None,
        )


@dataclass(frozen=True)
class Replayed:
    """An operation that makes nothing: it stores the recorded files under this request's
    result names and returns the recorded result and cost."""

    recording: Recording
    urls: Sequence[str] = ()  # export: this request's result URLs, in group order

    async def run(self, shop: Workshop) -> Outcome:
        payload = self.recording.payload
        cost = int(payload["creditCost"])
        if self.recording.route == "analyze":
            return Analyzed(payload["result"], cost)
        if self.recording.route == "resize":
            return Resized(payload["result"], cost)
        failures: dict[str, str] = {}
        for old, new in zip(payload["resultUrls"], self.urls, strict=True):
            name = Path(urlsplit(old).path).name
            if old in payload["failures"]:
                failures[new] = payload["failures"][old]
            else:
                shop.store_file(name, self.recording.files[name])
        return Exported(self.urls, failures, cost)
