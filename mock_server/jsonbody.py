"""Strict JSON for request bodies: RFC 8259 only, and every way a body can be bad is a ValueError.

Python's json accepts NaN and Infinity, and raises RecursionError on deep nesting; neither may
reach a handler as anything but a clear 400 that says where the problem is.
"""

from __future__ import annotations

import json
import math
from typing import Any


class _NonFinite(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NonFinite(name)


def _step(key: str, path: str, index: bool) -> str:
    """`name` at the top, `.name` below, `[2]` for an index and `["odd key"]` for a key the dotted
    notation cannot spell, so every path names one place."""
    if index:
        return key
    if key.isidentifier():
        return key if not path else f".{key}"
    return f"[{json.dumps(key)}]"


def _where_non_finite(value: Any, path: str = "") -> str | None:
    """The path of the first NaN or infinity in a leniently parsed document."""
    if isinstance(value, float) and not math.isfinite(value):
        return path or "the body"
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = ((f"[{n}]", item) for n, item in enumerate(value))
    else:
        return None
    for key, item in items:
        found = _where_non_finite(item, f"{path}{_step(key, path, isinstance(value, list))}")
        if found:
            return found
    return None


def loads_strict(raw: bytes) -> Any:
    """The parsed document; ValueError naming the problem for anything that is not strict JSON."""
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except _NonFinite as constant:
        try:
            where = _where_non_finite(json.loads(raw))
        except RecursionError:
            where = "a number"  # deep nesting too: name the first problem without a path
        raise ValueError(f"{where} is {constant}, which JSON does not allow") from None
    except RecursionError:
        raise ValueError("it is nested too deeply") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"it is not UTF-8 ({error.reason})") from None
