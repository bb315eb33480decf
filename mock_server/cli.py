"""The `audjust-mock` command: the mock server (serve) and the engine offline (analyze, resize,
export).

Bad input ends with a one-line message on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mock_server.audio.analysis import analyze_bytes
from mock_server.audio.errors import AudioEngineError, EngineValidationError
from mock_server.audio.export import ExportFailure, export_bytes, parse_segments_groups
from mock_server.audio.resize import parse_resize_input, resize_candidates
from mock_server.audio.types import DecodeLimits, ExportFormat
from mock_server.server import add_serve_arguments, run_serve

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
    _print_json(resize_candidates(request))


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


def _add_serve_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run the mock API server")
    add_serve_arguments(serve)
    serve.set_defaults(run=run_serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audjust-mock", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_offline_commands(commands)
    _add_serve_command(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int | None] = args.run
    try:
        return run(args) or 0
    except EngineValidationError as error:
        print(
            f"audjust-mock {args.command}: invalid {error.field}: {error.detail}", file=sys.stderr
        )
        return USAGE_ERROR
    except (CliError, AudioEngineError) as error:
        print(f"audjust-mock {args.command}: {error}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:
        # The reader (say, `| head`) left early; nothing is wrong with the command.
        sys.stderr.close()
        return 0
