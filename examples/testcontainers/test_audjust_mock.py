"""audjust-mock in a pytest suite through Testcontainers (pip install testcontainers pytest):

    AUDJUST_IMAGE=audjust-mock:local pytest examples/testcontainers

The mock's ports are published on 127.0.0.1 at the same numbers as inside the container, so the
result URLs it writes work from the test as they are.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from testcontainers.core.container import DockerContainer
from testcontainers.core.network import Network
from testcontainers.core.wait_strategies import HttpWaitStrategy

IMAGE = os.environ.get("AUDJUST_IMAGE", "audjust-mock:local")
ADMIN_TOKEN = "testcontainers-admin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def audjust_base_url() -> Iterator[str]:
    port, results_port = free_port(), free_port()
    with Network() as network:
        container = (
            DockerContainer(IMAGE)
            .with_network(network)
            .with_env("AUDJUST_MOCK_PORT", str(port))
            .with_env("AUDJUST_MOCK_RESULTS_PORT", str(results_port))
            .with_env("AUDJUST_MOCK_ADMIN_TOKEN", ADMIN_TOKEN)
            .waiting_for(HttpWaitStrategy(port, "/_mock/health"))
        )
        # Published on 127.0.0.1 only (docker-py takes a (host address, port) pair; Testcontainers'
        # with_bind_ports(port, port) would publish on every interface).
        container.ports.update({f"{p}/tcp": ("127.0.0.1", p) for p in (port, results_port)})
        with container:
            yield f"http://127.0.0.1:{port}"


def call(
    url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, headers or {})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def test_an_analysis_reaches_its_webhook(audjust_base_url: str) -> None:
    port = audjust_base_url.rsplit(":", 1)[1]
    # The mock downloads the song and posts the webhook from inside its container, where
    # 127.0.0.1 is the mock itself: a bundled song and its own sink.
    ack = call(
        f"{audjust_base_url}/analyze",
        {
            "sourceFileUrl": f"http://127.0.0.1:{port}/_mock/fixtures/pop_120.mp3",
            "resultWebhook": f"http://127.0.0.1:{port}/_mock/sink/testcontainers",
        },
        {"X-API-Key": "test-key"},
    )
    assert ack["message"] == "Request queued."
    sink = f"{audjust_base_url}/_mock/sink/testcontainers"
    deadline = time.monotonic() + 60
    while not (received := call(sink, headers={"X-Admin-Token": ADMIN_TOKEN})):
        assert time.monotonic() < deadline, "no webhook within 60 s"
        time.sleep(0.1)
    assert [webhook["requestId"] for webhook in received] == [ack["requestId"]]
    assert received[0]["success"] is True
