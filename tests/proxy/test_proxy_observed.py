"""`audjust-mock proxy --observed-profile`: a client's traffic through the proxy to a mock
playing a non-default profile gives back that profile, and a fresh mock playing what was written
is observed the same; the reduction from observations to values, and the listed messages, kept
true on their own."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import aiohttp

from mock_server.contract.observations import Observations, observed_values
from mock_server.contract.profile import Profile
from mock_server.contract.wire import LISTED_ERRORS
from mock_server.proxy.command import add_proxy_arguments, config_from
from mock_server.web import errors
from tests.conftest import AppClient, MakeMock
from tests.proxy_client import MakeProxy, origin
from tests.support import KEY, TINY_RESIZE, free_port, varied_resize, wait_until

# What the proxy can tell from ordinary traffic, each away from the mock's default.
PLAYED: dict[str, Any] = {
    "errors.invalid_method.headers": [],
    "errors.missing_key.status": 400,
    "errors.invalid_key.status": 401,
    "errors.rate_limited.status": 503,
    "errors.rate_limited.headers": [],
    "messages.detail": "message",
    "pricing": "documented",
    "resize.order": "dissimilarity",
    "webhooks.attempts": 2,
}
BACKOFF_SECONDS = 0.3


async def status(client: aiohttp.ClientSession, method: str, headers: dict[str, str]) -> int:
    async with client.request(method, "/analyze", json={}, headers=headers) as answer:
        return answer.status


async def client_flow(upstream: AppClient, make_proxy: MakeProxy, path: Path) -> Profile:
    """An application's calls through a proxy writing `path`: a few refusals, a resize answered
    at once, and one whose webhook receiver is down so the upstream retries and gives up."""
    client = (await make_proxy(origin(upstream), observed_profile=path)).client
    rate_limited = {**KEY, "X-Mock-Scenario": "rate_limited"}
    refusals = [
        await status(client, "GET", KEY),
        await status(client, "POST", {}),
        await status(client, "POST", {"X-API-Key": "not-a-key"}),
        await status(client, "POST", KEY),
        await status(client, "POST", rate_limited),
    ]
    assert refusals == [405, 400, 401, 400, 503]
    async with client.post("/resize", json=varied_resize(), headers=KEY) as answer:
        assert answer.status == 200
    down = f"http://127.0.0.1:{free_port()}/hook"
    async with client.post(
        "/resize", json={**TINY_RESIZE, "resultWebhook": down}, headers=KEY
    ) as answer:
        assert answer.status == 200

    async def retried_until_given_up() -> bool:
        written = json.loads(path.read_text()) if path.exists() else {}
        return bool(written.get("webhooks", {}).get("attempts") == PLAYED["webhooks.attempts"])

    await wait_until(retried_until_given_up)
    return Profile.from_json(json.loads(path.read_text()))


async def test_the_traffic_through_the_proxy_gives_back_the_upstreams_profile(
    make_mock: MakeMock, make_proxy: MakeProxy, tmp_path: Path
) -> None:
    played = {**PLAYED, "webhooks.backoffSeconds": [BACKOFF_SECONDS]}
    upstream = await make_mock(profile=played)
    seen = await client_flow(upstream, make_proxy, tmp_path / "observed.json")
    for key, value in PLAYED.items():
        assert seen.value_at(key) == value, key
    (gap,) = seen.webhook_backoff_seconds  # measured: the backoff and one forwarding's time
    assert gap >= BACKOFF_SECONDS


async def test_a_mock_playing_the_written_profile_is_observed_the_same(
    make_mock: MakeMock, make_proxy: MakeProxy, tmp_path: Path
) -> None:
    played = {**PLAYED, "webhooks.backoffSeconds": [BACKOFF_SECONDS]}
    first = await client_flow(
        await make_mock(profile=played), make_proxy, tmp_path / "observed.json"
    )
    replaying = await make_mock(profile=Profile.load(tmp_path / "observed.json"))
    again = await client_flow(replaying, make_proxy, tmp_path / "again.json")
    for key in PLAYED:
        assert again.value_at(key) == first.value_at(key), key
    assert again.webhook_backoff_seconds[0] >= first.webhook_backoff_seconds[0]


def test_the_reduction_keeps_only_what_every_observation_agrees_on() -> None:
    seen = Observations()
    seen.note_error("Invalid API Key", 401, "Invalid API Key")
    seen.note_error("Missing parameter", 400, "Missing parameter")
    seen.note_error("Missing parameter", 422, "Missing parameter: sourceFileUrl")
    seen.note_pricing("resize", ["examples: ...", "documented: ..."])  # a cost both rules give
    seen.note_pricing("resize", ["documented: ..."])
    seen.note_pricing("export", ["examples: ...", "documented: ..."])
    seen.note_order([{"blendedScore": -1, "dissimilarity": 2, "durationSeconds": 3}])  # any
    seen.note_order(
        [
            {"blendedScore": -2, "dissimilarity": 1, "durationSeconds": 9},
            {"blendedScore": -1, "dissimilarity": 2, "durationSeconds": 8},
        ]
    )
    seen.note_attempts([10.0], taken=True)
    seen.note_attempts([20.0, 21.04, 23.5], taken=False)  # given up after three
    seen.note_attempts([30.0, 31.0], taken=False)  # still being retried
    values, reasons = observed_values(seen)
    assert values == {
        "errors.invalid_key.status": 401,
        "messages.detail": "message",
        "pricing": "documented",
        "resize.order": "dissimilarity",
        "webhooks.attempts": 3,
        "webhooks.backoffSeconds": [1.0, 2.5],
    }
    assert reasons == {
        "errors.missing_parameter.status": "answered with several statuses: [400, 422]"
    }


def test_a_webhook_taken_at_once_tells_no_backoff_and_no_attempts() -> None:
    seen = Observations()
    seen.note_attempts([5.0], taken=True)
    assert observed_values(seen) == ({}, {"webhooks.backoffSeconds": "the webhook was tried once"})


def test_the_listed_messages_are_the_web_layers() -> None:
    listed = {kind.message: kind.name for kind in errors.ApiError.__subclasses__() if kind.listed}
    assert listed == LISTED_ERRORS


def test_the_command_takes_the_observed_profile_flag(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_proxy_arguments(parser)
    path = tmp_path / "observed.json"
    args = parser.parse_args(["--upstream", "http://127.0.0.1:1", "--observed-profile", str(path)])
    assert config_from(args).observed_profile == path
