"""The API endpoints and the result URLs, thin: parse, hand to the jobs, answer. What every
request passes before its handler, and what answers it, is `web/calls.py`'s."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from mock_server.audio.export import parse_segments_groups
from mock_server.audio.resize import parse_resize_input
from mock_server.audio.types import ExportFormat
from mock_server.contract import wire
from mock_server.contract.profile import ErrorName, StructureCalls
from mock_server.contract.results import (
    ANALYSIS,
    JSON_TYPE,
    RESIZE,
    STRUCTURE,
    ExportFiles,
    result_url,
)
from mock_server.jobs.job import Ending, FailureReason, Job
from mock_server.jobs.operations import (
    Analyze,
    Export,
    FindSections,
    Resize,
    export_price,
)
from mock_server.uploads import RETRIEVAL_PREFIX, STORAGE_PREFIX, UploadProblem
from mock_server.web import errors
from mock_server.web.calls import REQUEST_ID, Call, api_endpoint, results_base
from mock_server.web.keys import SERVICES
from mock_server.web.namespace import namespace_of


def _queued(job: Job, **urls: Any) -> web.Response:
    return web.json_response(
        {"success": True, "message": "Request queued.", "requestId": job.request_id, **urls}
    )


@api_endpoint(wire.ANALYZE)
async def analyze(request: web.Request, call: Call) -> web.Response:
    call.takes_only()
    webhook = call.url("resultWebhook", required=True)
    source = call.url("sourceFileUrl", required=True)
    features = call.body.get("features", [])
    if not isinstance(features, list) or any(f != "raw_features" for f in features):
        raise errors.InvalidParameter('features may only contain "raw_features"')
    call.check_usage()
    job = call.new_job(webhook, source)
    settings = call.services.settings
    analysis = call.operation(
        "analyze", Analyze("raw_features" in features, settings.profile, settings.decode_limits)
    )
    call.services.jobs.submit(job, analysis)  # priced once its source's duration is read
    return _queued(job, resultUrl=result_url(results_base(request), job.request_id, ANALYSIS))


@api_endpoint(wire.RESIZE)
async def resize(request: web.Request, call: Call) -> web.Response:
    call.takes_only()
    webhook = call.url("resultWebhook", required=False)
    parsed = parse_resize_input(
        call.required("similarity"),
        call.required("boundaries"),
        call.required("targetLengthSeconds"),
    )
    resizing = Resize(parsed, call.services.settings.profile)
    price = resizing.price()
    call.check_usage(price)
    operation = call.operation("resize", resizing)
    job = call.new_job(webhook)
    if webhook is None:
        ending = await call.services.jobs.answer(job, operation, price)
        return _answered(call, ending, errors.FAILURE_ERROR)
    call.services.jobs.submit(job, operation, price)
    return _queued(job, resultUrl=result_url(results_base(request), job.request_id, RESIZE))


def _answered(
    call: Call, ending: Ending, failure_errors: Mapping[FailureReason, ErrorName]
) -> web.Response:
    """A synchronous request's answer: its job's payload, with the status the profile gives
    the failure when it failed (the reference lists the messages, not their statuses)."""
    if ending.failed is None:
        return web.json_response(ending.payload)
    error = call.services.settings.profile.error(failure_errors[ending.failed.reason])
    return web.json_response(ending.payload, status=error.status)


@api_endpoint(wire.EXPORT)
async def export(request: web.Request, call: Call) -> web.Response:
    call.takes_only()
    webhook = call.url("resultWebhook", required=True)
    source = call.url("sourceFileUrl", required=True)
    fmt_value = call.required("exportFormat")
    formats = [f.value for f in ExportFormat]
    if fmt_value not in formats:
        raise errors.InvalidParameter(f"exportFormat must be one of {', '.join(formats)}")
    groups = parse_segments_groups(call.required("segmentsGroups"))
    settings = call.services.settings
    price = export_price(groups, settings.profile.pricing)
    call.check_usage(price)
    fmt = ExportFormat(fmt_value)
    job = call.new_job(webhook, source)
    files = ExportFiles.of(results_base(request), job.request_id, fmt, len(groups))
    operation = call.operation(
        "export", Export(groups, files, settings.profile, settings.decode_limits), files.urls
    )
    call.services.jobs.submit(job, operation, price)
    return _queued(job, resultUrls=list(files.urls))


@api_endpoint(wire.STRUCTURE)
async def structure(request: web.Request, call: Call) -> web.Response:
    """Sections of a song. Synchronous without `resultWebhook` and queued with it, unless the
    profile's `structure.calls` says otherwise (the live API's way is not known)."""
    settings = call.services.settings
    calls = settings.profile.structure_calls
    if calls is StructureCalls.SYNCHRONOUS:
        call.takes_only("sourceFileUrl")
    else:
        call.takes_only()
    webhook = call.url("resultWebhook", required=calls is StructureCalls.QUEUED)
    source = call.url("sourceFileUrl", required=True)
    call.check_usage()
    job = call.new_job(webhook, source)
    operation = call.operation("structure", FindSections(settings.profile, settings.decode_limits))
    if webhook is None:
        ending = await call.services.jobs.answer(job, operation)
        return _answered(call, ending, errors.STRUCTURE_FAILURE_ERROR)
    call.services.jobs.submit(job, operation)  # priced once its source's duration is read
    return _queued(job, resultUrl=result_url(results_base(request), job.request_id, STRUCTURE))


@api_endpoint(wire.UPLOAD)
async def upload(request: web.Request, call: Call) -> web.Response:
    """A place to put a source file: `storageUrl` takes its bytes in a PUT, `retrievalUrl`
    then serves them and works as `sourceFileUrl` (uploads.py). Free of credits, as the
    overview says; both URLs on the results origin."""
    call.takes_only()
    ids = call.services.ids
    try:
        slot = call.services.uploads.create(ids.next(), ids.next(), namespace_of(request))
    except UploadProblem as problem:
        raise errors.upload_error(problem) from None
    base = results_base(request)
    return web.json_response(
        {
            "storageUrl": f"{base}{STORAGE_PREFIX}{slot.secret}",
            "retrievalUrl": f"{base}{RETRIEVAL_PREFIX}{slot.upload_id}",
        }
    )


async def result(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    request_id, name = request.match_info["request_id"], request.match_info["name"]
    request[REQUEST_ID] = request_id
    artifact = services.artifacts.get(request_id, name, services.clock.now())
    if artifact is None:
        raise errors.ResultMissing(
            f"no result {name} for request {request_id} (pending, failed or expired)"
        )
    if artifact.content_type == JSON_TYPE:
        # Always whole: a byte range of a JSON document is not JSON.
        body = await asyncio.to_thread(artifact.path.read_bytes)
        return web.Response(body=body, content_type=JSON_TYPE)
    return web.FileResponse(artifact.path, headers={"Content-Type": artifact.content_type})
