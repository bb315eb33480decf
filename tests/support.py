"""Helpers and constants shared by test files, each defined once: the key, the smallest
resize, ports, a real `serve` process, the shell blocks of a docs page, error matching, and the
bad-input kit (valid bodies to spoil, strict JSON, refusal checks, a raw webhook receiver and
audio files that are not usable), and a wrk round for the benches' tables."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import os
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import lameenc
import numpy as np
import pytest
import soundfile as sf
from aiohttp import web
from aiohttp.test_utils import TestClient

from bench import wrk
from mock_server.contract.wire import LISTED_ERRORS
from mock_server.web.errors import DETAIL_HEADER
from tests.contract_checks import check_payload

ROOT = Path(__file__).resolve().parents[1]
# The API reference, beside the repository on every development machine and in CI.
REFERENCE = ROOT.parent / "shared" / "reference" / "audjust-api.txt"
KEY = {"X-API-Key": "test-key"}  # the mock's default key, as a header
TINY_SIMILARITY = {"data": "~~~", "min": 32, "max": 126}  # two beats
# The smallest resize the API accepts: no audio, answered at once.
TINY_RESIZE = {"targetLengthSeconds": 1, "similarity": TINY_SIMILARITY, "boundaries": [0, 1]}


async def next_event(response: aiohttp.ClientResponse, name: str) -> Any:
    """The data of the next event called `name` on a feed, the others skipped."""
    while True:
        text = (await response.content.readuntil(b"\n\n")).decode()
        head, data = text.strip().split("\n", 1)
        if head == f"event: {name}":
            return json.loads(data.removeprefix("data: "))


def varied_resize(beats: int = 64, seed: int = 5) -> dict[str, Any]:
    """A resize of a similarity matrix with structure enough that the result orders disagree
    (20 candidates, 20 s: a price the two pricing rules disagree on too)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(32, 127, size=beats * (beats + 1) // 2)
    diagonal = [(i + 1) * i // 2 + i for i in range(beats)]
    codes[diagonal] = 126
    data = "".join(map(chr, codes))
    return {
        "targetLengthSeconds": 20,
        "similarity": {"data": data, "min": 32, "max": 126},
        "boundaries": [round(0.5 * i, 2) for i in range(beats)],
    }


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Poll `condition` until it holds; a TimeoutError after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.05)


def free_port() -> int:
    """A port nothing listens on now (bound and released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_process(*flags: str) -> Iterator[str]:
    """`audjust-mock serve` as a user starts it, on a free port; yields its origin."""
    with subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--workers", "1", *flags],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            found = re.search(r"listening on (http://\S+)", line)
            assert found, f"serve printed {line!r}"
            yield found.group(1)
        finally:
            process.terminate()
            process.wait(timeout=30)


def shell_blocks(page: Path) -> list[str]:
    """The ```sh blocks of a Markdown page, in order."""
    return re.findall(r"```sh\n(.*?)```", page.read_text(), re.S)


def run_shell(script: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run `script` as a user would paste it into bash, stopping at the first failing command."""
    finished = subprocess.run(
        ["bash", "-e", "-c", script],  # no pipefail: `| head` is as a user pastes it
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


# The six errors the reference lists, by their exact text.
LISTED_MESSAGES = tuple(LISTED_ERRORS)


def explained(message: str, detail: str | None) -> str:
    """An error's message with the mock's `X-Mock-Detail` after it, for matching a detail; a
    listed error's message must be exactly the listed text."""
    for listed in LISTED_MESSAGES:
        if message.startswith(listed):
            assert message == listed, f"{message!r} is not the listed text {listed!r}"
    return f"{message}: {detail}" if detail and message in LISTED_MESSAGES else message


# --- bad input: valid bodies to spoil, and what a clear refusal looks like ------------------

# Either a TestClient or a ClientSession with a base_url: both take paths.
Api = Any
NOWHERE = "http://127.0.0.1:9/x"  # valid URLs for bodies refused before anything is fetched
VALID: dict[str, dict[str, object]] = {
    "/analyze": {"resultWebhook": NOWHERE, "sourceFileUrl": NOWHERE, "features": []},
    "/resize": TINY_RESIZE,
    "/export": {
        "resultWebhook": NOWHERE,
        "sourceFileUrl": NOWHERE,
        "exportFormat": "wav",
        "segmentsGroups": [[[0, 1]]],
    },
}
INTERNAL = "Internal error"


def replaced(path: str, field: str, value: Any) -> dict[str, Any]:
    return {**VALID[path], field: value}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def strict_json(data: bytes | str) -> Any:
    """Parse as a strict client (JavaScript's JSON.parse, Go, Rust) would: no NaN or Infinity."""
    return json.loads(data, parse_constant=_refuse_constant)


async def exchange(api: Api, path: str, body: Any) -> tuple[int, str, Any, str | None]:
    """POST `body` (bytes as they are, anything else through json.dumps, which writes NaN):
    status, content type, the answer and the mock's X-Mock-Detail."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    # A BytesIO, since aiohttp warns about (and the suite errors on) raw bodies over 1 MB.
    async with api.post(path, data=io.BytesIO(data), headers=KEY) as response:
        raw = await response.read()
        json_answer = response.content_type == "application/json"
        answer = strict_json(raw) if json_answer else raw
        return response.status, response.content_type, answer, response.headers.get(DETAIL_HEADER)


async def send(api: Api, path: str, body: Any) -> tuple[int, str, Any]:
    status, content_type, answer, _ = await exchange(api, path, body)
    return status, content_type, answer


def check_refusal(
    status: int,
    content_type: str,
    document: Any,
    expected: int,
    *fragments: str,
    detail: str | None = None,
) -> str:
    """The envelope, and each fragment in the message (with a listed error's X-Mock-Detail)."""
    assert (status, content_type) == (expected, "application/json"), document
    assert set(document) == {"success", "message"} and document["success"] is False, document
    check_payload(document)
    message = explained(str(document["message"]), detail)
    for fragment in fragments:
        assert fragment in message, message
    return message


async def refused(api: Api, path: str, body: Any, expected: int, *fragments: str) -> str:
    """Assert a clear refusal: `expected` status, the JSON envelope, each fragment named."""
    status, content_type, document, detail = await exchange(api, path, body)
    return check_refusal(status, content_type, document, expected, *fragments, detail=detail)


async def assert_healthy(api: Api) -> None:
    async with api.get("/_mock/health") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"
    status, _, payload = await send(api, "/resize", TINY_RESIZE)
    assert status == 200 and payload["success"] is True and payload["result"], payload


@dataclasses.dataclass
class Hooks:
    """A webhook receiver that keeps the raw bodies, to parse them strictly. It takes a body
    that is not JSON too (a checking proxy passes a broken webhook on as it came): every POST is
    in `deliveries`, and those with a requestId are also found by it."""

    server: Any = None
    bodies: dict[str, bytes] = dataclasses.field(default_factory=dict)
    # requestId -> the X-Mock-Violations count a checking proxy put on its webhook, if any
    violations: dict[str, str | None] = dataclasses.field(default_factory=dict)
    # every POST in arrival order: (its body, its X-Mock-Violations count, if any)
    deliveries: list[tuple[bytes, str | None]] = dataclasses.field(default_factory=list)
    # every POST's X-Mock-Findings count, if any, in the same order
    findings: list[str | None] = dataclasses.field(default_factory=list)
    arrived: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    def url(self) -> str:
        return str(self.server.make_url("/hook"))

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        counted = request.headers.get("X-Mock-Violations")
        self.deliveries.append((body, counted))
        self.findings.append(request.headers.get("X-Mock-Findings"))
        try:
            request_id = json.loads(body)["requestId"]
        except (ValueError, TypeError, KeyError):
            request_id = None
        if isinstance(request_id, str):
            self.bodies[request_id] = body
            self.violations[request_id] = counted
        self.arrived.set()
        return web.Response(text="ok")

    async def payload(self, request_id: str, timeout: float = 20.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while request_id not in self.bodies:
                self.arrived.clear()
                await self.arrived.wait()
        document = strict_json(self.bodies[request_id])
        check_payload(document)
        return dict(document)


async def run_beside_a_good_job(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    body: dict[str, Any],
    path: str = "/analyze",
) -> dict[str, Any]:
    """Submit `body` and a good analysis at the same time; check the good one succeeds and
    return the webhook for `body`."""
    good = {"resultWebhook": hooks.url(), "sourceFileUrl": source_url("/song.mp3")}
    (status, _, ack), (good_status, _, good_ack) = await asyncio.gather(
        send(api, path, body), send(api, "/analyze", good)
    )
    assert status == 200 and good_status == 200, (ack, good_ack)
    payload, good_payload = await asyncio.gather(
        hooks.payload(ack["requestId"]), hooks.payload(good_ack["requestId"])
    )
    assert good_payload["success"] is True and good_payload["result"]["tempo"] == 120
    if not payload["success"]:
        async with api.get(ack.get("resultUrl") or ack["resultUrls"][0]) as response:
            assert response.status == 404
    return payload


def expect_failure(payload: dict[str, Any], source: str, *fragments: str) -> None:
    assert payload == {
        "requestId": payload["requestId"],
        "success": False,
        "message": payload["message"],
        "sourceFileUrl": source,
        "creditCost": 0,
    }
    assert INTERNAL not in payload["message"]
    for fragment in fragments:
        assert fragment in payload["message"]


# --- audio files for the bad-source tests ------------------------------------------------------


def wav_bytes(samples: Any, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def tone(seconds: float, rate: int, hertz: float = 440.0) -> Any:
    return (0.3 * np.sin(2 * np.pi * hertz * np.arange(int(seconds * rate)) / rate)).astype(
        np.float32
    )


def silent_mp3(seconds: float) -> bytes:
    """Silence as 8 kHz mono 8 kbps MP3 without a length header: LAME's silent frames are all
    alike, so one is repeated. 31 minutes is 1.9 MB, made in a millisecond."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(8)
    encoder.set_in_sample_rate(8000)
    encoder.set_channels(1)
    encoder.set_quality(7)
    data = bytes(encoder.encode(np.zeros(4 * 8000, np.int16).tobytes())) + bytes(encoder.flush())
    frame_bytes = 72  # 576 samples at 8 kbps and 8 kHz, no padding
    middle = data[20 * frame_bytes : 21 * frame_bytes]
    assert middle[:2] == b"\xff\xe3" and data.count(middle) > 10
    return middle * (int(seconds * 8000 / 576) + 1)


def silent_flac(minutes: int) -> bytes:
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", 8000, 1, format="FLAC", subtype="PCM_16") as handle:
        minute = np.zeros(8000 * 60, np.int16)
        for _ in range(minutes):
            handle.write(minute)
    return buffer.getvalue()


def round_of(per_second: float, p99: float, failed: int = 0) -> wrk.Round:
    """A two-second wrk round at `per_second` with `p99` (p50 a quarter of it): the benches'
    tables and ratios, tested without wrk."""
    return wrk.Round(requests=int(per_second * 2), seconds=2.0, p50=p99 / 4, p99=p99, failed=failed)


def words(text: str) -> str:
    """`text` with each run of whitespace as one space: the reference wraps and indents."""
    return re.sub(r"\s+", " ", text).strip()


def reference_words() -> str:
    """The reference's text as `words`. Outside CI a checkout without it skips the caller; in
    CI (the environment variable CI set) a missing reference fails it, so a check of quotes
    cannot quietly stop."""
    return words(_beside_the_repository(REFERENCE))


def reference_notes() -> str:
    """The notes on the newer endpoints (upload, structure), which the reference's folder
    holds beside it; skipped or failed as `reference_words` is."""
    return _beside_the_repository(REFERENCE.with_name("audjust-api-gen2-notes.md"))


def _beside_the_repository(path: Path) -> str:
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"the API reference is missing at {path}; CI must have it")
        pytest.skip(f"the API reference is not at {path} (outside CI)")
    return path.read_text(encoding="utf-8")


@dataclasses.dataclass(frozen=True)
class SuiteRun:
    """One run of the contract suite: its exit code, each test's outcome, its output, and the
    findings its JUnit report carries as properties (test -> the ledger rows)."""

    code: int
    outcomes: dict[str, str]
    output: str
    findings: dict[str, set[str]]

    @property
    def finding_rows(self) -> set[str]:
        return set().union(*self.findings.values()) if self.findings else set()


async def run_suite(tmp_path: Path, *args: str) -> SuiteRun:
    """Run `pytest contract_tests` in a child process and read its JUnit report."""
    report = tmp_path / "junit.xml"
    command = [sys.executable, "-m", "pytest", "contract_tests", "-p", "no:cacheprovider"]
    child = await asyncio.create_subprocess_exec(
        *command,
        f"--junitxml={report}",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(child.communicate(), timeout=300)
    outcomes, findings = {}, {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        outcomes[name] = kinds[0] if kinds else "passed"
        rows = {
            str(prop.get("value", "")).split(":", 1)[0]
            for prop in case.iter("property")
            if prop.get("name") == "finding"
        }
        if rows:
            findings[name] = rows
    assert child.returncode is not None
    return SuiteRun(child.returncode, outcomes, output.decode(), findings)


# --- uploads: the example page's protocol (GET /upload, PUT, then the retrievalUrl) ---------


async def upload_slot(
    mock: TestClient[web.Request, web.Application], headers: dict[str, str] = KEY
) -> dict[str, Any]:
    async with mock.get("/upload", headers=headers) as response:
        assert response.status == 200, await response.text()
        document: dict[str, Any] = await response.json()
    assert set(document) == {"storageUrl", "retrievalUrl"}
    return document


async def put(url: str, data: bytes, **headers: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.put(url, data=data, headers=headers) as response,
    ):
        return response.status, await response.text()


async def fetch(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.read()


async def uploaded(mock: TestClient[web.Request, web.Application], data: bytes) -> str:
    """The retrievalUrl of `data`, uploaded as the example page does: no key, no content type."""
    slot = await upload_slot(mock)
    status, text = await put(slot["storageUrl"], data)
    assert status == 200, text
    return str(slot["retrievalUrl"])
