"""A synchronous Audjust API client on `requests`: typed answers, typed errors, bounded retries.

client = AudjustClient("https://api.audjust.com", os.environ["AUDJUST_API_KEY"])
ack = client.analyze("https://example.com/song.mp3", "https://example.com/audjust-webhook")
analysis = AnalysisResult.from_payload(client.fetch_result(ack.result_url))
best = pick_best(client.resize(analysis, target_seconds=30), 30)  # see jingle.py
song_url = client.upload("song.mp3")  # a local file, readable by Audjust for an hour
sections = client.structure(song_url)
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from urllib3.exceptions import NewConnectionError

from jingle_maker.errors import (
    AudjustError,
    RateLimited,
    ResultNotFound,
    ResultTimeout,
    TransientError,
    error_from_response,
)
from jingle_maker.models import (
    Ack,
    AnalysisResult,
    Candidate,
    ExportAck,
    ExportFormat,
    Section,
    Segment,
    UnexpectedResponse,
    UploadSlot,
    candidates_from_payload,
    sections_from_payload,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.audjust.com"
# "Requests will not take longer than 7 minutes to complete. You can consider a request failed if
# it takes longer than that."
RESULT_DEADLINE_SECONDS = 7 * 60
Timeout = float | tuple[float, float]
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before it raises.

    Rate limits: wait as long as Retry-After says, up to `rate_limit_retries` times, unless the
    server asks for more than `max_retry_after` seconds: then raise RateLimited at once (its
    `retry_after` says when to come back) rather than block the caller for minutes.

    Transient failures: retry up to `transient_retries` times, waiting `backoff` seconds, then
    twice that, and so on up to `max_backoff`. No jitter: one process makes one call at a time.
    """

    transient_retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    rate_limit_retries: int = 3
    max_retry_after: float = 60.0
    # Audjust has no idempotency key, so a POST that failed *after* reaching the server (a reset
    # after sending, a read timeout, a 502 from a proxy, a 200 whose JSON was cut off) may
    # already have queued a job; retrying it can queue a second one. We retry anyway by default:
    # - the jobs are deterministic functions of their input, so the duplicate's result is the
    #   same as the original's, and it arrives under its own requestId;
    # - callers wait only for the requestId of the acknowledgement they actually received, and
    #   the webhook store records the orphan's payload under its id, where it harms no one;
    # - the cost is credits: at most `transient_retries` extra jobs for one call, and only when
    #   the first attempt was processed although its answer was lost;
    # - the alternative, failing the user's request, is worse for a jingle maker.
    # Set `retry_ambiguous_posts=False` for at-most-once: such failures are then raised as
    # TransientError(ambiguous=True) for the caller to reconcile (the API key portal lists
    # recent requests). Failures where the request certainly never arrived (connection
    # refused, 429) are retried either way.
    retry_ambiguous_posts: bool = True

    def backoff_for(self, failures: int) -> float:
        return float(min(self.max_backoff, self.backoff * 2**failures))


NO_RETRIES = RetryPolicy(transient_retries=0, rate_limit_retries=0)


class AudjustClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        session: requests.Session | None = None,
        timeout: Timeout = (5.0, 30.0),
        *,
        retry: RetryPolicy | None = None,
        result_timeout: float = RESULT_DEADLINE_SECONDS,
        poll_interval: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`timeout` is requests' (connect, read) timeout for one HTTP exchange;
        `result_timeout` is how long `fetch_result` polls a queued request's resultUrl;
        `sleep` and `clock` are injectable so tests need not wait."""
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.result_timeout = result_timeout
        self.poll_interval = poll_interval
        self.sleep = sleep
        self.clock = clock
        self._owns_session = session is None
        self.session = session or requests.Session()

    @classmethod
    def from_env(cls, **options: Any) -> AudjustClient:
        """AUDJUST_API_KEY, and AUDJUST_BASE_URL if set (the live API otherwise)."""
        base_url = os.environ.get("AUDJUST_BASE_URL", DEFAULT_BASE_URL)
        return cls(base_url, os.environ["AUDJUST_API_KEY"], **options)

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> AudjustClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- the endpoints -----------------------------------------------------------------------

    def upload(self, path: str | os.PathLike[str]) -> str:
        """Put a local file where Audjust can read it and return its retrieval URL, a source URL
        for every endpoint for an hour. Free of credits. Two steps, as Audjust's example page
        takes them: `GET /upload` with the key names a storage URL and a retrieval URL; the
        file's raw bytes then go to the storage URL in a PUT with no key and no content type."""
        data = Path(path).read_bytes()
        # Both steps are safe to repeat: a lost GET leaves an unused slot, free and soon gone;
        # a second PUT replaces the bytes.
        slot = self._with_retries(self._upload_slot, idempotent=True)
        self._with_retries(lambda: self._put_once(slot.storage_url, data), idempotent=True)
        return slot.retrieval_url

    def structure(self, source_url: str) -> list[Section]:
        """The song's sections in order, answered at once (no webhook). A source Audjust cannot
        read (an upload past its hour, a URL that answers 404) raises JobFailed, whose message
        says why."""
        payload = self._post("structure", {"sourceFileUrl": source_url})
        return self._parse(sections_from_payload, payload)

    def analyze(self, source_url: str, webhook_url: str, raw_features: bool = False) -> Ack:
        """Queue an analysis; the result goes to `webhook_url` and to the ack's resultUrl."""
        body = {
            "sourceFileUrl": source_url,
            "resultWebhook": webhook_url,
            "features": ["raw_features"] if raw_features else [],
        }
        return self._parse(Ack.from_json, self._post("analyze", body))

    def resize(self, analysis_result: AnalysisResult, target_seconds: float) -> list[Candidate]:
        """Candidate edits close to `target_seconds`, answered at once (no webhook), in the order
        sent: generally 20 and best first, neither promised (`pick_best` relies on neither)."""
        payload = self._post("resize", self._resize_body(analysis_result, target_seconds))
        return self._parse(candidates_from_payload, payload)

    def resize_async(
        self, analysis_result: AnalysisResult, target_seconds: float, webhook_url: str
    ) -> Ack:
        """The same as `resize`, queued: the candidates go to `webhook_url` and the resultUrl."""
        body = self._resize_body(analysis_result, target_seconds)
        body["resultWebhook"] = webhook_url
        return self._parse(Ack.from_json, self._post("resize", body))

    def export(
        self,
        source_url: str,
        webhook_url: str,
        segments_groups: Sequence[Sequence[Segment]],
        fmt: ExportFormat = "mp3_128",
    ) -> ExportAck:
        """Queue one file per segments group; the ack's resultUrls are where they will be."""
        body = {
            "sourceFileUrl": source_url,
            "resultWebhook": webhook_url,
            "exportFormat": fmt,
            "segmentsGroups": [[[start, end] for start, end in group] for group in segments_groups],
        }
        return self._parse(ExportAck.from_json, self._post("export", body))

    # --- results -----------------------------------------------------------------------------

    def fetch_result(self, result_url: str, timeout: float | None = None) -> dict[str, Any]:
        """Poll a queued request's resultUrl (analysis.json, resize.json) until it answers,
        for at most `timeout` seconds (default `result_timeout`, the reference's 7 minutes).

        A result URL answers 404 while the request is pending, and also forever when it failed,
        so only the deadline ends the wait for a request whose failure webhook went missing.
        """
        return self._poll(result_url, timeout, self._json_object)

    def wait_for_file(self, url: str, timeout: float | None = None) -> bytes:
        """An exported file, polling its URL until it exists: for when the webhook never came."""
        return self._poll(url, timeout, lambda response: response.content)

    def download(self, url: str) -> bytes:
        """An exported file. ResultNotFound (404) if it does not exist: failed, or the link
        expired. Transient failures are retried; a GET is safe to repeat."""
        return self._with_retries(lambda: self._get_once(url), idempotent=True).content

    # --- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _resize_body(analysis: AnalysisResult, target_seconds: float) -> dict[str, Any]:
        return {
            "targetLengthSeconds": target_seconds,
            "similarity": analysis.similarity.to_json(),
            "boundaries": list(analysis.boundaries),
        }

    @staticmethod
    def _parse(parser: Callable[[dict[str, Any]], T], payload: dict[str, Any]) -> T:
        try:
            return parser(payload)
        except (UnexpectedResponse, TypeError, ValueError) as error:
            raise AudjustError(f"unexpected answer from Audjust: {error}") from error

    def _post(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base_url}/{route}"
        return self._with_retries(lambda: self._post_once(url, body), idempotent=False)

    def _post_once(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"X-API-Key": self.api_key, "Accept": "application/json"}
        response = self._send(
            lambda: self.session.post(url, json=body, headers=headers, timeout=self.timeout)
        )
        return self._json_object(response)

    def _upload_slot(self) -> UploadSlot:
        headers = {"X-API-Key": self.api_key, "Accept": "application/json"}
        response = self._send(
            lambda: self.session.get(
                f"{self.base_url}/upload", headers=headers, timeout=self.timeout
            )
        )
        return self._parse(UploadSlot.from_json, self._json_object(response))

    def _put_once(self, storage_url: str, data: bytes) -> None:
        # The storage URL is the credential: no key, and no content type (raw bytes get none).
        self._send(lambda: self.session.put(storage_url, data=data, timeout=self.timeout))

    def _get_once(self, url: str) -> requests.Response:
        # Result URLs are public links on another host in production: never send the key there.
        return self._send(lambda: self.session.get(url, timeout=self.timeout))

    def _send(self, exchange: Callable[[], requests.Response]) -> requests.Response:
        """One HTTP exchange: the response if it is a 2xx, the typed error otherwise."""
        try:
            response = exchange()
        except requests.ConnectionError as error:
            raise TransientError(
                f"connection failed: {error}", ambiguous=not _never_sent(error)
            ) from error
        except requests.Timeout as error:
            raise TransientError(f"timed out: {error}") from error
        except requests.RequestException as error:  # a body cut off mid-stream, and the like
            raise TransientError(f"request failed: {error}") from error
        if response.ok:
            return response
        raise error_from_response(
            response.status_code, _json_or_none(response), response.text, response.headers
        )

    @staticmethod
    def _json_object(response: requests.Response) -> dict[str, Any]:
        body = _json_or_none(response)
        if not isinstance(body, dict):
            # e.g. a 200 whose JSON was cut off: the server answered, so it may have queued a job
            raise TransientError(
                f"the answer is not a JSON object: {response.text[:100]!r}", response.status_code
            )
        if body.get("success") is False:
            raise error_from_response(response.status_code, body, response.text, response.headers)
        return body

    def _with_retries(self, attempt: Callable[[], T], *, idempotent: bool) -> T:
        policy = self.retry
        transient_failures = rate_limits = 0
        while True:
            try:
                return attempt()
            except RateLimited as error:
                # Rejected before any work was done: always safe to send again.
                wait = (
                    error.retry_after
                    if error.retry_after is not None
                    else policy.backoff_for(rate_limits)
                )
                if rate_limits >= policy.rate_limit_retries or wait > policy.max_retry_after:
                    raise
                rate_limits += 1
                log.warning("Audjust rate limit; retrying in %.1f s (%s)", wait, error.message)
                self.sleep(wait)
            except TransientError as error:
                unsafe = error.ambiguous and not idempotent and not policy.retry_ambiguous_posts
                if unsafe or transient_failures >= policy.transient_retries:
                    raise
                wait = policy.backoff_for(transient_failures)
                transient_failures += 1
                log.warning("Audjust transient failure; retrying in %.1f s (%s)", wait, error)
                self.sleep(wait)

    def _poll(self, url: str, timeout: float | None, read: Callable[[requests.Response], T]) -> T:
        """GET `url` until it answers and `read` accepts the answer, or the deadline passes.
        404 means not ready yet; transient failures (a 5xx, a cut-off body) are polled through,
        since polling again is the retry."""
        deadline = self.clock() + (self.result_timeout if timeout is None else timeout)
        while True:
            try:
                return read(self._get_once(url))
            except ResultNotFound:
                pass
            except TransientError as error:
                log.info("polling %s: %s", url, error)
            remaining = deadline - self.clock()
            if remaining <= 0:
                raise ResultTimeout(f"no result at {url} before the deadline")
            self.sleep(min(self.poll_interval, remaining))


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _never_sent(error: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, DNS, connect timeout), so the server
    cannot have seen the request; False for resets and aborts after sending."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, NewConnectionError)
