"""The image as built: who it runs as, what is in it, its health check, the admin token beyond
loopback, how fast it stops, and results on its volume outliving the container."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import pytest

from container_tests.docker import (
    MockContainer,
    docker,
    http,
    labelled,
    logs,
    mock_container,
    wait_until,
)

SONG = "pop_120.mp3"
MAX_IMAGE_MB = 400  # 230 MB measured on the Debian base; a guard against a toolchain creeping in


def test_the_image_runs_as_a_non_root_user(image: str, mock: MockContainer) -> None:
    assert docker("image", "inspect", "--format", "{{.Config.User}}", image) == "audjust"
    assert docker("exec", mock.name, "id", "-u") == "10001"


def test_the_final_image_has_no_compiler_pip_or_build_tool(
    image: str, figures: dict[str, str]
) -> None:
    tools = "gcc cc c++ clang make ld pip pip3"
    found = docker(
        "run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c",
        f"for tool in {tools}; do command -v $tool; done; true",
    )  # fmt: skip
    assert found == ""
    size_mb = int(docker("image", "inspect", "--format", "{{.Size}}", image)) / 1e6
    base = docker(
        "image", "inspect", "--format",
        '{{index .Config.Labels "org.opencontainers.image.base.name"}}', image,
    )  # fmt: skip
    figures["image size"] = f"{size_mb:.0f} MB ({image} on {base})"
    assert size_mb < MAX_IMAGE_MB


def test_the_healthcheck_reports_healthy(mock: MockContainer) -> None:
    def healthy() -> bool:
        return docker("inspect", "--format", "{{.State.Health.Status}}", mock.name) == "healthy"

    wait_until(healthy, 60, "docker's health status healthy")


def test_control_routes_need_the_admin_token_through_a_published_port(
    mock: MockContainer,
) -> None:
    # The container listens on 0.0.0.0, so the mock guards /_mock/* as it would on any
    # non-loopback address: the token, or nothing.
    journal = f"{mock.base_url}/_mock/requests"
    assert http(journal).status == 403
    assert http(journal, headers={"X-Admin-Token": "wrong"}).status == 403
    assert http(journal, headers=mock.admin).status == 200
    # What stays open: health, the bundled songs, webhooks arriving at a sink.
    assert http(f"{mock.base_url}/_mock/health").status == 200
    assert http(f"{mock.base_url}/_mock/fixtures/{SONG}").status == 200
    assert http(f"{mock.base_url}/_mock/sink/open", body={"requestId": "x"}).status == 200
    assert http(f"{mock.base_url}/_mock/sink/open").status == 403


@pytest.fixture
def volume() -> Iterator[str]:
    name = labelled("volume", f"audjust-image-test-{secrets.token_hex(4)}")
    try:
        yield name
    finally:
        docker("volume", "rm", "--force", name, check=False)


def analyze_and_wait(mock: MockContainer) -> dict[str, object]:
    """An analysis's acknowledgement, once its result is served."""
    ack = mock.analyze_song(sink="volume")
    assert ack.status == 200, ack.body
    answer: dict[str, object] = ack.json()
    url = str(answer["resultUrl"])
    assert url.startswith(f"http://127.0.0.1:{mock.results_port}/")
    wait_until(lambda: http(url).status == 200, 60, f"the result at {url}")
    return answer


def test_results_on_the_volume_outlive_the_container(
    image: str, network: str, volume: str, figures: dict[str, str]
) -> None:
    token = secrets.token_hex(8)
    with mock_container(image, token=token, network=network, volume=volume) as first:
        ack = analyze_and_wait(first)
        result = http(str(ack["resultUrl"])).json()
        stopped = first.stop()
        assert docker("inspect", "--format", "{{.State.ExitCode}}", first.name) == "0"
    figures["docker stop, after work"] = f"{stopped:.2f} s"
    assert stopped < 10
    ports = (first.port, first.results_port)
    with mock_container(image, token=token, network=network, volume=volume, ports=ports) as second:
        again = http(str(ack["resultUrl"]))
        assert again.status == 200
        assert json.loads(again.body) == result
        stopped = second.stop()
    assert stopped < 10


def test_docker_stop_ends_it_fast_with_a_job_in_flight(
    image: str, network: str, figures: dict[str, str]
) -> None:
    with mock_container(image, token=secrets.token_hex(8), network=network) as container:
        assert container.analyze_song(sink="stop").status == 200
        stopped = container.stop()
        output = logs(container.name)
    figures["docker stop, a job in flight"] = f"{stopped:.2f} s"
    assert stopped < 10, output
    assert "Traceback" not in output
