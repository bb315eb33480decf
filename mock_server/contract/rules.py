"""What the contract promises beyond what a JSON Schema can say, as plain functions.

Each raises AssertionError naming the broken promise. They take documents, not a target, so the
contract suite applies them to live answers, `audjust-mock proxy` to a client's real traffic and
the project's tests to the example payloads: one set of rules for all three.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from numpy.typing import NDArray

# Seconds are rounded to hundredths on the wire; allow for that and float noise.
SECONDS_TOLERANCE = 0.006
# durationSeconds in whole seconds, rounded either way (the reference's 34 for 33.65 s).
DURATION_TOLERANCE = 1.0 + SECONDS_TOLERANCE
TEMPO_RANGE = (30, 300)
# The three documented operations' credit rates per minute.
RATES = {"analyze": 10, "analyze_raw_features": 15, "resize": 4, "export": 1}


def similarity_values(similarity: dict[str, Any]) -> NDArray[np.float64]:
    """The reference's parseSimilarityMapString: (code - min) / (max - min) per character."""
    codes = np.frombuffer(similarity["data"].encode("utf-32-le"), dtype="<u4").astype(np.float64)
    low, high = similarity["min"], similarity["max"]
    values: NDArray[np.float64] = (codes - low) / (high - low)
    return values


def diag_index(row: int, col: int) -> int:
    """The reference's getDiagIndex."""
    i, j = max(row, col), min(row, col)
    return (i + 1) * i // 2 + j


def check_similarity_length(similarity: dict[str, Any], beats: int) -> None:
    data = similarity["data"]
    expected = beats * (beats + 1) // 2
    assert len(data) == expected, (
        f"similarity.data has {len(data)} characters; N = {beats} boundaries need N(N+1)/2 = "
        f"{expected}"
    )


def check_similarity_range(similarity: dict[str, Any]) -> None:
    data, low, high = similarity["data"], similarity["min"], similarity["max"]
    assert low < high, f"similarity min {low} is not below max {high}"
    outside = sorted({c for c in data if not low <= ord(c) <= high})
    assert not outside, f"similarity characters outside [{low}, {high}]: {outside[:10]}"


def check_similarity_diagonal(similarity: dict[str, Any], beats: int) -> None:
    values = similarity_values(similarity)
    diagonal = values[[diag_index(i, i) for i in range(beats)]]
    assert diagonal.min() >= 0.9, (
        f"a beat should be similar to itself, but the diagonal goes down to {diagonal.min():.3f} "
        f"(beat {int(diagonal.argmin())})"
    )


def check_boundaries(boundaries: Sequence[float], duration: float) -> None:
    assert boundaries, "boundaries is empty"
    assert boundaries[0] == 0, f"boundaries start at {boundaries[0]}, not 0"
    steps = [b - a for a, b in itertools.pairwise(boundaries)]
    bad = [i for i, step in enumerate(steps) if step <= 0]
    assert not bad, f"boundaries do not increase at index {bad[0] + 1}"
    assert boundaries[-1] < duration, f"last boundary {boundaries[-1]} is not before {duration}"


def check_sections(sections: Sequence[Mapping[str, Any]]) -> None:
    """A structure's sections as the known client reads them: from 0, each starting where the
    last ended (its docs' example is so), each longer than nothing."""
    assert sections, "no sections"
    assert sections[0].get("startMs") == 0, f"the first section starts at {sections[0]}"
    for before, after in itertools.pairwise(sections):
        assert before.get("endMs") == after.get("startMs"), f"a gap or overlap: {before}, {after}"
    short = [s for s in sections if not s.get("startMs", 0) < s.get("endMs", 0)]
    assert not short, f"a section that does not end after it starts: {short[0]}"


def check_feature_vectors(features: Sequence[Sequence[float]], beats: int) -> None:
    """One non-empty vector per beat, all of one length (an embedding to compare beats by)."""
    assert len(features) == beats, f"{len(features)} feature vectors for {beats} boundaries"
    lengths = {len(vector) for vector in features}
    assert len(lengths) == 1 and min(lengths) > 0, f"feature vectors of lengths {lengths}"


def check_feature_values(features: Sequence[Sequence[float]]) -> None:
    """Each value within [0, 1], as the example's are (the reference calls them opaque)."""
    flat = [value for vector in features for value in vector]
    assert all(0 <= value <= 1 for value in flat), (
        f"feature values outside [0, 1]: min {min(flat)}, max {max(flat)}"
    )


def check_features(features: Sequence[Sequence[float]], beats: int) -> None:
    check_feature_vectors(features, beats)
    check_feature_values(features)


