"""The fidelity ledger kept true, and every profile key shown to change what a client sees.

Each profile key has one test below that observes the behaviour at the mock's default and with
the key flipped, and sees a difference; `test_every_profile_key_has_a_flip_test` makes a new
key without one fail.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from mock_server.contract import fidelity, profile
from mock_server.contract.fidelity import LEDGER, Basis
from mock_server.contract.profile import OPTIONAL_HEADERS, ErrorName
from mock_server.jobs.job import JobState
from mock_server.uploads import UPLOAD_SECONDS
from mock_server.web.keys import SERVICES
from tests.conftest import AppClient, FileServer, MakeMock, Receiver, post
from tests.support import KEY, NOWHERE, ROOT, TINY_RESIZE, uploaded, varied_resize, wait_until

FLIPPED: set[str] = set()
Test = Callable[..., Awaitable[None]]


def flips(*keys: str) -> Callable[[Test], Test]:
    """Mark a test as the one that shows `keys` change what a client observes."""
    FLIPPED.update(keys)
    return lambda test: test


# --- the ledger ----------------------------------------------------------------------------------


def _contract_tests() -> set[str]:
    found = set()
    for path in (ROOT / "contract_tests").glob("test_*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.add(f"{path.name}::{node.name}")
    return found


def test_every_entry_is_observed_by_a_contract_test_that_exists_or_says_why_not() -> None:
    tests = _contract_tests()
    assert len({b.id for b in LEDGER}) == len(LEDGER), "ids repeat"
    for behaviour in LEDGER:
        assert (behaviour.contract_test is None) != (behaviour.unobserved is None), behaviour.id
        if behaviour.contract_test:
            assert behaviour.contract_test in tests, behaviour.contract_test


def test_every_entry_says_what_it_rests_on() -> None:
    for behaviour in LEDGER:
        assert behaviour.source and behaviour.behaviour and behaviour.mock_does, behaviour.id
    assert {b.basis for b in LEDGER} == set(Basis)


def test_every_profile_key_is_in_the_ledger_and_every_ledger_key_exists() -> None:
    listed = {b.profile_key for b in LEDGER if b.profile_key}
    assert listed == set(profile.keys())


def test_every_profile_key_has_a_flip_test() -> None:
    assert set(profile.keys()) == FLIPPED


def test_the_docs_page_is_the_ledger_rendered() -> None:
    page = (ROOT / "docs" / "fidelity.md").read_text()
    assert page == fidelity.markdown(), (
        "docs/fidelity.md is stale: python -m mock_server.contract.fidelity > docs/fidelity.md"
    )


async def test_the_mock_serves_the_ledger_with_its_profile_values(make_mock: MakeMock) -> None:
    mock = await make_mock(profile={"pricing": "documented"})
    async with mock.get("/_mock/fidelity") as response:
        served = await response.json()
    by_key = {b["profileKey"]: b for b in served["behaviours"] if b["profileKey"]}
    assert by_key["pricing"]["value"] == "documented"
    assert served["profile"]["pricing"] == "documented"
    assert len(served["behaviours"]) == len(LEDGER)


# --- errors: statuses and optional headers -------------------------------------------------

TIMED_OUT_AT_ONCE = 100_000.0  # a time scale at which the 7-minute job limit passes at once


async def _answer(mock: AppClient, error: ErrorName) -> aiohttp.ClientResponse:
    """Bring about `error` on `mock`."""
    export = {
        "resultWebhook": NOWHERE,
        "sourceFileUrl": NOWHERE,
        "exportFormat": "flac",
        "segmentsGroups": [[[0, 1]]],
    }
    scenario = {
        ErrorName.RATE_LIMITED: "rate_limited",
        ErrorName.USAGE_EXCEEDED: "usage_exceeded",
        ErrorName.RESIZE_FAILED: "internal_failure",
        ErrorName.RESIZE_TIMED_OUT: "never_completes",
        ErrorName.STRUCTURE_FAILED: "internal_failure",
    }
    match error:
        case ErrorName.INVALID_METHOD:
            return await mock.get("/analyze", headers=KEY)
        case ErrorName.MISSING_KEY:
            return await mock.post("/analyze", json={})
        case ErrorName.INVALID_KEY:
            return await mock.post("/analyze", json={}, headers={"X-API-Key": "nope"})
        case ErrorName.MISSING_PARAMETER:
            return await mock.post("/analyze", json={}, headers=KEY)
        case ErrorName.INVALID_PARAMETER:
            return await mock.post("/export", json=export, headers=KEY)
        case ErrorName.MALFORMED_JSON:
            return await mock.post("/analyze", data=b"{", headers=KEY)
        case ErrorName.RESULT_MISSING:
            port = mock.app[SERVICES].results_port
            url = f"http://127.0.0.1:{port}/{'0' * 32}/analysis.json"
            return await mock.session.get(url)
        case ErrorName.UPLOAD_EXPIRED:
            url = await uploaded(mock, b"RIFF")
            mock.app[SERVICES].clock.advance(UPLOAD_SECONDS + 1)
            return await mock.session.get(url)
        case ErrorName.STRUCTURE_FAILED:
            headers = {**KEY, "X-Mock-Scenario": scenario[error]}
            return await mock.post("/structure", json={"sourceFileUrl": NOWHERE}, headers=headers)
        case _:
            headers = {**KEY, "X-Mock-Scenario": scenario[error]}
            route = "/resize" if error.value.startswith("resize") else "/analyze"
            return await mock.post(route, json=TINY_RESIZE, headers=headers)


@flips(*(f"errors.{name}.status" for name in ErrorName))
@pytest.mark.parametrize("error", list(ErrorName))
async def test_each_error_answers_with_the_profiles_status(
    make_mock: MakeMock, error: ErrorName
) -> None:
    default = await make_mock(time_scale=TIMED_OUT_AT_ONCE)
    flipped = await make_mock(time_scale=TIMED_OUT_AT_ONCE, profile={f"errors.{error}.status": 418})
    before, after = await _answer(default, error), await _answer(flipped, error)
    assert before.status == profile.Profile().error(error).status
    assert after.status == 418
    assert (await after.json())["success"] is False


@flips(*(f"errors.{name}.headers" for name in OPTIONAL_HEADERS))
@pytest.mark.parametrize("error", list(OPTIONAL_HEADERS))
async def test_optional_headers_are_sent_only_when_the_profile_says(
    make_mock: MakeMock, error: ErrorName
) -> None:
    (header,) = OPTIONAL_HEADERS[error]
    default = await make_mock()
    flipped = await make_mock(profile={f"errors.{error}.headers": []})
    assert header in (await _answer(default, error)).headers
    assert header not in (await _answer(flipped, error)).headers


@flips("messages.detail")
async def test_the_detail_goes_in_the_message_when_the_profile_says(make_mock: MakeMock) -> None:
    default = await make_mock()
    flipped = await make_mock(profile={"messages.detail": "message"})
    before = await (await _answer(default, ErrorName.MISSING_PARAMETER)).json()
    after = await (await _answer(flipped, ErrorName.MISSING_PARAMETER)).json()
    assert before["message"] == "Missing parameter"
    assert after["message"] == "Missing parameter: resultWebhook"


# --- credits -------------------------------------------------------------------------------------

THIRTY_SECONDS = {**TINY_RESIZE, "targetLengthSeconds": 30, "boundaries": [0, 40]}


async def _credit_cost(mock: AppClient, body: dict[str, Any], key: str = "test-key") -> Any:
    async with mock.post("/resize", json=body, headers={"X-API-Key": key}) as response:
        return (await response.json()).get("creditCost", response.status)


@flips("pricing")
async def test_the_pricing_rule_sets_the_credit_cost(make_mock: MakeMock) -> None:
    default = await make_mock()
    flipped = await make_mock(profile={"pricing": "documented"})
    assert await _credit_cost(default, THIRTY_SECONDS) == 2  # 4 x 0.5 minutes
    assert await _credit_cost(flipped, THIRTY_SECONDS) == 4  # 4 x 1 minute, rounded up


async def _nearly_spent(make_mock: MakeMock, **profile_values: Any) -> AppClient:
    """A mock with a free key (100 credits) of which 99 are spent."""
    mock = await make_mock(profile=profile_values)
    await mock.post("/_mock/keys", json={"key": "free-key", "plan": "free"})
    for seconds in (1470, 15):  # 98 credits, then 1
        body = {**THIRTY_SECONDS, "targetLengthSeconds": seconds, "boundaries": [0, 2000]}
        assert await _credit_cost(mock, body, "free-key") in (98, 1)
    return mock


@flips("usage.refuse")
async def test_the_usage_rule_decides_whether_a_request_may_pass_the_limit(
    make_mock: MakeMock,
) -> None:
    default = await _nearly_spent(make_mock)
    flipped = await _nearly_spent(make_mock, **{"usage.refuse": "exceeded"})
    assert await _credit_cost(default, THIRTY_SECONDS, "free-key") == 2  # 1 left: may pass
    assert await _credit_cost(flipped, THIRTY_SECONDS, "free-key") == 402


@flips("usage.partialExport")
async def test_a_partial_export_costs_what_the_profile_says(
    make_mock: MakeMock, files: FileServer, receiver: Receiver
) -> None:
    body = {
        "resultWebhook": receiver.url(),
        "sourceFileUrl": files.url("/song.mp3"),
        "exportFormat": "wav",
        "segmentsGroups": [[[0, 5]], [[0, 19]] * 5],  # 5 s made; 100 s more asked for
    }
    headers = {**KEY, "X-Mock-Scenario": "partial_export_failure;group=2"}
    costs: list[int] = []
    for values in ({}, {"usage.partialExport": "requested"}):
        mock = await make_mock(profile=values)
        async with mock.post("/export", json=body, headers=headers) as response:
            assert response.status == 200, await response.text()
        payloads = await receiver.wait_for(len(costs) + 1)
        costs.append(payloads[-1]["creditCost"])
    assert costs == [1, 2]  # round(5 s / 60) at least 1; round(100 s / 60)


# --- resize ------------------------------------------------------------------------------------


@flips("resize.order")
async def test_the_candidates_come_in_the_profiles_order(make_mock: MakeMock) -> None:
    body = varied_resize()
    results = []
    for order in ("blended_score", "dissimilarity"):
        mock = await make_mock(profile={"resize.order": order})
        async with mock.post("/resize", json=body, headers=KEY) as response:
            results.append((await response.json())["result"])
    by_score, by_dissimilarity = results
    assert by_score == sorted(by_score, key=lambda c: -c["blendedScore"])
    assert by_dissimilarity == sorted(by_dissimilarity, key=lambda c: c["dissimilarity"])
    assert by_score != by_dissimilarity
    assert sorted(map(json.dumps, by_score)) == sorted(map(json.dumps, by_dissimilarity))


@flips("contractEdges")
async def test_the_profile_can_turn_the_contract_edges_on_for_every_request(
    make_mock: MakeMock,
) -> None:
    counts = []
    for edges in (False, True):
        mock = await make_mock(profile={"contractEdges": edges})
        async with mock.post("/resize", json=varied_resize(), headers=KEY) as response:
            counts.append(len((await response.json())["result"]))
    assert counts == [20, 7]  # the scenario's default: the best seven, turned


# --- webhooks --------------------------------------------------------------------------------


async def _refused_attempts(mock: AppClient, receiver: Receiver) -> int:
    """Queue a resize whose receiver refuses it; the attempts made once delivery settles."""
    receiver.fail_first = 1_000
    body = {**TINY_RESIZE, "resultWebhook": receiver.url()}
    async with mock.post("/resize", json=body, headers=KEY) as response:
        assert response.status == 200
    dispatcher = mock.app[SERVICES].webhooks

    async def settled() -> bool:
        return bool(dispatcher.attempts()) and dispatcher.pending() == 0

    await wait_until(settled)
    return len(dispatcher.attempts())


@flips("webhooks.attempts")
async def test_a_refused_webhook_is_tried_as_often_as_the_profile_says(
    make_mock: MakeMock, receiver: Receiver
) -> None:
    default = await make_mock()
    flipped = await make_mock(profile={"webhooks.attempts": 1})
    assert await _refused_attempts(default, receiver) == 3
    assert await _refused_attempts(flipped, receiver) == 1


@flips("webhooks.backoffSeconds")
async def test_a_retry_waits_the_profiles_backoff_in_mock_time(
    make_mock: MakeMock, receiver: Receiver
) -> None:
    default = await make_mock()
    assert await _refused_attempts(default, receiver) == 3  # 0.05 s apart: no clock needed
    hour = await make_mock(profile={"webhooks.backoffSeconds": [3600]})
    body = {**TINY_RESIZE, "resultWebhook": receiver.url()}
    await hour.post("/resize", json=body, headers=KEY)
    dispatcher = hour.app[SERVICES].webhooks

    async def tried(times: int) -> bool:
        return len(dispatcher.attempts()) >= times

    await wait_until(lambda: tried(1))
    await hour.post("/_mock/clock/advance", json={"seconds": 3600})
    await wait_until(lambda: tried(2))
    first, second = dispatcher.attempts()[:2]
    assert second.at - first.at >= 3600


@flips("webhooks.timeoutSeconds")
async def test_a_receiver_slower_than_the_timeout_fails_the_attempt(
    make_mock: MakeMock, receiver: Receiver
) -> None:
    receiver.delay_seconds = 1.0
    results = []
    for timeout in (30.0, 0.2):
        mock = await make_mock(profile={"webhooks.timeoutSeconds": timeout})
        body = {**TINY_RESIZE, "resultWebhook": receiver.url()}
        await mock.post("/resize", json=body, headers=KEY)
        dispatcher = mock.app[SERVICES].webhooks

        async def tried() -> bool:
            return bool(dispatcher.attempts())  # noqa: B023 (awaited within this iteration)

        await wait_until(tried)
        results.append(dispatcher.attempts()[0])
    assert results[0].delivered is True
    assert results[1].delivered is False and "Timeout" in str(results[1].error)


@flips("webhooks.onTimeout")
async def test_a_timed_out_job_is_notified_only_when_the_profile_says(
    make_mock: MakeMock, receiver: Receiver
) -> None:
    sent = []
    for notify in (True, False):
        mock = await make_mock(time_scale=TIMED_OUT_AT_ONCE, profile={"webhooks.onTimeout": notify})
        services = mock.app[SERVICES]
        body = {**TINY_RESIZE, "resultWebhook": receiver.url()}
        headers = {**KEY, "X-Mock-Scenario": "slow;seconds=500"}
        async with mock.post("/resize", json=body, headers=headers) as response:
            request_id = (await response.json())["requestId"]

        async def over() -> bool:
            job = services.jobs.jobs[request_id]  # noqa: B023 (awaited within this iteration)
            return job.state is JobState.FAILED and services.webhooks.pending() == 0  # noqa: B023

        await wait_until(over)
        sent.append([a.payload["success"] for a in services.webhooks.attempts()])
    assert sent == [[False], []]


# --- structure ----------------------------------------------------------------------------------


@flips("structure.calls")
async def test_the_profile_can_make_structure_synchronous_only(
    make_mock: MakeMock, files: FileServer, receiver: Receiver
) -> None:
    mock = await make_mock(profile={"structure.calls": "synchronous"})
    body = {"sourceFileUrl": files.url("/song.mp3"), "resultWebhook": receiver.url()}
    status, answer = await post(mock, "/structure", body)
    assert status == 400 and "resultWebhook is not a parameter" in answer["message"]


@flips("structure.calls")
async def test_the_profile_can_make_structure_queued_only(
    make_mock: MakeMock, files: FileServer
) -> None:
    mock = await make_mock(profile={"structure.calls": "queued"})
    status, answer = await post(mock, "/structure", {"sourceFileUrl": files.url("/song.mp3")})
    assert status == 400 and answer["message"] == "Missing parameter"


@flips("structure.creditsPerMinute")
async def test_the_structure_price_is_the_profiles(make_mock: MakeMock, files: FileServer) -> None:
    mock = await make_mock(profile={"structure.creditsPerMinute": 0})
    status, answer = await post(mock, "/structure", {"sourceFileUrl": files.url("/song.mp3")})
    assert status == 200 and answer["creditCost"] == 0
