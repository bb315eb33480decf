"""Keys: the typed keys of the app's state, and the header that carries a client's API key."""

from __future__ import annotations

from aiohttp import web

from mock_server.services import Services

SERVICES = web.AppKey("services", Services)
KEY_HEADER = "X-API-Key"  # the reference's name for it
