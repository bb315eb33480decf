"""The workflow: a song in, a jingle of about `target_seconds` out.

analyze -> wait for the analysis -> resize (synchronous) -> pick the best candidate ->
export it -> wait -> download. Waiting prefers the webhook and falls back to polling, within the
reference's 7 minutes; an export whose link has expired by the time it is downloaded is
exported once more.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jingle_maker.client import AudjustClient
from jingle_maker.errors import ExportFailed, JobFailed, ResultNotFound
from jingle_maker.models import AnalysisResult, Candidate, ExportFormat

log = logging.getLogger(__name__)

# (request_id, timeout seconds) -> the webhook payload for that request, or None (or
# TimeoutError) if none arrived in time. `JobStore.wait_for_payload` is one.
WebhookWaiter = Callable[[str, float], Mapping[str, Any] | None]


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


def make_jingle(
    client: AudjustClient,
    source_url: str,
    target_seconds: float,
    webhook_url: str,
    wait_for_webhook: WebhookWaiter,
    *,
    fmt: ExportFormat = "mp3_128",
    webhook_timeout: float = 60.0,
) -> bytes:
    """The audio file of the best edit of `source_url` to about `target_seconds`.

    Each queued step waits up to `webhook_timeout` for its webhook, then polls its result URL
    until `client.result_timeout` after the request was acknowledged (ResultTimeout then).
    A failure webhook raises JobFailed, a failed export group ExportFailed.
    """
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

    def export_once() -> bytes:
        return _export(
            client, source_url, webhook_url, best, fmt, wait_for_webhook, webhook_timeout
        )

    try:
        return export_once()
    except ResultNotFound:
        # The webhook said the file was made, yet its link answers 404: it expired before we got
        # to it (artifacts are kept for a limited time). A new export makes a fresh link; if that
        # one is gone too, something else is wrong and the 404 is raised.
        log.warning("the exported file of %s expired before download; exporting again", source_url)
        return export_once()


def _export(
    client: AudjustClient,
    source_url: str,
    webhook_url: str,
    candidate: Candidate,
    fmt: ExportFormat,
    wait_for_webhook: WebhookWaiter,
    webhook_timeout: float,
) -> bytes:
    ack = client.export(source_url, webhook_url, [candidate.segments_seconds], fmt)
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
