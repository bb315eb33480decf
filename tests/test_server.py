"""`audjust-mock serve` as a real process: the ready line, a request, and a clean stop."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from mock_server.accounts import Plan, PricingRule
from mock_server.cli import build_parser
from mock_server.flags import FLAGS, settings_from
from mock_server.settings import Settings
from tests.support import TINY_RESIZE, free_port


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_announces_answers_and_stops_cleanly(stop: signal.Signals) -> None:
    port, results_port = free_port(), free_port()
    env = {
        **os.environ,
        "AUDJUST_MOCK_PORT": str(port),
        "AUDJUST_MOCK_RESULTS_PORT": str(results_port),
        "AUDJUST_MOCK_WORKERS": "1",
    }
    with subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            ready = process.stdout.readline().strip()
            assert ready == (
                f"audjust-mock listening on http://127.0.0.1:{port} "
                f"(results on http://127.0.0.1:{results_port})"
            )
            assert "test-key" in process.stdout.readline()
            body = {
                "targetLengthSeconds": 1,
                "boundaries": [0, 1],
                "similarity": {"data": "~~~", "min": 32, "max": 126},
            }
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/resize",
                data=json.dumps(body).encode(),
                headers={"X-API-Key": "test-key", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert json.load(response)["success"] is True
            process.send_signal(stop)
            assert process.wait(timeout=10) == 0
            assert "Traceback" not in process.stderr.read()
        finally:
            process.kill()


def test_an_unknown_plan_is_a_usage_error() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--api-key", "k:platinum"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "unknown plan 'platinum'" in done.stderr


def test_run_wide_scenarios_from_flags_and_a_file(tmp_path: Path) -> None:
    file = tmp_path / "faults.json"
    file.write_text(json.dumps([{"name": "slow", "params": {"seconds": 5}, "route": "/export"}]))
    args = build_parser().parse_args(
        ["serve", "--scenario", "webhook_dropped", "--scenario-file", str(file)]
    )
    chosen = settings_from(args).scenarios
    assert [(a.scenario.describe(), a.count, a.route) for a in chosen] == [
        ("webhook_dropped", None, None),
        ("slow;seconds=5", None, "/export"),
    ]


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        ("--scenario=meteor_strike", "unknown scenario 'meteor_strike'"),
        ("--scenario-file=/no/such/file.json", "No such file"),
    ],
)
def test_bad_scenarios_are_usage_errors(flag: str, message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", flag],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and message in done.stderr


def serve_settings(argv: list[str]) -> Settings:
    return settings_from(build_parser().parse_args(["serve", *argv]))


def test_flags_not_given_leave_every_setting_at_its_one_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("AUDJUST_MOCK_"):
            monkeypatch.delenv(name)
    assert serve_settings([]) == Settings()


def test_a_flag_beats_its_variable_and_a_variable_beats_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AUDJUST_MOCK_RATE_LIMIT", "7")
    monkeypatch.setenv("AUDJUST_MOCK_PRICING", "documented")
    monkeypatch.setenv("AUDJUST_MOCK_PUBLIC_SOURCES_ONLY", "yes")
    monkeypatch.setenv("AUDJUST_MOCK_API_KEYS", "a:free,b")
    settings = serve_settings(["--rate-limit", "9"])
    assert settings.rate_limit == 9 and settings.profile.pricing is PricingRule.DOCUMENTED
    assert settings.public_sources_only is True
    assert settings.api_keys == (("a", Plan.FREE), ("b", Plan.ENTERPRISE))


def test_every_flag_says_its_default_and_its_variable() -> None:
    serve = next(
        action
        for action in build_parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    ).choices["serve"]
    flags = [action for action in serve._actions if action.option_strings != ["-h", "--help"]]
    assert len(flags) == len(FLAGS) + 3  # and --api-key, --scenario, --scenario-file
    for action in flags:
        assert action.help and "(default: " in action.help, action.option_strings
        assert re.search(r"env AUDJUST_MOCK_[A-Z_]+\)$", action.help), action.help


def serve_and_stop(*flags: str) -> list[str]:
    """Run `serve` with `flags`, send one resize and one refused request, stop it; its stderr."""
    # Port 0: serve binds both origins itself, so no other test can take a port picked here.
    command = [sys.executable, "-m", "mock_server", "serve", "--workers", "1", "--port", "0"]
    with subprocess.Popen(
        [*command, *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None and process.stderr is not None
            listening = re.search(r"listening on (http://\S+)", process.stdout.readline())
            assert listening, "serve did not say where it listens"
            origin = listening.group(1)
            hooked = {**TINY_RESIZE, "resultWebhook": f"{origin}/_mock/sink/log"}
            for key, body in (("test-key", hooked), ("wrong", TINY_RESIZE)):
                request = urllib.request.Request(
                    f"{origin}/resize",
                    data=json.dumps(body).encode(),
                    headers={"X-API-Key": key, "Content-Type": "application/json"},
                )
                try:
                    urllib.request.urlopen(request, timeout=30).close()
                except urllib.error.HTTPError as refused:
                    refused.close()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:  # until the webhook has been attempted
                with urllib.request.urlopen(f"{origin}/_mock/webhooks", timeout=30) as answer:
                    if json.load(answer):
                        break
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
            return process.stderr.read().splitlines()
        finally:
            process.kill()


def test_serve_prints_its_traffic() -> None:
    lines = serve_and_stop()
    assert len(lines) == 4, lines
    ok = next(line for line in lines if " -> 200 " in line and line.startswith("POST"))
    found = re.fullmatch(
        r"POST /resize -> 200 \([0-9.]+ ms\) key=test\*+ requestId=([a-z0-9]{32}) scenarios=-", ok
    )
    assert found, ok
    webhook = next(line for line in lines if line.startswith("webhook "))
    assert re.fullmatch(
        rf"webhook {found.group(1)} -> http://\S+/_mock/sink/log 200 \(attempt 1, [0-9.]+ ms\)",
        webhook,
    ), webhook
    refused = next(line for line in lines if " -> 403 " in line)
    assert refused.startswith("POST /resize -> 403 (") and "requestId=-" in refused
    assert "wrong" not in refused  # keys are masked in the log too
    assert lines[-1] == "audjust-mock stopped"


def test_serve_prints_json_lines_or_nothing() -> None:
    events = [json.loads(line) for line in serve_and_stop("--log-format", "json")]
    assert sorted(e["event"] for e in events) == ["request", "request", "stopped", "webhook"]
    requests = [e for e in events if e["event"] == "request"]
    assert [e["status"] for e in requests] == [200, 403] and events[-1]["event"] == "stopped"
    assert set(requests[0]) == {
        "event",
        "method",
        "path",
        "requestId",
        "key",
        "body",
        "status",
        "at",
        "durationMs",
        "scenarios",
        "detail",
        "replayed",
        "answered",
        "notes",
    }
    assert serve_and_stop("--quiet") == []


WORKERS = {"serve": ["--workers", "1"], "proxy": []}


@contextlib.contextmanager
def taken_port() -> Iterator[int]:
    """A port something listens on for the length of the block."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


@pytest.mark.parametrize(
    ("command", "flag", "listener"),
    [
        (["serve", "--results-port", "0", "--port"], "--port", "the API"),
        (["serve", "--port", "0", "--results-port"], "--results-port", "the results origin"),
        (["proxy", "--upstream", "http://127.0.0.1:9", "--port"], "--port", "the proxy"),
    ],
)
def test_a_port_in_use_is_one_line_naming_its_flag(
    command: list[str], flag: str, listener: str
) -> None:
    with taken_port() as port:
        done = subprocess.run(
            [sys.executable, "-m", "mock_server", *command, str(port), *WORKERS[command[0]]],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert f"port {port} ({flag}, {listener}) is already in use" in line
