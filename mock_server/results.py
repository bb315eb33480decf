"""Result names and URLs, in the reference's shape: `{results base}/{requestId}/{name}`.

The reference's result URLs are on a host of their own (`https://results.api.audjust.com`), not
under the API's base. The mock serves them from a second listener in the same shape, so a client
that builds result URLs from its API base, allow-lists one host, or parses the request id out of
the path meets the same URLs against the mock as live.
"""

from __future__ import annotations

from mock_server.audio.types import ExportFormat

ANALYSIS = "analysis.json"
RESIZE = "resize.json"
ROUTE_NAME = "result"  # the results listener's one route, as the journal and faults know it


def export_name(number: int, fmt: ExportFormat) -> str:
    """The K-th exported file of a request, counted from 1 as the reference's `export_K`."""
    return f"export_{number}.{fmt.extension}"


def result_url(base: str, request_id: str, name: str) -> str:
    return f"{base.rstrip('/')}/{request_id}/{name}"
