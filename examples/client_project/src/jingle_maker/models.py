"""What the Audjust API answers, as typed values parsed from its JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

ExportFormat = Literal["mp3_128", "mp3_256", "mp3_320", "wav"]
Segment = tuple[float, float]


class UnexpectedResponse(ValueError):
    """A JSON answer without a field the reference promises."""


def _field(data: Mapping[str, Any], name: str) -> Any:
    if name not in data:
        raise UnexpectedResponse(f"the answer has no {name!r}: {sorted(data)}")
    return data[name]


def _str(data: Mapping[str, Any], name: str) -> str:
    value = _field(data, name)
    if not isinstance(value, str):
        raise UnexpectedResponse(f"{name!r} is not a string: {value!r}")
    return value


def _number(data: Mapping[str, Any], name: str) -> float:
    value = _field(data, name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UnexpectedResponse(f"{name!r} is not a number: {value!r}")
    return float(value)


def _int(data: Mapping[str, Any], name: str) -> int:
    value = _field(data, name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnexpectedResponse(f"{name!r} is not an integer: {value!r}")
    return value


def _list(data: Mapping[str, Any], name: str) -> list[Any]:
    value = _field(data, name)
    if not isinstance(value, list):
        raise UnexpectedResponse(f"{name!r} is not a list: {value!r}")
    return value


@dataclass(frozen=True)
class Ack:
    """A queued request: analyze, or resize with a webhook."""

    request_id: str
    result_url: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Ack:
        return cls(_str(data, "requestId"), _str(data, "resultUrl"))


@dataclass(frozen=True)
class UploadSlot:
    """Where a local file goes (`storage_url`, for one PUT of its bytes) and where Audjust then
    reads it (`retrieval_url`, a source URL for every endpoint)."""

    storage_url: str
    retrieval_url: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UploadSlot:
        return cls(_str(data, "storageUrl"), _str(data, "retrievalUrl"))


@dataclass(frozen=True)
class ExportAck:
    """A queued export: one URL per segments group, in the order of the groups."""

    request_id: str
    result_urls: tuple[str, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportAck:
        return cls(_str(data, "requestId"), tuple(str(url) for url in _list(data, "resultUrls")))


@dataclass(frozen=True)
class Similarity:
    """The compressed self-similarity matrix: the lower triangle, row by row, as characters."""

    data: str
    min: int
    max: int

    def between(self, i: int, j: int) -> float:
        """Similarity of beats i and j, 0 (unrelated) to 1 (identical), as the reference decodes
        it."""
        row, col = max(i, j), min(i, j)
        code = ord(self.data[(row + 1) * row // 2 + col])
        return (code - self.min) / (self.max - self.min)

    def to_json(self) -> dict[str, Any]:
        return {"data": self.data, "min": self.min, "max": self.max}


@dataclass(frozen=True)
class AnalysisResult:
    duration: float
    tempo: float
    similarity: Similarity
    boundaries: tuple[float, ...]
    features: tuple[tuple[float, ...], ...] | None = None
    request_id: str | None = None
    credit_cost: int | None = None

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> AnalysisResult:
        """From the analyze webhook payload or the JSON at its resultUrl (the same document),
        or from its `result` object alone, as you may have cached it."""
        result = payload.get("result", payload)
        if not isinstance(result, Mapping):
            raise UnexpectedResponse(f"'result' is not an object: {result!r}")
        similarity = _field(result, "similarity")
        if not isinstance(similarity, Mapping):
            raise UnexpectedResponse(f"'similarity' is not an object: {similarity!r}")
        features = result.get("features")
        cost = payload.get("creditCost")
        request_id = payload.get("requestId")
        return cls(
            duration=_number(result, "duration"),
            tempo=_number(result, "tempo"),
            similarity=Similarity(
                _str(similarity, "data"),
                int(_number(similarity, "min")),
                int(_number(similarity, "max")),
            ),
            boundaries=tuple(float(b) for b in _list(result, "boundaries")),
            features=(
                tuple(tuple(float(v) for v in row) for row in features)
                if isinstance(features, list)
                else None
            ),
            request_id=request_id if isinstance(request_id, str) else None,
            credit_cost=int(cost) if isinstance(cost, int | float) else None,
        )


def _segments(raw: Sequence[Any]) -> tuple[Segment, ...]:
    return tuple((float(start), float(end)) for start, end in raw)


@dataclass(frozen=True)
class Candidate:
    """One resize result: the segments that, played in order, make the new audio."""

    dissimilarity: float
    blended_score: float
    segments_beats: tuple[tuple[int, int], ...]
    segments_seconds: tuple[Segment, ...]
    duration_seconds: float

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Candidate:
        return cls(
            dissimilarity=_number(data, "dissimilarity"),
            blended_score=_number(data, "blendedScore"),
            segments_beats=tuple((int(s), int(e)) for s, e in _list(data, "segmentsBeats")),
            segments_seconds=_segments(_list(data, "segmentsSeconds")),
            duration_seconds=_number(data, "durationSeconds"),
        )

    @property
    def cuts(self) -> int:
        return len(self.segments_seconds) - 1


def candidates_from_payload(payload: Mapping[str, Any]) -> list[Candidate]:
    """The candidates of a resize answer, webhook payload or resize.json, in the order sent."""
    return [Candidate.from_json(item) for item in _list(payload, "result")]


@dataclass(frozen=True)
class Section:
    """One part of a song, from `start_ms` to `end_ms`. Labels run from 0 to 1000: the closer two
    sections' labels, the more alike they sound (a repeated chorus gets equal or near labels)."""

    start_ms: int
    end_ms: int
    label: int

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Section:
        return cls(_int(data, "startMs"), _int(data, "endMs"), _int(data, "label"))

    @property
    def start_seconds(self) -> float:
        return self.start_ms / 1000


def sections_from_payload(payload: Mapping[str, Any]) -> list[Section]:
    """The sections of a structure answer, in the order sent (the song's); at least one."""
    sections = [Section.from_json(item) for item in _list(payload, "sections")]
    if not sections:
        raise UnexpectedResponse("'sections' is empty")
    return sections
