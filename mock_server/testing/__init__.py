"""Handles for tests: the mock in this process (`MockServer`, `AudjustMock`, inprocess.py) and a
running one driven over its control API (`RemoteMock`, remote.py). Nothing here imports pytest."""

from __future__ import annotations

from mock_server.answers import AnswerRefused
from mock_server.testing.inprocess import AudjustMock, MockHandle, MockServer, RequestLog
from mock_server.testing.remote import ControlError, RemoteMock

__all__ = [
    "AnswerRefused",
    "AudjustMock",
    "ControlError",
    "MockHandle",
    "MockServer",
    "RemoteMock",
    "RequestLog",
]
