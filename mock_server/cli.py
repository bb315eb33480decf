"""The `audjust-mock` command: the mock server (serve), the engine offline (analyze, resize,
export, structure), a webhook on demand (trigger) and the checking proxy (proxy).

Bad input ends with a one-line message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mock_server.audio.analysis import analyze_bytes
from mock_server.audio.errors import AudioEngineError, EngineValidationError
from mock_server.audio.export import ExportFailure, export_bytes, parse_segments_groups
from mock_server.audio.resize import parse_resize_input, resize_candidates
from mock_server.audio.structure import song_structure
from mock_server.audio.types import DecodeLimits, ExportFormat
from mock_server.contract.parameters import wire_problem
from mock_server.contract.profile import Profile
from mock_server.contract.wire import TRIGGER
from mock_server.flags import add_serve_arguments
from mock_server.jobs.analyses import analysis_from_json
from mock_server.jobs.payloads import (
    candidates_json,
    failure_payload,
    sections_json,
    success_payload,
)
from mock_server.jobs.trigger import DEFAULT_SONG, Triggered, operation_for, prepare, run_locally
from mock_server.proxy.command import add_proxy_arguments, run_proxy
from mock_server.server import run_serve
from mock_server.services import RequestIds
from mock_server.songs import SONG_DIR, song_file
from mock_server.web.middlewares import ADMIN_HEADER

# Where --offline's result URLs point: the reference's results host, which serves none of them.
RESULTS_HOST = "https://results.api.audjust.com"

USAGE_ERROR = 2


class CliError(Exception):
    """A problem to report in one line, with exit status 2."""


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise CliError(f"cannot read {path}: {error.strerror}") from error


def _print_json(document: object) -> None:
    json.dump(document, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


def _analyze(args: argparse.Namespace) -> None:
    _print_json(analyze_bytes(_read(args.file), args.raw_features, DecodeLimits()))


def _structure(args: argparse.Namespace) -> None:
    """`{"sections": [...]}`, as /structure names them (its envelope is the mock's own)."""
    analysis = analysis_from_json(analyze_bytes(_read(args.file), False, DecodeLimits()))
    _print_json({"sections": sections_json(song_structure(analysis))})


def _analysis_result(path: str) -> dict[str, Any]:
    try:
        document = json.loads(_read(path))
    except json.JSONDecodeError as error:
        raise CliError(f"{path} is not JSON: {error.msg} at line {error.lineno}") from error
    if isinstance(document, dict) and isinstance(document.get("result"), dict):
        document = document["result"]
    if not isinstance(document, dict):
        raise CliError(f"{path} holds neither an analysis result nor an analyze webhook payload")
    return document


def _resize(args: argparse.Namespace) -> None:
    result = _analysis_result(args.analysis)
    request = parse_resize_input(result.get("similarity"), result.get("boundaries"), args.target)
    _print_json(candidates_json(resize_candidates(request)))


def _export(args: argparse.Namespace) -> None:
    try:
        segments = json.loads(args.segments)
    except json.JSONDecodeError as error:
        raise CliError(f"--segments is not JSON: {error.msg}") from error
    groups = parse_segments_groups([segments])
    (outcome,) = export_bytes(_read(args.file), groups, ExportFormat(args.format), DecodeLimits())
    if isinstance(outcome, ExportFailure):
        raise CliError(outcome.message)
    Path(args.output).write_bytes(outcome.data)
    print(f"wrote {args.output}: {outcome.duration_seconds:.2f} s, {args.format}")


def _add_offline_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    analyze = commands.add_parser("analyze", help="print the analysis result of an audio file")
    analyze.add_argument("file")
    analyze.add_argument("--raw-features", action="store_true", help="include per-beat features")
    analyze.set_defaults(run=_analyze)

    resize = commands.add_parser("resize", help="print resize candidates for an analysis")
    resize.add_argument("analysis", help="analysis result JSON (or a whole analyze webhook)")
    resize.add_argument("--target", type=float, required=True, help="target length in seconds")
    resize.set_defaults(run=_resize)

    export = commands.add_parser("export", help="stitch segments of an audio file into one file")
    export.add_argument("file")
    export.add_argument("--segments", required=True, help="JSON list of [start, end] seconds")
    export.add_argument("--format", choices=[f.value for f in ExportFormat], default="mp3_128")
    export.add_argument("-o", "--output", required=True)
    export.set_defaults(run=_export)

    structure = commands.add_parser(
        "structure", help="print the sections of an audio file, as /structure answers them"
    )
    structure.add_argument("file")
    structure.set_defaults(run=_structure)


def _http_json(url: str, body: object = None, token: str | None = None) -> Any:
    """GET (or POST `body`) JSON; CliError with the server's message when it refuses."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **({ADMIN_HEADER: token} if token else {})}
    request = urllib.request.Request(url, data, headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return json.load(answer)
    except urllib.error.HTTPError as refused:
        with refused:
            detail = refused.read().decode(errors="replace")
        raise CliError(f"{url} answered HTTP {refused.code}: {detail}") from None
    except (urllib.error.URLError, OSError) as failure:
        raise CliError(f"cannot reach {url}: {failure}") from None


def _trigger_online(args: argparse.Namespace) -> None:
    mock = args.mock.rstrip("/")
    body: dict[str, Any] = {"operation": args.operation, "to": args.to, "format": args.format}
    body |= {"rawFeatures": args.raw_features, "failure": args.failure}
    if args.source:
        body["source"] = args.source
    else:
        body["song"] = args.song
    if args.target is not None:
        body["targetLengthSeconds"] = args.target
    ack = _http_json(f"{mock}{TRIGGER.path}", body, args.admin_token)
    request_id = ack["requestId"]
    deadline = time.monotonic() + args.timeout
    while True:  # the engine's work comes first: an export can take seconds
        attempts = [
            attempt
            for attempt in _http_json(f"{mock}/_mock/webhooks", token=args.admin_token)
            if attempt["requestId"] == request_id
        ]
        if attempts or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if not attempts:
        raise CliError(f"no webhook for {request_id} was attempted in {args.timeout:g} s")
    first = attempts[0]
    _print_json(first["payload"])
    answer = f"HTTP {first['status']}" if first["status"] is not None else first["error"]
    print(f"receiver answered {answer} (attempt {first['attempt']})")
    if not first["delivered"]:
        print(
            f"the mock retries as its profile says; GET {mock}/_mock/webhooks lists every attempt",
            file=sys.stderr,
        )


def _trigger_offline(args: argparse.Namespace) -> None:
    if args.source and "://" in args.source:
        source, data = args.source, _download(args.source)
    elif args.source:
        source, data = Path(args.source).resolve().as_uri(), _read(args.source)
    else:
        song = SONG_DIR / song_file(args.song)
        source, data = song.as_uri(), song.read_bytes()
    kind = Triggered(args.operation)
    request_id = RequestIds(None).next()
    fmt = ExportFormat(args.format)
    prepared = prepare(kind, data, args.target, DecodeLimits())
    operation = operation_for(
        kind,
        prepared,
        raw_features=args.raw_features,
        files=prepared.export_files(RESULTS_HOST, request_id, fmt),
        profile=Profile(),
        limits=DecodeLimits(),
    )
    shown_source = None if kind is Triggered.RESIZE else source
    if args.failure:
        payload = failure_payload(request_id, shown_source, "Internal error while processing.")
    else:
        outcome = asyncio.run(run_locally(operation, data))
        payload = success_payload(request_id, shown_source, outcome)
    print(
        f"offline: result URLs name {RESULTS_HOST} and are not served; run a mock for those",
        file=sys.stderr,
    )
    _print_json(payload)
    request = urllib.request.Request(
        args.to, json.dumps(payload).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            print(f"receiver answered HTTP {answer.status}")
    except urllib.error.HTTPError as refused:
        refused.close()
        print(f"receiver answered HTTP {refused.code}")
    except (urllib.error.URLError, OSError) as failure:
        raise CliError(f"cannot deliver to {args.to}: {failure}") from None


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            return bytes(answer.read())
    except (urllib.error.URLError, OSError) as failure:
        raise CliError(f"cannot download {url}: {failure}") from None


def _trigger(args: argparse.Namespace) -> None:
    try:
        song_file(args.song)
    except LookupError as missing:
        raise CliError(str(missing)) from None
    (_trigger_offline if args.offline else _trigger_online)(args)


def _add_trigger_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    trigger = commands.add_parser(
        "trigger",
        help="send the webhook an operation would, made by the real engine, to a URL",
        description="Make the final webhook the API would send for one operation (run by the "
        "real engine on a bundled song or a given source) and POST it to --to. By default a "
        "running mock does it, so its result URLs are served; --offline needs no mock.",
    )
    trigger.add_argument("operation", choices=[kind.value for kind in Triggered])
    trigger.add_argument("--to", required=True, help="the receiver's URL")
    trigger.add_argument(
        "--song", default=DEFAULT_SONG, help=f"a bundled song (default: {DEFAULT_SONG})"
    )
    trigger.add_argument("--source", help="a source URL (offline: also a file) instead of --song")
    trigger.add_argument("--raw-features", action="store_true", help="analyze: per-beat features")
    trigger.add_argument(
        "--format", choices=[f.value for f in ExportFormat], default="mp3_128", help="export"
    )
    trigger.add_argument(
        "--target", type=float, help="resize/export: target seconds (default: half the song)"
    )
    trigger.add_argument("--failure", action="store_true", help="the failure webhook instead")
    trigger.add_argument(
        "--mock",
        default=os.environ.get("AUDJUST_MOCK_URL", "http://127.0.0.1:8080"),
        help="the running mock (default: http://127.0.0.1:8080; env AUDJUST_MOCK_URL)",
    )
    trigger.add_argument(
        "--admin-token",
        default=os.environ.get("AUDJUST_MOCK_ADMIN_TOKEN"),
        help="the mock's --admin-token, if it has one (env AUDJUST_MOCK_ADMIN_TOKEN)",
    )
    trigger.add_argument("--offline", action="store_true", help="run the engine here, no mock")
    trigger.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the first delivery attempt"
    )
    trigger.set_defaults(run=_trigger)


def _add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run the mock API server")
    add_serve_arguments(serve)
    serve.set_defaults(run=run_serve)


def _add_proxy_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    proxy = commands.add_parser(
        "proxy",
        help="forward your traffic to the API and check it against the contract",
        description="Forward /analyze, /resize and /export to --upstream unchanged, follow each "
        "job through its webhook (and with --check-results its files) and report every "
        "broken promise of the contract.",
    )
    add_proxy_arguments(proxy)
    proxy.set_defaults(run=run_proxy)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audjust-mock", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_offline_commands(commands)
    _add_serve_command(commands)
    _add_trigger_command(commands)
    _add_proxy_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int | None] = args.run
    try:
        return run(args) or 0
    except EngineValidationError as error:
        print(f"audjust-mock {args.command}: invalid {wire_problem(error)}", file=sys.stderr)
        return USAGE_ERROR
    except (CliError, AudioEngineError) as error:
        print(f"audjust-mock {args.command}: {error}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # The reader (say, `| head`) left early; nothing is wrong with the command.
        sys.stderr.close()
        return 0
