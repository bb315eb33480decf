"""POST /_mock/trigger: run one operation for real, as a job of this mock, and deliver its final
webhook to a URL of the caller's choosing (`audjust-mock trigger` is its command line). The job's
results are hosted and expire like any other's."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mock_server.audio.errors import AudioEngineError, EngineValidationError
from mock_server.audio.types import ExportFormat
from mock_server.contract.parameters import wire_problem
from mock_server.contract.results import ANALYSIS, RESIZE, STRUCTURE, result_url
from mock_server.contract.wire import TRIGGER
from mock_server.faults.catalogue import Fault
from mock_server.faults.scenario import Scenario
from mock_server.jobs.job import Job
from mock_server.jobs.trigger import DEFAULT_SONG, KEY, Triggered, operation_for, prepare
from mock_server.songs import SONG_DIR, song_file
from mock_server.sources import SourceError
from mock_server.web import errors
from mock_server.web.calls import REQUEST_ID, checked_url, read_json_object, results_base
from mock_server.web.keys import SERVICES
from mock_server.web.namespace import namespace_of

_RESULT_NAMES = {
    Triggered.ANALYZE: ANALYSIS,
    Triggered.RESIZE: RESIZE,
    Triggered.STRUCTURE: STRUCTURE,
}


def _choice(body: dict[str, Any], name: str, choices: list[str], default: str) -> str:
    value = body.get(name, default)
    if value not in choices:
        raise errors.InvalidParameter(f"{name} must be one of {', '.join(choices)}")
    return str(value)


async def trigger(request: web.Request) -> web.Response:
    body = await read_json_object(request, *TRIGGER.fields)
    if "operation" not in body or "to" not in body:
        raise errors.MissingParameter("operation" if "operation" not in body else "to")
    kind = Triggered(_choice(body, "operation", [k.value for k in Triggered], ""))
    services = request.app[SERVICES]
    settings = services.settings
    to = checked_url("to", body["to"], allow_file_urls=False)
    fmt = ExportFormat(_choice(body, "format", [f.value for f in ExportFormat], "mp3_128"))
    target = body.get("targetLengthSeconds")
    if target is not None and (isinstance(target, bool) or not isinstance(target, int | float)):
        raise errors.InvalidParameter("targetLengthSeconds must be a number of seconds")
    try:
        if "source" in body:
            source = checked_url("source", body["source"], settings.allow_file_urls)
            data = await services.jobs.fetcher.fetch(source)
        else:
            name = song_file(str(body.get("song", DEFAULT_SONG)))
            source = f"{request.url.origin()}/_mock/fixtures/{name}"
            data = (SONG_DIR / name).read_bytes()
        prepared = await services.jobs.compute(prepare, kind, data, target, settings.decode_limits)
    except LookupError as missing:  # an unknown bundled song
        raise errors.InvalidParameter(f"song: {missing}") from missing
    except EngineValidationError as problem:  # a target the source's length cannot take
        raise errors.InvalidParameter(
            f"the source cannot be used: {wire_problem(problem)}"
        ) from problem
    except (SourceError, AudioEngineError) as problem:
        raise errors.InvalidParameter(f"the source cannot be used: {problem}") from problem
    base = results_base(request)
    request_id = services.ids.next()
    request[REQUEST_ID] = request_id
    files = prepared.export_files(base, request_id, fmt)
    operation = operation_for(
        kind,
        prepared,
        raw_features=bool(body.get("rawFeatures", False)),
        files=files,
        profile=settings.profile,
        limits=settings.decode_limits,
    )
    failing = (Scenario.named(Fault.INTERNAL_FAILURE.value, {}),) if body.get("failure") else ()
    job = Job(
        request_id=request_id,
        key=KEY,
        created_at=services.clock.now(),
        webhook=to,
        source_url=None if kind is Triggered.RESIZE else source,
        faults=failing,
        namespace=namespace_of(request),
        route=f"/{kind.value}",  # a triggered job is that route's job, as the dashboard lists it
    )
    services.jobs.submit(job, operation)
    answer: dict[str, Any] = {"success": True, "requestId": request_id, "operation": kind.value}
    if kind is Triggered.EXPORT:
        answer["resultUrls"] = list(files.urls)
    else:
        answer["resultUrl"] = result_url(base, request_id, _RESULT_NAMES[kind])
    return web.json_response(answer)
