"""Where two JSON documents first differ, said as `at POINTER: recorded X, sent Y`: for a replay's
strict refusal (every key of both, types exact, since a recording matches byte for byte) and for
a test's `assert_called` (a partial match: only the expected keys, numbers by value)."""

from __future__ import annotations

import json
from typing import Any

SHOWN_CHARACTERS = 80  # of a value in a message


def first_difference(
    left: Any, right: Any, *, partial: bool, words: tuple[str, str], at: str = ""
) -> str | None:
    """None when `right` holds `left`: equal, or with `partial` holding at least every key of
    each object of `left` (lists match item by item, whole). `words` name the two sides."""
    where, (said, seen) = at or "/", words
    if isinstance(left, dict):
        if not isinstance(right, dict):
            return f"at {where}: {said} an object, {seen} {shown(right)}"
        keys = list(left) if partial else sorted(set(left) | set(right))
        for key in keys:
            if key not in right:
                return f"at {at}/{key}: {said} {shown(left[key])}, {seen} nothing"
            if key not in left:
                return f"at {at}/{key}: {said} nothing, {seen} {shown(right[key])}"
            found = first_difference(
                left[key], right[key], partial=partial, words=words, at=f"{at}/{key}"
            )
            if found:
                return found
        return None
    if isinstance(left, list):
        if not isinstance(right, list) or len(right) != len(left):
            return f"at {where}: {said} {shown(left)}, {seen} {shown(right)}"
        for index, (one, other) in enumerate(zip(left, right, strict=True)):
            found = first_difference(one, other, partial=partial, words=words, at=f"{at}/{index}")
            if found:
                return found
        return None
    if left != right or not _same_kind(left, right, exact=not partial):
        return f"at {where}: {said} {shown(left)}, {seen} {shown(right)}"
    return None


def _same_kind(left: Any, right: Any, exact: bool) -> bool:
    """1 and 1.0 are the same number to a test, not to a recording; True is never 1."""
    if exact:
        return type(left) is type(right)
    return isinstance(left, bool) == isinstance(right, bool)


def shown(value: Any) -> str:
    """`value` as JSON, cut to SHOWN_CHARACTERS for a message."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN_CHARACTERS else text[:SHOWN_CHARACTERS] + "..."
