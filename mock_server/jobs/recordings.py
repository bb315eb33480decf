"""Recordings of real traffic (written by `audjust-mock proxy --record`), and replaying them:
`serve --replay DIR` answers a request that matches one with the recorded result (or the recorded
failure) instead of the engine's, under new ids and the mock's own result URLs.

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
from typing import Any, ClassVar
from urllib.parse import urlsplit

import jsonschema

from mock_server.answers import ANSWERABLE
from mock_server.contract.schemas import validate
from mock_server.faults.catalogue import Fault
from mock_server.jobs.job import JobFailed
from mock_server.jobs.operations import Exported, Given, Outcome, Workshop
from mock_server.jsondiff import first_difference

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


class RecordingError(ValueError):
    """A recording folder `serve --replay` cannot use. The message names the file and what is
    wrong with it: a replay that skipped it would answer from the engine instead, and mislead."""


@dataclass(frozen=True)
class Recording:
    """One recorded exchange that can be replayed: a request and how its job ended."""

    folder: Path
    route: str  # "analyze", "resize", "export" or "structure"
    request: str  # the request body, canonical and without volatile fields
    # The success or failure payload, as the webhook (or a synchronous resize) carried it.
    payload: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)  # result name -> bytes

    @property
    def failed(self) -> bool:
        """The upstream failed the job; a replay fails it the same way."""
        return self.payload["success"] is False


# What a replay reads from a recorded success payload, by route.
RESULT_FIELDS = {
    "analyze": ("result",),
    "resize": ("result",),
    "export": ("resultUrls", "failures"),
    "structure": ("sections",),
}


@dataclass(frozen=True)
class Survey:
    """What a recordings folder holds for a replay: what it replays, and what it skips and why
    (`serve --replay` prints both, so a CI log says which requests will come from the engine)."""

    recordings: list[Recording]
    skipped: list[tuple[str, str]]  # (folder name, why)

    def lines(self) -> list[str]:
        counts: dict[str, int] = {}
        for recording in self.recordings:
            counts[recording.route] = counts.get(recording.route, 0) + 1
        shown = ", ".join(f"{route} {n}" for route, n in sorted(counts.items()))
        lines = [f"replay: {len(self.recordings)} recording(s) loaded ({shown})"]
        lines += [f"replay: skipped {folder}: {why}" for folder, why in self.skipped]
        return lines


def load(root: Path) -> list[Recording]:
    """Every replayable recording under `root`, in folder order (see `survey`)."""
    return survey(root).recordings


def survey(root: Path) -> Survey:
    """The recordings under `root`, in folder order, and the ones that cannot be replayed. A
    missing folder, one without recordings or with none that can be replayed, and a recording
    that breaks the format or lacks a result file it lists raise RecordingError."""
    if not root.is_dir():
        raise RecordingError(f"{root}: no such folder")
    paths = sorted(root.glob(f"*/{EXCHANGE_FILE}"))
    if not paths:
        raise RecordingError(f"{root}: no recordings in it (no */{EXCHANGE_FILE})")
    replayable, skipped = [], []
    for path in paths:
        found = _replayable(path, _document(path))
        if isinstance(found, Recording):
            replayable.append(found)
        else:
            skipped.append((path.parent.name, found))
    if not replayable:
        raise RecordingError(
            f"{root}: none of its {len(paths)} recordings ends in a result or a failure to replay"
        )
    return Survey(replayable, skipped)


def _document(path: Path) -> dict[str, Any]:
    """The recording at `path`, checked against `schemas/recording.json`."""
    try:
        document: Any = json.loads(path.read_text())
    except OSError as error:
        raise RecordingError(f"{path}: cannot read it ({error.strerror})") from None
    except ValueError as error:  # UnicodeDecodeError too
        raise RecordingError(f"{path} is not JSON: {error}") from None
    try:
        validate(SCHEMA, document)
    except jsonschema.ValidationError as error:
        pointer = "".join(f"/{part}" for part in error.absolute_path) or "the document"
        raise RecordingError(
            f"{path} breaks schemas/{SCHEMA}.json at {pointer}: {error.message}"
        ) from None
    checked: dict[str, Any] = document
    return checked


def _ending(bodies: Sequence[Any]) -> dict[str, Any] | None:
    """The first body that ends a job: a success or a failure payload (both carry a
    `creditCost`, which an acknowledgement and an error envelope do not)."""
    return next(
        (b for b in bodies if isinstance(b, dict) and "creditCost" in b and "success" in b), None
    )


def _replayable(path: Path, document: dict[str, Any]) -> Recording | str:
    """The recording, if its job ended in a result (and, for an export, its files were
    fetched) or in a failure, else why it cannot be replayed; RecordingError if what a replay
    reads is not there."""
    folder, answer = path.parent, document["answer"]
    if document["route"].lstrip("/") not in RESULT_FIELDS:
        return "an upload is not replayed: a request naming it matches on the uploaded content"
    payload = _ending([hook["body"] for hook in document["webhooks"]] + [answer.get("body")])
    if payload is None or not isinstance(payload["success"], bool):
        return "its job never ended in a result or a failure (refused, unreachable or no webhook)"
    route = document["route"].lstrip("/")
    needed = RESULT_FIELDS[route] if payload["success"] else ("message",)
    for name in needed:
        if name not in payload:
            raise RecordingError(f"{path}: the recorded outcome has no {name!r}")
    if payload["success"] and not isinstance(payload["creditCost"], int):
        raise RecordingError(f"{path}: the recorded creditCost is not a whole number")
    files: dict[str, bytes] = {}
    for result in document["results"]:
        if result["status"] != 200:
            continue
        try:
            files[result["file"]] = (folder / result["file"]).read_bytes()
        except OSError as error:
            raise RecordingError(
                f"{path}: cannot read its result file {result['file']} ({error.strerror})"
            ) from None
    exported = route == "export" and payload["success"]
    if exported and len(files) < len(payload["resultUrls"]) - len(payload["failures"]):
        return "not every result file of the export was fetched, so it cannot be served"
    return Recording(folder, route, _canonical(document["request"]["body"]), payload, files)


class Replays:
    """The recordings a mock replays, looked up by route and body."""

    def __init__(self, survey: Survey) -> None:
        self.survey = survey
        self.recordings = survey.recordings

    def lines(self) -> list[str]:
        """What is replayed and what is skipped, and why: for `serve` to print at start."""
        return self.survey.lines()

    def match(self, route: str, body: object) -> Recording | None:
        wanted = _canonical(body)
        return next((r for r in self.recordings if r.route == route and r.request == wanted), None)

    def difference(self, recording: Recording, body: object) -> str | None:
        """Where `body` first differs from what `recording` was made with."""
        recorded, sent = json.loads(recording.request), without_volatile(body)
        return first_difference(recorded, sent, partial=False, words=("recorded", "sent"))

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
    result names and returns the recorded result and cost, or fails as the recorded job did
    (JobFailed carrying the recorded failure)."""

    recording: Recording
    urls: Sequence[str] = ()  # export: this request's result URLs, in group order
    # The scenarios that bend what the engine makes, which the recording stands in for.
    overrides: ClassVar[frozenset[Fault]] = frozenset(
        {Fault.CONTRACT_EDGES, Fault.PARTIAL_EXPORT_FAILURE}
    )

    async def run(self, shop: Workshop) -> Outcome:
        payload = self.recording.payload
        if self.recording.failed:  # through the runner's failure path, as any failed job
            raise JobFailed(str(payload["message"]), recorded=payload)
        cost = int(payload["creditCost"])
        spec = ANSWERABLE[self.recording.route]
        if spec.result_name is not None and spec.at is not None:  # analyze, resize, structure
            return Given(payload[spec.at], cost, spec.result_name, spec.at)
        failures: dict[str, str] = {}
        for old, new in zip(payload["resultUrls"], self.urls, strict=True):
            name = Path(urlsplit(old).path).name
            if old in payload["failures"]:
                failures[new] = payload["failures"][old]
            else:
                shop.store_file(name, self.recording.files[name])
        return Exported(self.urls, failures, cost)
