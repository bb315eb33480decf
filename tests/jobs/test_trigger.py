"""`audjust-mock trigger` and POST /_mock/trigger: the webhook each operation would send, made by
the real engine, delivered to a receiver of the caller's choosing; its results served as usual."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest

from mock_server.contract.schemas import validate
from tests.support import ROOT, run_shell, serve_process, shell_blocks

SCHEMAS = {
    "analyze": "analyze-webhook",
    "resize": "resize-webhook",
    "export": "export-webhook",
    "structure": "structure-response",
}


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    with serve_process() as running:
        yield running


def trigger(*argv: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "trigger", *argv],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_receiver_that_is_down_is_reported_at_its_first_attempt(origin: str) -> None:
    """Nothing listens at --to: the command says so at the first attempt and leaves the retries
    to the mock, instead of waiting out --timeout (here far longer than the run may take)."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{unused.getsockname()[1]}/hook"
    payload_line, answer = trigger("analyze", "--to", down, "--mock", origin, "--timeout", "900")
    assert json.loads(payload_line)["success"] is True
    assert answer.startswith("receiver answered ") and answer.endswith("(attempt 1)")
    assert "HTTP" not in answer  # a connection error, named, not a status


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return json.load(answer)


@pytest.mark.parametrize("operation", ["analyze", "resize", "export", "structure"])
def test_the_command_delivers_what_the_operation_would_send(origin: str, operation: str) -> None:
    sink = f"{origin}/_mock/sink/trigger-{operation}"
    payload_line, answer = trigger(operation, "--to", sink, "--mock", origin, "--target", "6")
    payload = json.loads(payload_line)
    validate(SCHEMAS[operation], payload)
    assert payload["success"] is True and answer == "receiver answered HTTP 200 (attempt 1)"
    assert get(sink) == [payload]  # what the receiver got is what was printed
    if operation == "analyze":
        assert payload["result"]["tempo"] == 120  # the bundled pop_120 song, really analysed
    if operation == "structure":
        assert len(payload["sections"]) >= 2  # a song of verse and chorus, really segmented
    if operation == "export":
        with urllib.request.urlopen(payload["resultUrls"][0], timeout=30) as served:
            assert served.headers["Content-Type"] == "audio/mpeg" and len(served.read()) > 10_000


def test_the_route_answers_with_result_urls_that_serve(origin: str) -> None:
    request = urllib.request.Request(
        f"{origin}/_mock/trigger",
        json.dumps({"operation": "resize", "to": f"{origin}/_mock/sink/route"}).encode(),
        {"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        ack = json.load(answer)
    assert ack["resultUrl"].endswith(f"/{ack['requestId']}/resize.json")
    assert not ack["resultUrl"].startswith(origin)  # the results origin, as for any job
    for _ in range(300):
        if get(f"{origin}/_mock/sink/route"):
            break
        threading.Event().wait(0.1)
    assert get(ack["resultUrl"]) == get(f"{origin}/_mock/sink/route")[0]


def test_the_failure_webhook(origin: str) -> None:
    sink = f"{origin}/_mock/sink/failed"
    payload_line, _ = trigger("analyze", "--to", sink, "--mock", origin, "--failure")
    payload = json.loads(payload_line)
    validate("failure-webhook", payload)
    assert payload["success"] is False and payload["creditCost"] == 0


class Recorder(BaseHTTPRequestHandler):
    received: ClassVar[list[Any]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Recorder.received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_offline_needs_no_mock_and_says_its_urls_are_not_served() -> None:
    receiver = HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{receiver.server_port}/hook"
        done = subprocess.run(
            [sys.executable, "-m", "mock_server", "trigger", "export", "--to", url, "--offline"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        receiver.shutdown()
        receiver.server_close()
    assert done.returncode == 0, done.stderr
    payload_line, answer = done.stdout.splitlines()
    assert answer == "receiver answered HTTP 204"
    assert Recorder.received == [json.loads(payload_line)]
    validate("export-webhook", Recorder.received[0])
    assert "are not served" in done.stderr


def test_an_unknown_song_or_a_bad_body_is_a_clear_error(origin: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mock_server",
            "trigger",
            "analyze",
            "--to",
            "http://x/h",
            "--song",
            "no_such_song",
            "--offline",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2 and "no fixture song 'no_such_song'" in done.stderr
    request = urllib.request.Request(
        f"{origin}/_mock/trigger",
        json.dumps({"operation": "transcode", "to": "http://x/h"}).encode(),
        {"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    with refused.value as error:
        assert error.code == 400 and "operation must be one of" in json.load(error)["message"]


def test_the_docs_commands_run_as_written(origin: str) -> None:
    (script,) = shell_blocks(ROOT / "docs" / "webhooks.md")
    output = run_shell(script, {**os.environ, "MOCK": origin}, timeout=300)
    assert output.splitlines() == ["receiver answered HTTP 200 (attempt 1)", "False", "2"]


def test_a_target_the_engine_refuses_is_named_as_the_api_spells_it(origin: str) -> None:
    request = urllib.request.Request(
        f"{origin}/_mock/trigger",
        json.dumps({"operation": "resize", "to": "http://x/h", "targetLengthSeconds": -5}).encode(),
        {"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)
    with refused.value as error:
        message = json.load(error)["message"]
    assert error.code == 400
    assert "the source cannot be used: targetLengthSeconds: must be a number" in message