def check_tempo(tempo: object) -> None:
    assert isinstance(tempo, int), f"tempo {tempo!r} is not an integer"
    low, high = TEMPO_RANGE
    assert low <= tempo <= high, f"tempo {tempo} BPM is outside [{low}, {high}]"


def check_segments_on_boundaries(candidate: dict[str, Any], boundaries: Sequence[float]) -> None:
    beats, seconds = candidate["segmentsBeats"], candidate["segmentsSeconds"]
    assert len(beats) == len(seconds), "segmentsBeats and segmentsSeconds differ in length"
    for (start, end), (start_s, end_s) in zip(beats, seconds, strict=True):
        assert 0 <= start < end < len(boundaries), (
            f"segment [{start}, {end}] is not within the {len(boundaries)} boundaries"
        )
        for index, value in ((start, start_s), (end, end_s)):
            assert abs(boundaries[index] - value) <= SECONDS_TOLERANCE, (
                f"segmentsSeconds says {value} s for beat {index}, boundaries say "
                f"{boundaries[index]} s"
            )


def _segments_total(candidate: dict[str, Any], boundaries: Sequence[float]) -> float:
    return float(
        sum(boundaries[end] - boundaries[start] for start, end in candidate["segmentsBeats"])
    )


def check_duration(candidate: dict[str, Any], boundaries: Sequence[float]) -> None:
    """durationSeconds is the segments' total, to within a second: the reference's example says
    34 for 33.65 s, so whole seconds at least, rounded either way."""
    total = _segments_total(candidate, boundaries)
    reported = candidate["durationSeconds"]
    assert abs(reported - total) <= DURATION_TOLERANCE, (
        f"durationSeconds {reported} but the segments add up to {total:.2f} s"
    )


def check_duration_rounding(candidate: dict[str, Any], boundaries: Sequence[float]) -> None:
    """durationSeconds is the segments' total rounded to the nearest whole second at most, as
    the example's 34 for 33.65 s is."""
    total = _segments_total(candidate, boundaries)
    reported = candidate["durationSeconds"]
    assert abs(reported - total) <= 0.5 + SECONDS_TOLERANCE, (
        f"durationSeconds {reported} is not the segments' {total:.2f} s to the nearest second"
    )


def check_dissimilarity_total(candidate: dict[str, Any]) -> None:
    """dissimilarity is a sum over the cuts: never negative, and 0 without a cut."""
    dissimilarity, cuts = candidate["dissimilarity"], len(candidate["segmentsBeats"]) - 1
    assert dissimilarity >= 0, f"dissimilarity {dissimilarity} is negative"
    assert cuts > 0 or dissimilarity == 0, f"dissimilarity {dissimilarity} without a cut"


def check_dissimilarity(candidate: dict[str, Any], similarity: dict[str, Any]) -> None:
    """dissimilarity is the sum over cuts of 1 - S[end of one segment][start of the next]: the
    mock's own measure of a cut (the reference does not say how a cut is measured)."""
    values = similarity_values(similarity)
    cuts = itertools.pairwise(candidate["segmentsBeats"])
    expected = sum(1 - values[diag_index(a[1], b[0])] for a, b in cuts)
    assert math.isclose(candidate["dissimilarity"], expected, abs_tol=1e-6), (
        f"dissimilarity {candidate['dissimilarity']} but the cuts' similarity gives {expected}"
    )


def check_blended_score_sign(candidate: dict[str, Any]) -> None:
    """blendedScore is never positive: "Negative, higher (closer to 0) is better"."""
    score = candidate["blendedScore"]
    assert score <= 0, f"blendedScore {score} is positive"


