"""Fault scenarios over real sockets: each one chosen by header, armed, or set for the run, and
what a client sees — the forced errors, the broken exchanges, the bent jobs and webhooks."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mock_server.contract.profile import Profile
from mock_server.faults.arming import Arming
from mock_server.faults.catalogue import CATALOGUE, Fault
from mock_server.faults.scenario import Scenario
from mock_server.web.errors import DETAIL_HEADER
from tests.conftest import AppClient, FileServer, MakeMock, Receiver
from tests.contract_checks import check_payload
from tests.support import KEY, TINY_RESIZE, explained


def with_scenario(text: str) -> dict[str, str]:
    return {**KEY, "X-Mock-Scenario": text}


async def send(
    mock: AppClient, path: str, body: Any, headers: dict[str, str] = KEY
) -> tuple[int, str, bytes, dict[str, str]]:
    async with mock.post(path, json=body, headers=headers) as response:
        return response.status, response.content_type, await response.read(), dict(response.headers)


async def refused(mock: AppClient, path: str, body: Any, scenario: str) -> tuple[int, str, str]:
    """Status, message and Retry-After of a request refused by `scenario`."""
    status, content_type, raw, headers = await send(mock, path, body, with_scenario(scenario))
    assert content_type == "application/json"
    document = json.loads(raw)
    check_payload(document)
    assert document["success"] is False
    message = explained(document["message"], headers.get(DETAIL_HEADER))
    return status, message, headers.get("Retry-After", "")


async def queued(
    mock: AppClient, path: str, body: dict[str, Any], headers: dict[str, str] = KEY
) -> dict[str, Any]:
    status, _, raw, _ = await send(mock, path, body, headers)
    ack: dict[str, Any] = json.loads(raw)
    assert status == 200 and ack["success"] is True, ack
    return ack


async def journal(mock: AppClient) -> list[dict[str, Any]]:
    async with mock.get("/_mock/requests") as response:
        entries: list[dict[str, Any]] = await response.json()
    return entries


async def nothing_arrives(receiver: Receiver, seconds: float = 0.4) -> None:
    await asyncio.sleep(seconds)
    assert receiver.received == []


async def result_ready(mock: AppClient, ack: dict[str, Any]) -> None:
    """Wait until the job behind `ack` has finished its work (its result is served)."""
    async with asyncio.timeout(30):
        while (await mock.session.get(ack["resultUrl"])).status != 200:
            await asyncio.sleep(0.02)


async def advance(mock: AppClient, seconds: float) -> None:
    async with mock.post("/_mock/clock/advance", json={"seconds": seconds}) as response:
        assert response.status == 200


def hooked(receiver: Receiver) -> dict[str, Any]:
    return {**TINY_RESIZE, "resultWebhook": receiver.url()}


def export_body(files: FileServer, receiver: Receiver) -> dict[str, Any]:
    return {
        "resultWebhook": receiver.url(),
        "sourceFileUrl": files.url("/song.mp3"),
        "exportFormat": "wav",
        "segmentsGroups": [[[0, 2]], [[4, 6]]],
    }


# --- the catalogue and how scenarios are chosen ---------------------------------------------------


async def test_the_catalogue_says_the_statuses_of_the_running_profile(
    make_mock: MakeMock,
) -> None:
    profile = {"errors.invalid_key.status": 401, "errors.resize_timed_out.status": 408}
    mock = await make_mock(profile=profile)
    async with mock.get("/_mock/scenarios") as response:
        listing = await response.json()
    does = {entry["name"]: entry["does"] for entry in listing["catalogue"]}
    assert does["invalid_key"] == "401 Invalid API Key"
    assert "a synchronous resize answers 408 after" in does["never_completes"]
    assert does["missing_key"] == "401 Missing API key header"  # the default, unchanged


async def test_the_catalogue_lists_every_scenario_with_advice(mock: AppClient) -> None:
    async with mock.get("/_mock/scenarios") as response:
        listing = await response.json()
    names = [entry["name"] for entry in listing["catalogue"]]
    assert names == [fault.value for fault in Fault]
    assert all(
        entry["advice"] and entry["does"] and entry["routes"] for entry in listing["catalogue"]
    )
    assert listing["armed"] == []


@pytest.mark.parametrize(
    ("scenario", "path", "status", "message"),
    [
        ("invalid_method", "/analyze", 405, "Invalid request method"),
        ("missing_key", "/export", 401, "Missing API key header"),
        ("invalid_key", "/resize", 403, "Invalid API Key"),
        ("missing_parameter", "/analyze", 400, "Missing parameter: sourceFileUrl"),
        ("missing_parameter", "/resize", 400, "Missing parameter: similarity"),
        ("missing_parameter;name=exportFormat", "/export", 400, "Missing parameter: exportFormat"),
        ("rate_limited", "/resize", 429, "Rate limit exceeded"),
        ("usage_exceeded", "/resize", 402, "Usage limit exceeded"),
    ],
)
async def test_each_documented_error_on_demand(
    mock: AppClient, scenario: str, path: str, status: int, message: str
) -> None:
    got_status, got_message, retry_after = await refused(mock, path, TINY_RESIZE, scenario)
    assert got_status == status and got_message.startswith(message), got_message
    assert "audjust-mock scenario" in got_message
    assert retry_after == ("60" if status == 429 else "")
    (entry,) = await journal(mock)
    assert entry["status"] == status and entry["scenarios"][0].startswith(scenario.split(";")[0])


async def test_a_forced_rate_limit_takes_its_retry_after_and_spends_no_quota(
    make_mock: MakeMock,
) -> None:
    mock = await make_mock(rate_limit=1)
    _, _, retry_after = await refused(mock, "/resize", TINY_RESIZE, "rate_limited;retry_after=7")
    assert retry_after == "7"
    status, _, _, _ = await send(mock, "/resize", TINY_RESIZE)
    assert status == 200  # the forced 429 did not count against the real limit of one


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("no_such_thing", "unknown scenario 'no_such_thing'"),
        ("slow;minutes=3", "takes seconds, not 'minutes'"),
        ("slow;seconds=soon", "must be a number"),
        ("slow;seconds", "param=value"),
        ("partial_export_failure", "applies to /export, not /resize"),
        # What contract_edges makes: tests/contract/test_contract_edges.py; here, what it refuses.
        ("contract_edges;beat=triple", "must be one of half, double, same"),
        ("contract_edges;similarity_max=64", "must be a number from 80 to 126"),
    ],
)
async def test_a_bad_scenario_header_is_a_400_naming_it(
    mock: AppClient, header: str, fragment: str
) -> None:
    status, message, _ = await refused(mock, "/resize", TINY_RESIZE, header)
    assert status == 400 and message.startswith("Invalid parameter: X-Mock-Scenario header")
    assert fragment in message


async def test_armed_scenarios_hit_only_the_next_n_requests_of_their_route_and_key(
    mock: AppClient,
) -> None:
    arm = {"name": "server_error", "count": 2, "route": "/resize", "key": "test-key"}
    async with mock.post("/_mock/scenarios", json=arm) as response:
        armed = (await response.json())["armed"]
    assert armed["remaining"] == 2 and armed["scenario"] == "server_error;processed=0"
    statuses = [(await send(mock, "/resize", TINY_RESIZE))[0] for _ in range(3)]
    assert statuses == [500, 500, 200]
    async with mock.get("/_mock/scenarios") as response:
        assert (await response.json())["armed"] == []


async def test_an_armed_scenario_waits_for_a_route_it_applies_to(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    async with mock.post("/_mock/scenarios", json={"name": "partial_export_failure"}):
        pass
    assert (await send(mock, "/resize", TINY_RESIZE))[0] == 200
    ack = await queued(mock, "/export", export_body(files, receiver))
    (payload,) = await receiver.wait_for(1)
    assert list(payload["failures"]) == [ack["resultUrls"][1]]


async def test_arming_for_another_key_leaves_this_one_alone(mock: AppClient) -> None:
    arm = {"name": "invalid_key", "count": None, "key": "someone-else"}
    async with mock.post("/_mock/scenarios", json=arm) as response:
        assert response.status == 200
    assert (await send(mock, "/resize", TINY_RESIZE))[0] == 200
    async with mock.delete("/_mock/scenarios") as response:
        assert response.status == 200
    async with mock.get("/_mock/scenarios") as response:
        assert (await response.json())["armed"] == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"name": "slow", "count": 0}, "count must be at least 1"),
        ({"name": "slow", "route": "/elsewhere"}, "route must be one of"),
        ({"name": "bad_gateway", "params": {"processed": "x"}}, "must be a number"),
        ({"name": "source_download_fails", "route": "/resize"}, "not /resize"),
        ({"count": 2}, '"name"'),
        ({"scenario": "slow"}, "scenario is not a parameter of /_mock/scenarios"),
        ({"name": "slow", "rout": "/resize"}, "did you mean route?"),
    ],
)
async def test_arming_nonsense_is_a_400(
    mock: AppClient, body: dict[str, Any], fragment: str
) -> None:
    async with mock.post("/_mock/scenarios", json=body) as response:
        document = await response.json()
    assert response.status == 400 and fragment in document["message"], document


async def test_run_wide_scenarios_apply_to_every_request_and_survive_reset(
    make_mock: MakeMock,
) -> None:
    arming = Arming(Scenario.parse("usage_exceeded"), count=None, route="/export")
    mock = await make_mock(scenarios=(arming,))
    async with mock.post("/_mock/reset"):
        pass
    for _ in range(2):
        status, _, _, _ = await send(mock, "/export", {})
        assert status == 402
    assert (await send(mock, "/resize", TINY_RESIZE))[0] == 200


# --- transport faults -----------------------------------------------------------------------------


async def test_server_error_and_bad_gateway_queue_nothing(
    mock: AppClient, receiver: Receiver
) -> None:
    status, content_type, raw, _ = await send(
        mock, "/resize", hooked(receiver), with_scenario("server_error")
    )
    assert (status, content_type) == (500, "application/json")
    assert json.loads(raw)["success"] is False
    status, content_type, raw, _ = await send(
        mock, "/resize", hooked(receiver), with_scenario("bad_gateway")
    )
    assert (status, content_type) == (502, "text/html")
    assert raw.startswith(b"<html>") and b"502 Bad Gateway" in raw
    await nothing_arrives(receiver)


async def test_processed_then_lost_answers_still_run_the_job(
    mock: AppClient, receiver: Receiver
) -> None:
    status, _, _, _ = await send(
        mock, "/resize", hooked(receiver), with_scenario("bad_gateway;processed=1")
    )
    assert status == 502
    (payload,) = await receiver.wait_for(1)
    assert payload["success"] is True


async def test_connection_reset_gives_no_answer_and_the_journal_says_so(
    mock: AppClient, receiver: Receiver
) -> None:
    with pytest.raises(aiohttp.ClientConnectionError):
        await send(mock, "/resize", hooked(receiver), with_scenario("connection_reset"))
    (entry,) = await journal(mock)
    assert entry["status"] is None and entry["scenarios"] == ["connection_reset;processed=0"]
    await nothing_arrives(receiver)


async def test_malformed_json_is_a_200_that_does_not_parse_but_the_job_runs(
    mock: AppClient, receiver: Receiver
) -> None:
    status, content_type, raw, _ = await send(
        mock, "/resize", hooked(receiver), with_scenario("malformed_json")
    )
    assert (status, content_type) == (200, "application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    (payload,) = await receiver.wait_for(1)
    assert payload["requestId"].startswith(raw.split(b'"requestId": "')[1][:8].decode())


async def test_latency_delays_the_answer(mock: AppClient) -> None:
    started = time.monotonic()
    status, _, _, _ = await send(mock, "/resize", TINY_RESIZE, with_scenario("latency;seconds=0.3"))
    assert status == 200 and time.monotonic() - started >= 0.3


async def test_a_late_answer_from_before_a_reset_stays_out_of_the_journal(mock: AppClient) -> None:
    async with mock.post("/_mock/scenarios", json={"name": "latency", "params": {"seconds": 0.5}}):
        pass
    late = asyncio.ensure_future(send(mock, "/resize", TINY_RESIZE))
    async with asyncio.timeout(30):  # the request has begun once it has taken the scenario
        while (await (await mock.get("/_mock/scenarios")).json())["armed"]:
            await asyncio.sleep(0.01)
    async with mock.post("/_mock/reset"):
        pass
    assert (await late)[0] == 200
    assert await journal(mock) == []


async def test_result_downloads_can_fail_too(mock: AppClient, receiver: Receiver) -> None:
    ack = await queued(mock, "/resize", hooked(receiver))
    await receiver.wait_for(1)
    async with mock.session.get(
        ack["resultUrl"], headers={"X-Mock-Scenario": "bad_gateway"}
    ) as response:
        assert response.status == 502
    async with mock.session.get(ack["resultUrl"]) as response:
        assert response.status == 200


# --- job faults ---------------------------------------------------------------------------------


async def test_slow_jobs_finish_when_mock_time_has_passed(
    mock: AppClient, receiver: Receiver
) -> None:
    await queued(mock, "/resize", hooked(receiver), with_scenario("slow;seconds=120"))
    await nothing_arrives(receiver)
    await advance(mock, 120)
    (payload,) = await receiver.wait_for(1)
    assert payload["success"] is True


async def test_a_job_slower_than_seven_minutes_times_out(
    mock: AppClient, receiver: Receiver
) -> None:
    await queued(mock, "/resize", hooked(receiver), with_scenario("slow;seconds=600"))
    await advance(mock, 420)
    (failure,) = await receiver.wait_for(1)
    assert failure["success"] is False and "timed out after 420 seconds" in failure["message"]


async def test_never_completes_never_calls_back(mock: AppClient, receiver: Receiver) -> None:
    ack = await queued(mock, "/resize", hooked(receiver), with_scenario("never_completes"))
    await advance(mock, 3600)
    await nothing_arrives(receiver, 0.6)
    async with mock.session.get(ack["resultUrl"]) as response:
        assert response.status == 404
    async with mock.get("/_mock/webhooks") as response:
        assert await response.json() == []


async def test_a_synchronous_resize_that_never_completes_answers_504_at_the_job_limit(
    mock: AppClient,
) -> None:
    answer = asyncio.ensure_future(
        send(mock, "/resize", TINY_RESIZE, with_scenario("never_completes"))
    )
    await asyncio.wait([answer], timeout=0.2)
    assert not answer.done()
    async with asyncio.timeout(30):
        while not answer.done():  # advancing before the job's wait began would not end it
            await advance(mock, 420)
            await asyncio.wait([answer], timeout=0.05)
    status, _, raw, _ = await answer
    failure = json.loads(raw)
    check_payload(failure)
    assert status == 504 and failure["creditCost"] == 0 and "timed out" in failure["message"]


async def test_source_download_fails_without_touching_the_source(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    body = {"resultWebhook": receiver.url(), "sourceFileUrl": files.url("/song.mp3")}
    ack = await queued(mock, "/analyze", body, with_scenario("source_download_fails;status=403"))
    (failure,) = await receiver.wait_for(1)
    assert failure == {
        "path": "/hook",
        "requestId": ack["requestId"],
        "success": False,
        "message": failure["message"],
        "sourceFileUrl": files.url("/song.mp3"),
        "creditCost": 0,
    }
    assert "HTTP 403" in failure["message"] and files.downloads == {}


async def test_internal_failure_by_webhook_and_synchronously(
    mock: AppClient, receiver: Receiver
) -> None:
    await queued(mock, "/resize", hooked(receiver), with_scenario("internal_failure"))
    (failure,) = await receiver.wait_for(1)
    assert failure["success"] is False and failure["message"].startswith("Internal error")
    status, _, raw, _ = await send(mock, "/resize", TINY_RESIZE, with_scenario("internal_failure"))
    assert status == 500 and json.loads(raw)["success"] is False


async def test_partial_export_failure_fails_one_group_and_charges_for_the_rest(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    headers = with_scenario("partial_export_failure;group=1")
    ack = await queued(mock, "/export", export_body(files, receiver), headers)
    (payload,) = await receiver.wait_for(1)
    first, second = ack["resultUrls"]
    assert payload["success"] is True and list(payload["failures"]) == [first]
    assert "export_1.wav" in payload["failures"][first]
    async with mock.session.get(first) as response:
        assert response.status == 404
    async with mock.session.get(second) as response:
        assert response.status == 200 and len(await response.read()) > 44


async def test_partial_export_failure_on_a_one_group_export_fails_it_whole(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    """The catalogue says so: its one group is every group, which fails the job."""
    body = {**export_body(files, receiver), "segmentsGroups": [[[0, 2]]]}
    await queued(mock, "/export", body, with_scenario("partial_export_failure"))
    (payload,) = await receiver.wait_for(1)
    assert payload["success"] is False and "Every export group failed" in payload["message"]


async def test_expired_artifacts_are_gone_when_the_webhook_arrives(
    mock: AppClient, receiver: Receiver
) -> None:
    ack = await queued(mock, "/resize", hooked(receiver), with_scenario("expired_artifact"))
    (payload,) = await receiver.wait_for(1)
    assert payload["success"] is True
    async with mock.session.get(ack["resultUrl"]) as response:
        assert response.status == 404


# --- delivery faults ----------------------------------------------------------------------------


async def test_duplicate_webhooks(mock: AppClient, receiver: Receiver) -> None:
    await queued(mock, "/resize", hooked(receiver), with_scenario("webhook_duplicate;times=3"))
    payloads = await receiver.wait_for(3)
    assert len({json.dumps(p, sort_keys=True) for p in payloads}) == 1


async def test_delayed_webhooks_wait_for_mock_time(mock: AppClient, receiver: Receiver) -> None:
    ack = await queued(
        mock, "/resize", hooked(receiver), with_scenario("webhook_delayed;seconds=90")
    )
    # The result is ready; only its webhook is late. Its delay began as the job ended, and
    # advancing the clock before that would not shorten it.
    await result_ready(mock, ack)
    await nothing_arrives(receiver)
    await advance(mock, 90)
    (payload,) = await receiver.wait_for(1)
    assert payload["requestId"] == ack["requestId"]


HELD = "webhook_out_of_order;seconds=3600"  # long enough that only a later webhook releases it


async def test_a_held_webhook_follows_a_later_request_that_finished_first(
    mock: AppClient, receiver: Receiver
) -> None:
    held = await queued(
        mock, "/resize", hooked(receiver), with_scenario(f"slow;seconds=60, {HELD}")
    )
    later = await queued(mock, "/resize", hooked(receiver))
    (first_in,) = await receiver.wait_for(1)
    assert first_in["requestId"] == later["requestId"]
    await advance(mock, 60)  # the held job now ends after the later webhook already went out
    payloads = await receiver.wait_for(2)
    assert [p["requestId"] for p in payloads] == [later["requestId"], held["requestId"]]


async def test_a_held_webhook_waits_for_a_later_request_that_finishes_last(
    mock: AppClient, receiver: Receiver
) -> None:
    held = await queued(mock, "/resize", hooked(receiver), with_scenario(HELD))
    await result_ready(mock, held)
    later = await queued(mock, "/resize", hooked(receiver), with_scenario("slow;seconds=60"))
    await nothing_arrives(receiver)
    await advance(mock, 60)
    payloads = await receiver.wait_for(2)
    assert [p["requestId"] for p in payloads] == [later["requestId"], held["requestId"]]


async def test_a_webhook_for_an_earlier_request_does_not_release_a_held_one(
    mock: AppClient, receiver: Receiver
) -> None:
    earlier = await queued(mock, "/resize", hooked(receiver), with_scenario("slow;seconds=60"))
    held = await queued(mock, "/resize", hooked(receiver), with_scenario(HELD))
    await result_ready(mock, held)
    await advance(mock, 60)
    (first_in,) = await receiver.wait_for(1)
    assert first_in["requestId"] == earlier["requestId"]
    later = await queued(mock, "/resize", hooked(receiver))
    payloads = await receiver.wait_for(3)
    order = [p["requestId"] for p in payloads]
    assert order == [earlier["requestId"], later["requestId"], held["requestId"]]


async def test_out_of_order_webhooks_go_out_anyway_when_nothing_follows(
    mock: AppClient, receiver: Receiver
) -> None:
    ack = await queued(
        mock, "/resize", hooked(receiver), with_scenario("webhook_out_of_order;seconds=45")
    )
    await result_ready(mock, ack)  # the hold begins as the job ends, not at the ack
    await nothing_arrives(receiver)
    await advance(mock, 45)
    await receiver.wait_for(1)


async def test_dropped_webhooks_are_recorded_and_the_result_is_still_there(
    mock: AppClient, receiver: Receiver
) -> None:
    ack = await queued(mock, "/resize", hooked(receiver), with_scenario("webhook_dropped"))
    await result_ready(mock, ack)
    await nothing_arrives(receiver)
    async with mock.get("/_mock/webhooks") as response:
        (attempt,) = await response.json()
    assert attempt["delivered"] is False and "webhook_dropped" in attempt["error"]


async def test_scenarios_combine_in_one_header(mock: AppClient, receiver: Receiver) -> None:
    header = "slow;seconds=30, webhook_duplicate"
    await queued(mock, "/resize", hooked(receiver), with_scenario(header))
    await advance(mock, 30)
    assert len(await receiver.wait_for(2)) == 2
    (entry,) = await journal(mock)
    assert entry["scenarios"] == ["slow;seconds=30", "webhook_duplicate;times=2"]


def test_every_scenario_in_the_catalogue_is_exercised_here() -> None:
    source = Path(__file__).read_text()
    assert [fault.value for fault in CATALOGUE if f'"{fault.value}' not in source] == []


def test_the_documented_catalogue_matches_the_code() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "faults.md").read_text()
    for spec in CATALOGUE.values():
        row = next(
            (line for line in readme.splitlines() if line.startswith(f"| `{spec.fault}`")), ""
        )
        assert spec.described(Profile()) in row and spec.advice in row, spec.fault
