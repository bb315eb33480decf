"""What a test asks of the requests its client made: a recursive partial match of a body (as
respx's and pytest-httpserver's matchers do), and a failure that lists the near misses, since
"expected 1 call, got 0" alone sends a person to print-debugging."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mock_server.journal import JournalEntry
from mock_server.jsondiff import first_difference, shown


def route_path(route: str) -> str:
    """`/export` for `export` or `/export`."""
    return route if route.startswith("/") else f"/{route}"


def mismatch(expected: Any, actual: Any) -> str | None:
    """Where `actual` first fails to hold `expected`, or None when it does: every key of an
    expected object must be there and match (others may be too); a list matches item by item
    and length; anything else must be equal (1 and 1.0 alike, True never 1)."""
    return first_difference(expected, actual, partial=True, words=("expected", "got"))


def matching(calls: Sequence[JournalEntry], json: Any) -> list[JournalEntry]:
    return [call for call in calls if json is None or mismatch(json, call.request) is None]


def not_called_as_expected(
    route: str, times: int | None, json: Any, calls: Sequence[JournalEntry]
) -> str:
    """The failure of assert_called: what was wanted, what came, and why each call missed."""
    wanted = "at least one request" if times is None else f"{times} request(s)"
    shape = "" if json is None else f" whose body holds {shown(json)}"
    found = matching(calls, json)
    lines = [f"expected {wanted} to {route}{shape}; got {len(found)} of {len(calls)}"]
    for number, call in enumerate(calls, start=1):
        why = "matches" if json is None else (mismatch(json, call.request) or "matches")
        if call.request is None and json is not None:
            why = "its body is no longer kept (only the latest 100 are)"
        lines.append(f"  #{number} ({call.method}, {call.status}, {call.request_id}): {why}")
    if not calls:
        lines.append("  (no request to it at all)")
    return "\n".join(lines)