def best_first(candidates: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The candidates by blendedScore, best first: the reference says to sort by it, not that
    they come sorted."""
    return sorted(candidates, key=lambda candidate: -candidate["blendedScore"])


def check_best_near_target(candidates: Sequence[dict[str, Any]], target: float) -> None:
    best = min(abs(c["durationSeconds"] - target) for c in best_first(candidates)[:3])
    assert best <= 0.1 * target + 1, (
        f"none of the top three candidates is within 10% + 1 s of the {target} s target "
        f"(closest is {best:.2f} s away)"
    )


def pricing(minutes: float, rate: int) -> dict[str, int]:
    """The cost under each reading of the price list, by rule name."""
    return {
        "examples: max(1, round(minutes x rate))": max(1, math.floor(minutes * rate + 0.5)),
        "documented: max(1, ceil(minutes) x rate)": max(1, math.ceil(minutes) * rate),
    }


def priced_at(
    route: str, sent: Mapping[str, Any], document: Mapping[str, Any]
) -> tuple[str, float]:
    """(the RATES name, the minutes) a successful result's creditCost is priced at, from the
    request and the result: an analysis by the source's duration, a resize by its target
    length, an export by its segments' total."""
    if route == "analyze":
        raw = "raw_features" in sent.get("features", [])
        return ("analyze_raw_features" if raw else "analyze"), document["result"]["duration"] / 60
    if route == "resize":
        return "resize", sent["targetLengthSeconds"] / 60
    seconds = sum(end - start for group in sent["segmentsGroups"] for start, end in group)
    return "export", seconds / 60


def matching_rules(credit_cost: int, minutes: float, rate: int) -> list[str]:
    """The pricing rules under which `credit_cost` is right."""
    rules = [name for name, cost in pricing(minutes, rate).items() if cost == credit_cost]
    assert rules, (
        f"creditCost {credit_cost} for {minutes:.3f} min at {rate}/min follows no rule: "
        f"{pricing(minutes, rate)}"
    )
    return rules


def check_analysis(result: dict[str, Any]) -> None:
    """Every rule an analysis `result` keeps: one similarity value per pair of beats, within
    its min and max, a diagonal near one, increasing boundaries, one feature vector per beat
    (when features were asked for) and a plausible tempo."""
    beats = len(result["boundaries"])
    check_similarity_length(result["similarity"], beats)
    check_similarity_range(result["similarity"])
    check_similarity_diagonal(result["similarity"], beats)
    check_boundaries(result["boundaries"], result["duration"])
    if "features" in result:
        check_features(result["features"], beats)
    check_tempo(result["tempo"])


def check_candidate(candidate: dict[str, Any], analysis: dict[str, Any]) -> None:
    """Every rule a resize candidate keeps against the analysis it was made from: segments on
    its boundaries, its duration their total, its dissimilarity its cuts'."""
    check_segments_on_boundaries(candidate, analysis["boundaries"])
    check_duration(candidate, analysis["boundaries"])
    check_duration_rounding(candidate, analysis["boundaries"])
    check_dissimilarity_total(candidate)
    check_dissimilarity(candidate, analysis["similarity"])
    check_blended_score_sign(candidate)


def check_listed_text(body: str, listed: str) -> None:
    """The listed error's text is in the answer, wherever (no example shows an error's body)."""
    assert listed in body, f"expected the error {listed!r}, got {body[:200]!r}"


def check_error_status_class(status: int, listed: str) -> None:
    assert 400 <= status < 500, f"{listed!r} came with HTTP {status}"


def check_listed_message(message: str, listed: str) -> None:
    """The `message` field starts with the listed text: the mock's envelope."""
    assert message.startswith(listed), f"expected a message starting {listed!r}, got {message!r}"


# The reference's acknowledgement, to the letter: its example's message and its result URL shape
# (`https://results.api.audjust.com/{requestId}/{name}`, a host apart from the API's).
QUEUED_MESSAGE = "Request queued."


def result_urls(ack: dict[str, Any]) -> list[str]:
    urls: list[str] = ack["resultUrls"] if "resultUrls" in ack else [ack["resultUrl"]]
    return urls


def without_query(url: str) -> str:
    """`url` without its query: expiring result URLs may be signed anew each time they are
    given out, and still name the same file."""
    return urlsplit(url)._replace(query="", fragment="").geturl()


def check_ack_message(ack: dict[str, Any]) -> None:
    assert ack.get("message") == QUEUED_MESSAGE, (
        f"the acknowledgement says {ack.get('message')!r}, the reference {QUEUED_MESSAGE!r}"
    )


def check_result_url_count(ack: dict[str, Any], names: Sequence[str]) -> None:
    urls = result_urls(ack)
    assert len(urls) == len(names), f"{len(urls)} result URLs for {len(names)} results"


def check_result_url_shape(ack: dict[str, Any], api_base: str, names: Sequence[str]) -> None:
    """Each result URL exactly at `/{requestId}/{name}` on an origin other than the API's."""
    api_origin = _origin(api_base)
    for url, name in zip(result_urls(ack), names, strict=False):
        parts = urlsplit(url)
        assert parts.path == f"/{ack['requestId']}/{name}", (
            f"result URL {url} is not {{results base}}/{ack['requestId']}/{name}"
        )
        assert _origin(url) != api_origin, (
            f"result URL {url} is on the API's own origin; the reference hosts results apart"
        )


def check_ack_literals(ack: dict[str, Any], api_base: str, names: Sequence[str]) -> None:
    """The message, and one result URL per name at exactly `/{requestId}/{name}` on an origin
    other than the API's."""
    check_ack_message(ack)
    check_result_url_count(ack, names)
    check_result_url_shape(ack, api_base, names)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc
