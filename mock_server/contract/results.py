"""Result names and URLs, in the reference's shape: `{results base}/{requestId}/{name}`.

The reference's result URLs are on a host of their own (`https://results.api.audjust.com`), not
under the API's base. The mock serves them from a second listener in the same shape, so a client
that builds result URLs from its API base, allow-lists one host, or parses the request id out of
the path meets the same URLs against the mock as live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mock_server.audio.types import ExportFormat

ANALYSIS = "analysis.json"
RESIZE = "resize.json"
STRUCTURE = "structure.json"  # a queued structure's: the mock's choice, in its siblings' shape
ROUTE_NAME = "result"  # the results listener's one route, as the journal and faults know it


REQUEST_ID = re.compile(r"^[a-z0-9]{32}$")
_NAME = re.compile(
    r"^(analysis\.json|resize\.json|structure\.json|export_[1-9][0-9]{0,3}\.(?P<ext>mp3|wav))$"
)
JSON_TYPE = "application/json"


def is_result_path(request_id: str, name: str) -> bool:
    """Whether `request_id`/`name` could name a result: anything else (a traversal, the index
    file) never reaches the disk."""
    return bool(REQUEST_ID.match(request_id) and _NAME.match(name))


def content_type(name: str) -> str:
    """The content type a result of this name is served with."""
    matched = _NAME.match(name)
    if matched is None:
        raise ValueError(f"{name!r} is not a result name")
    extension = matched.group("ext")
    if extension is None:
        return JSON_TYPE
    return next(fmt for fmt in ExportFormat if fmt.extension == extension).content_type


def export_name(number: int, fmt: ExportFormat) -> str:
    """The K-th exported file of a request, counted from 1 as the reference's `export_K`."""
    return f"export_{number}.{fmt.extension}"


def export_names(fmt: ExportFormat, count: int) -> tuple[str, ...]:
    """The names of an export's `count` files, one per segment group in order."""
    return tuple(export_name(number, fmt) for number in range(1, count + 1))


def result_url(base: str, request_id: str, name: str) -> str:
    return f"{base.rstrip('/')}/{request_id}/{name}"


@dataclass(frozen=True)
class ExportFiles:
    """The files an export makes, one per segment group in order: their format, result names
    and URLs. Built once for a request; its acknowledgement, its operation (which stores the
    files under `names`) and its webhook (which lists `urls`) all read this one."""

    fmt: ExportFormat
    names: tuple[str, ...]
    urls: tuple[str, ...]

    @classmethod
    def of(cls, base: str, request_id: str, fmt: ExportFormat, count: int) -> ExportFiles:
        names = export_names(fmt, count)
        return cls(fmt, names, tuple(result_url(base, request_id, name) for name in names))
