"""The mock as a real server inside the current process: a free port on 127.0.0.1, served
from a background loop, for test sessions that want a URL rather than an app object."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

from mock_server.app import create_app
from mock_server.background import BackgroundLoop
from mock_server.services import SERVICES
from mock_server.settings import Settings

T = TypeVar("T")


async def serve_app(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve `app` on host:port (0: any free port); the runner to clean up and the origin."""
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}"


class MockServer:
    """Start with `MockServer(settings).start()`; stop with `.stop()` or a `with` block."""

    def __init__(self, settings: Settings | None = None) -> None:
        base = settings or Settings(workers=1)
        self.settings = dataclasses.replace(base, host="127.0.0.1", port=0)
        self.app = create_app(self.settings)
        self._runner: web.AppRunner | None = None
        self._loop: BackgroundLoop | None = None
        self.base_url = ""
        self.results_url = ""  # the results origin, a listener of its own as live

    def start(self) -> MockServer:
        self._loop = BackgroundLoop("audjust-mock-server")
        serving = serve_app(self.app, self.settings.host, self.settings.port)
        self._runner, self.base_url = self._loop.run(serving, timeout=60)
        results_port = self.call(lambda: self.app[SERVICES].results_port)
        self.results_url = f"http://{self.settings.host}:{results_port}"
        return self

    def call(self, action: Callable[[], T]) -> T:
        """Run `action` on the server's loop, where the app's state may be touched safely."""
        if self._loop is None:
            raise RuntimeError("the mock server is not running")

        async def on_the_loop() -> T:
            return action()

        return self._loop.run(on_the_loop(), timeout=30)

    def stop(self) -> None:
        if self._loop is None or self._runner is None:
            return
        self._loop.run(self._runner.cleanup(), timeout=60)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
