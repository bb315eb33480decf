"""The docker CLI for the image tests: every call bounded in time, everything made labelled.

Tests reach containers only through ports published on 127.0.0.1, or by name on a Docker network
from another container; `container/image-test.sh` removes whatever carries LABEL when it ends.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_server.web.middlewares import ADMIN_HEADER
from tests.support import ROOT as ROOT  # the checkout, for the tests that import it from here
from tests.support import free_port as free_port

# Published ports are chosen here (free_port), not by docker, so a container listens on the same
# number inside and result URLs need no rewriting.
LABEL = "audjust-mock-image-test"


def docker(*args: str, timeout: float = 120, check: bool = True) -> str:
    """Run `docker ARGS`; its stdout. A failure shows what docker said."""
    finished = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and finished.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)}: {finished.stderr or finished.stdout}")
    return finished.stdout.strip()


def logs(name: str) -> str:
    """A container's output, stdout and stderr together."""
    finished = subprocess.run(
        ["docker", "logs", name], capture_output=True, text=True, timeout=60, check=False
    )
    return finished.stdout + finished.stderr


def script(name: str, *args: str, timeout: float) -> str:
    """Run one of container/*.sh; what it printed."""
    finished = subprocess.run(
        [str(ROOT / "container" / name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert finished.returncode == 0, f"container/{name}: {finished.stderr}"
    return finished.stdout.strip()


def builder() -> list[str]:
    """The `docker build` command container/build-image.sh uses (BuildKit where there is one)."""
    return script("build-image.sh", "--builder", timeout=60).split()


def build(tag: str, context: Path, *, dockerfile: Path | None = None, **args: str) -> None:
    command = [*builder(), "--quiet", "--tag", tag, "--label", LABEL]
    for name, value in args.items():
        command += ["--build-arg", f"{name}={value}"]
    if dockerfile is not None:
        command += ["--file", str(dockerfile)]
    finished = subprocess.run(
        [*command, str(context)], capture_output=True, text=True, timeout=600, check=False
    )
    assert finished.returncode == 0, finished.stderr


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `condition` every 0.1 s; the seconds it took, or an AssertionError naming `what`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    url: str,
    body: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> Answer:
    """GET, or POST a JSON body; any status is an answer, a refused connection is status 0."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Answer(answer.status, answer.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read())
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return Answer(0, b"")


@dataclass(frozen=True)
class MockContainer:
    """One running container of the image, its ports published on 127.0.0.1 at the same numbers
    as inside, so the mock and the host name the same URLs."""

    name: str
    port: int
    results_port: int
    token: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin(self) -> dict[str, str]:
        return {ADMIN_HEADER: self.token}

    def healthy(self) -> bool:
        return http(f"{self.base_url}/_mock/health", timeout=2).status == 200

    def analyze_song(self, sink: str) -> Answer:
        """Analyze a bundled song, its webhook to the mock's sink `sink`. Both URLs are the mock
        itself as it sees them from inside its container (the same port numbers)."""
        return http(
            f"{self.base_url}/analyze",
            body={
                "sourceFileUrl": f"http://127.0.0.1:{self.port}/_mock/fixtures/pop_120.mp3",
                "resultWebhook": f"http://127.0.0.1:{self.port}/_mock/sink/{sink}",
            },
            headers={"X-API-Key": "test-key"},
        )

    def stop(self) -> float:
        """`docker stop` (SIGTERM, then SIGKILL after 10 s); the seconds it took."""
        start = time.monotonic()
        docker("stop", "--time", "10", self.name, timeout=60)
        return time.monotonic() - start


@contextmanager
def mock_container(
    image: str,
    *,
    token: str,
    network: str,
    alias: str | None = None,
    volume: str | None = None,
    env: Mapping[str, str] | None = None,
    ports: tuple[int, int] | None = None,
) -> Iterator[MockContainer]:
    """Run the image until the block ends; healthy (as seen through its port) on entry."""
    port, results_port = ports or (free_port(), free_port())
    name = f"audjust-image-test-{port}"
    settings = {
        "AUDJUST_MOCK_PORT": str(port),
        "AUDJUST_MOCK_RESULTS_PORT": str(results_port),
        "AUDJUST_MOCK_ADMIN_TOKEN": token,
        **(env or {}),
    }
    command: list[str] = ["run", "--detach", "--name", name, "--label", LABEL]
    for published in (port, results_port):
        command += ["--publish", f"127.0.0.1:{published}:{published}"]
    for key, value in settings.items():
        command += ["--env", f"{key}={value}"]
    # A user-defined network: the daemon make image-test starts has no default bridge.
    command += ["--network", network, *(["--network-alias", alias] if alias else [])]
    if volume:
        command += ["--volume", f"{volume}:/data"]
    docker(*command, image)
    container = MockContainer(name, port, results_port, token)
    try:
        wait_until(container.healthy, 60, f"{name} answering /_mock/health")
        yield container
    finally:
        docker("rm", "--force", "--volumes", name, check=False)


def labelled(kind: str, name: str, *extra: str) -> str:
    """Create a labelled network or volume."""
    return docker(kind, "create", "--label", LABEL, *extra, name)


def run(
    command: Sequence[str], *, env: Mapping[str, str], timeout: float, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """A host command with a bound; its output is kept for the assertion message."""
    return subprocess.run(
        list(command),
        env=dict(env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
