"""Upstreams that break the contract one promise at a time: a forwarding proxy in front of a
real mock that rewrites answers (`BREAKERS`, all at once), and fronts that each break one more
documented promise in the webhooks or files too (`DOCUMENTED`, one front each, through
tests/tampering.py). The contract suite's self-test and the checking proxy's tests both stand
them in front of a mock, so the breakers are written once."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fairness import analyses, candidates, everywhere, wav_edit
from tests.tampering import Tamper, json_edit

ServerFactory = Callable[..., Awaitable[TestServer]]

FORWARDED = ("host", "x-api-key", "content-type", "range")
Breaker = Callable[[web.Request, dict[str, Any], Any], None]


def misreport_a_segment(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if request.path == "/resize" and "resultWebhook" not in sent and "result" in answer:
        answer["result"][0]["segmentsSeconds"][0][1] += 0.5


def shorten_the_hosted_similarity(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if request.path.endswith("/analysis.json") and "result" in answer:
        similarity = answer["result"]["similarity"]
        similarity["data"] = similarity["data"][:-1]


def reword_the_missing_key_error(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if str(answer.get("message")).startswith("Missing API key header"):
        answer["message"] = "API key required"


def explain_the_invalid_key_error(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    """Not a failure: text after a listed message is observed (error.detail, a choice)."""
    if answer.get("message") == "Invalid API Key":
        answer["message"] = "Invalid API Key: revoked or deleted"


def drop_the_export_ack_message(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if request.path == "/export" and "resultUrls" in answer:
        del answer["message"]


def reword_the_analyze_ack(request: web.Request, sent: dict[str, Any], answer: Any) -> None:
    if request.path == "/analyze" and answer.get("message") == "Request queued.":
        answer["message"] = "Request queued"


BREAKERS = (
    misreport_a_segment,
    shorten_the_hosted_similarity,
    reword_the_missing_key_error,
    explain_the_invalid_key_error,
    drop_the_export_ack_message,
    reword_the_analyze_ack,
)


async def breaking_proxy(aiohttp_server: ServerFactory, upstream: list[str]) -> str:
    """A proxy to `upstream[0]` (set once the target is up) that breaks answers."""
    session = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        url = upstream[0] + request.path_qs
        async with session.request(request.method, url, headers=headers, data=body) as answer:
            payload, content_type, status = await answer.read(), answer.content_type, answer.status
        if content_type == "application/json":
            try:
                sent = json.loads(body) if body else {}
            except ValueError:
                sent = {}  # the suite's deliberately broken body, passed on as it is
            document = json.loads(payload)
            for breaker in BREAKERS:
                breaker(request, sent, document)
            payload = json.dumps(document).encode()
        return web.Response(status=status, body=payload, content_type=content_type)

    async def close(app: web.Application) -> None:
        await session.close()

    app = web.Application()
    app.router.add_route("*", "/{path:.*}", forward)
    app.on_cleanup.append(close)
    return str((await aiohttp_server(app)).make_url("")).rstrip("/")


@dataclass(frozen=True)
class Breaking:
    """A front that breaks one documented promise (ledger row `row`): the contract suite run
    with `-k select` must fail exactly `failing`, with the reference's words of the row, and
    the checking proxy must report the rule `rule` as a violation."""

    name: str
    row: str
    tamper: Tamper
    select: str
    failing: frozenset[str]
    rule: str


def _short_similarity(document: dict[str, Any]) -> None:
    for result in analyses(document):
        result["similarity"]["data"] = result["similarity"]["data"][:-1]


def _far_duration(document: dict[str, Any]) -> None:
    for candidate in candidates(document):
        candidate["durationSeconds"] += 3


def _on_export_webhook(change: Callable[[dict[str, Any]], None]) -> Tamper:
    def edit(route: str, document: dict[str, Any]) -> None:
        if route == "export":
            change(document)

    return Tamper(webhook=json_edit(edit))


def _no_failures(document: dict[str, Any]) -> None:
    document.pop("failures", None)


def _unpromised_failure(document: dict[str, Any]) -> None:
    document["failures"] = {"https://elsewhere.example/export_9.wav": "made up"}


def _both(test: str) -> frozenset[str]:
    return frozenset(f"test_export::{test}[{fmt}]" for fmt in ("mp3_128", "wav"))


DOCUMENTED = (
    Breaking(
        "similarity-not-triangular",
        "analyze.similarity",
        everywhere(_short_similarity),
        "test_similarity_has_one_value_per_pair_of_beats",
        frozenset({"test_analyze::test_similarity_has_one_value_per_pair_of_beats"}),
        "similarity_length",
    ),
    Breaking(
        "duration-far-from-segments",
        "resize.duration",
        everywhere(_far_duration),
        "test_duration_is_the_total_of_the_segments",
        frozenset(
            f"test_resize::test_duration_is_the_total_of_the_segments[{form}]"
            for form in ("sync", "queued")
        ),
        "duration",
    ),
    Breaking(
        "export-file-far-too-short",
        "export.files",
        Tamper(result=wav_edit(-1.5)),
        "test_each_file_decodes_to_the_length_of_its_group",
        frozenset({"test_export::test_each_file_decodes_to_the_length_of_its_group[wav]"}),
        "result_stitched",
    ),
    Breaking(
        "failures-map-missing",
        "export.payload",
        _on_export_webhook(_no_failures),
        "test_export_webhook_matches_schema or test_failures_name_only",
        _both("test_export_webhook_matches_schema_and_repeats_the_result_urls")
        | _both("test_failures_name_only_files_that_failed"),
        "schema:export-webhook",
    ),
    Breaking(
        "failures-name-unpromised-urls",
        "export.failures",
        _on_export_webhook(_unpromised_failure),
        "test_failures_name_only_files_that_failed",
        _both("test_failures_name_only_files_that_failed"),
        "failures_name_result_urls",
    ),
)
