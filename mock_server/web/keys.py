"""The typed keys of the app's state."""

from __future__ import annotations

from aiohttp import web

from mock_server.services import Services

SERVICES = web.AppKey("services", Services)
