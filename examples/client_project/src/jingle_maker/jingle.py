"""The workflow: a song in, a jingle of about `target_seconds` out.

The best edit: analyze -> wait for the analysis -> resize (synchronous) -> pick the best
candidate -> export it -> wait -> download. From the chorus: structure (synchronous) -> the two
most alike sections -> export from the first -> wait -> download.

The song is a URL Audjust can download, or a local file (a Path), uploaded first. Waiting prefers
the webhook and falls back to polling, within the reference's 7 minutes; an export whose link has
expired by the time it is downloaded is exported once more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

from jingle_maker.client import AudjustClient
from jingle_maker.errors import ExportFailed, JobFailed, ResultNotFound
from jingle_maker.models import AnalysisResult, Candidate, ExportFormat, Section, Segment

log = logging.getLogger(__name__)

# (request_id, timeout seconds) -> the webhook payload for that request, or None (or
# TimeoutError) if none arrived in time. `JobStore.wait_for_payload` is one.
WebhookWaiter = Callable[[str, float], Mapping[str, Any] | None]
# A URL Audjust can download, or a local file to upload first.
Source = str | Path


class NoCandidates(JobFailed):
    """Resize returned no candidate at all."""


def pick_best(candidates: Sequence[Candidate], target_seconds: float) -> Candidate:
    """The highest blendedScore; among equal scores, the duration closest to the target."""
    if not candidates:
        raise NoCandidates("resize returned no candidates")
    return max(
        candidates,
        key=lambda c: (c.blended_score, -abs(c.duration_seconds - target_seconds)),
    )


def most_alike(sections: Sequence[Section]) -> tuple[Section, Section] | None:
    """The two sections whose labels are closest, earlier first: the part of the song that comes
    back (a chorus, most often). Among equally close pairs, the one that starts first. None for
    a song of one section, where nothing comes back."""
    pairs = combinations(sorted(sections, key=lambda s: s.start_ms), 2)
    return min(pairs, key=lambda pair: abs(pair[0].label - pair[1].label), default=None)


def make_jingle(
    client: AudjustClient,
    source: Source,
    target_seconds: float,
    webhook_url: str,
    wait_for_webhook: WebhookWaiter,
    *,
    fmt: ExportFormat = "mp3_128",
    webhook_timeout: float = 60.0,
    from_chorus: bool = False,
) -> bytes:
    """The audio file of about `target_seconds` of `source`: its best edit to that length, or,
    `from_chorus`, the stretch that starts where its most repeated part first comes (shorter when
    the song ends sooner).

    Each queued step waits up to `webhook_timeout` for its webhook, then polls its result URL
    until `client.result_timeout` after the request was acknowledged (ResultTimeout then).
    A failure webhook raises JobFailed, a failed export group ExportFailed.
    """
    source_url = _source_url(client, source)
    if from_chorus:
        segments = chorus_segments(client.structure(source_url), target_seconds)
    else:
        segments = _best_edit(
            client,
            source_url,
            target_seconds,
            webhook_url=webhook_url,
            wait_for_webhook=wait_for_webhook,
            webhook_timeout=webhook_timeout,
        )

    def export_once(source_url: str) -> bytes:
        return _export(
            client, source_url, webhook_url, segments, fmt, wait_for_webhook, webhook_timeout
        )

    try:
        return export_once(source_url)
    except ResultNotFound:
        # The webhook said the file was made, yet its link answers 404: it expired before we got
        # to it (artifacts are kept for a limited time). A new export makes a fresh link; if that
        # one is gone too, something else is wrong and the 404 is raised. An upload lasts an
        # hour, so by then it may have gone as well: a local file is uploaded again.
        log.warning("the exported file of %s expired before download; exporting again", source_url)
        return export_once(_source_url(client, source))


def chorus_segments(sections: Sequence[Section], seconds: float) -> tuple[Segment, ...]:
    """Up to `seconds` from the earlier of `most_alike`'s two sections (from the start of a song
    of one section), cut where the song ends."""
    pair = most_alike(sections)
    start_ms = pair[0].start_ms if pair else 0
    # In whole milliseconds, as the sections are: 7.72 + 4 is not 11.72 in floating point.
    end_ms = min(start_ms + round(seconds * 1000), max(s.end_ms for s in sections))
    return ((start_ms / 1000, end_ms / 1000),)


def _best_edit(
    client: AudjustClient,
    source_url: str,
    target_seconds: float,
    *,
    webhook_url: str,
    wait_for_webhook: WebhookWaiter,
    webhook_timeout: float,
) -> tuple[Segment, ...]:
    """analyze -> wait for the analysis -> resize (synchronous) -> the best candidate's
    segments."""
    ack = client.analyze(source_url, webhook_url)
    deadline = client.clock() + client.result_timeout
    payload = _webhook(client, wait_for_webhook, ack.request_id, webhook_timeout)
    if payload is None:
        log.info("no analysis webhook for %s; polling %s", ack.request_id, ack.result_url)
        payload = client.fetch_result(ack.result_url, timeout=_remaining(client, deadline))
    _raise_if_failed(payload, ack.request_id)
    analysis = AnalysisResult.from_payload(payload)

    best = pick_best(client.resize(analysis, target_seconds), target_seconds)
    log.info(
        "best edit of %s: %s s, score %.4f", source_url, best.duration_seconds, best.blended_score
    )
    return best.segments_seconds


def _source_url(client: AudjustClient, source: Source) -> str:
    return client.upload(source) if isinstance(source, Path) else source


def _export(
    client: AudjustClient,
    source_url: str,
    webhook_url: str,
    segments: Sequence[Segment],
    fmt: ExportFormat,
    wait_for_webhook: WebhookWaiter,
    webhook_timeout: float,
) -> bytes:
    ack = client.export(source_url, webhook_url, [segments], fmt)
    deadline = client.clock() + client.result_timeout
    url = ack.result_urls[0]
    payload = _webhook(client, wait_for_webhook, ack.request_id, webhook_timeout)
    if payload is None:
        # No webhook: the file's URL answers 404 until the file exists, so poll it.
        log.info("no export webhook for %s; polling %s", ack.request_id, url)
        return client.wait_for_file(url, timeout=_remaining(client, deadline))
    _raise_if_failed(payload, ack.request_id)
    failures = payload.get("failures")
    if isinstance(failures, Mapping) and url in failures:
        raise ExportFailed(f"export failed: {failures[url]}", ack.request_id, url)
    return client.download(url)


def _webhook(
    client: AudjustClient, wait_for_webhook: WebhookWaiter, request_id: str, timeout: float
) -> Mapping[str, Any] | None:
    """The webhook payload for `request_id`, or None if none came within `timeout` (and never
    longer than the client's deadline for the whole request)."""
    try:
        return wait_for_webhook(request_id, min(timeout, client.result_timeout))
    except TimeoutError:
        return None


def _remaining(client: AudjustClient, deadline: float) -> float:
    return max(0.0, deadline - client.clock())


def _raise_if_failed(payload: Mapping[str, Any], request_id: str) -> None:
    if payload.get("success") is False:
        raise JobFailed(str(payload.get("message") or "the request failed"), request_id)
