"""audjust-mock: a local stand-in for the Audjust audio API.

What client projects import: `MockServer` (the mock on a free port in this process),
`AudjustMock` (the handle the pytest plugin's fixture gives a test) and `Settings`. They load on
first use, so a worker process that imports only the engine (`mock_server.audio`) never pulls in
the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "AudjustMock": "mock_server.testing.inprocess",
    "MockServer": "mock_server.testing.inprocess",
    "Settings": "mock_server.settings",
}
__all__ = ["AudjustMock", "MockServer", "Settings", "__version__"]

if TYPE_CHECKING:
    from mock_server.settings import Settings
    from mock_server.testing.inprocess import AudjustMock, MockServer


def __getattr__(name: str) -> Any:
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'mock_server' has no attribute {name!r}")
