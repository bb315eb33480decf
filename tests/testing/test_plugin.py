"""The pytest plugin, as a client project sees it: a test file in a fresh pytest run, with the
plugin found through its entry point and synchronous HTTP from the standard library."""

from __future__ import annotations

import re

import pytest

from tests.support import ROOT

CLIENT_TESTS = """
import json
import time
import urllib.error
import urllib.request

import pytest


def post(mock, route, body, key=None):
    request = urllib.request.Request(
        f"{mock.base_url}/{route}",
        data=json.dumps(body).encode(),
        headers={"X-API-Key": key or mock.api_key, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_analyze_a_bundled_song_and_receive_the_webhook(audjust_mock):
    status, ack = post(audjust_mock, "analyze", {
        "sourceFileUrl": audjust_mock.fixture_url("pop_120"),
        "resultWebhook": audjust_mock.webhook_url(),
    })
    assert status == 200, ack
    payload = audjust_mock.wait_for_webhook(ack["requestId"], timeout=60)
    assert payload["success"] is True
    assert 118 <= payload["result"]["tempo"] <= 122
    assert [e.status for e in audjust_mock.requests.to("/analyze")] == [200]


def test_production_urls_are_synthesized_offline(audjust_mock):
    from mock_server.audio.synth import spec_from_seed

    url = "https://audjust.com/sample.mp3"
    status, ack = post(audjust_mock, "analyze", {
        "sourceFileUrl": url, "resultWebhook": audjust_mock.webhook_url(),
    })
    payload = audjust_mock.wait_for_webhook(ack["requestId"], timeout=60)
    assert payload["success"] is True, payload
    assert payload["result"]["duration"] == round(spec_from_seed(url).duration_seconds, 2)


@pytest.mark.audjust(sources="synthesize")
def test_a_marker_chooses_where_sources_come_from(audjust_mock):
    from mock_server.audio.synth import spec_from_seed

    url = audjust_mock.fixture_url("pop_120")
    status, ack = post(audjust_mock, "analyze", {
        "sourceFileUrl": url, "resultWebhook": audjust_mock.webhook_url(),
    })
    payload = audjust_mock.wait_for_webhook(ack["requestId"], timeout=60)
    assert payload["result"]["duration"] == round(spec_from_seed(url).duration_seconds, 2)


def test_sources_are_fetched_from_loopback_again_in_the_next_test(audjust_mock):
    status, ack = post(audjust_mock, "analyze", {
        "sourceFileUrl": audjust_mock.fixture_url("pop_120"),
        "resultWebhook": audjust_mock.webhook_url(),
    })
    payload = audjust_mock.wait_for_webhook(ack["requestId"], timeout=60)
    assert abs(payload["result"]["duration"] - 12) < 0.5, payload["result"]["duration"]


def test_state_is_reset_before_each_test(audjust_mock):
    assert audjust_mock.requests == []
    assert audjust_mock.webhooks() == []


@pytest.mark.audjust(keys={"free-key": "free"})
def test_a_marker_adds_keys_on_plans(audjust_mock):
    resize = {
        "targetLengthSeconds": 30 * 60,
        "similarity": {"data": "~" * 3, "min": 32, "max": 126},
        "boundaries": [0.0, 0.5],
    }
    status, body = post(audjust_mock, "resize", resize, key="free-key")
    assert status == 200 and body["creditCost"] == 120, body
    status, body = post(audjust_mock, "resize", resize, key="free-key")
    assert status == 402 and body["message"].startswith("Usage limit exceeded"), body


def test_keys_from_a_marker_do_not_outlive_their_test(audjust_mock):
    status, body = post(audjust_mock, "resize", {}, key="free-key")
    assert status == 403, body


def test_add_key_and_the_clock(audjust_mock):
    audjust_mock.add_key("starter-key", "starter")
    before = audjust_mock.clock.now()
    audjust_mock.clock.advance(3600)
    assert audjust_mock.clock.now() - before >= 3600
    status, body = post(audjust_mock, "resize", {}, key="starter-key")
    assert status == 400 and body["message"] == "Missing parameter", body


def test_scenario_arms_a_fault_for_the_next_request(audjust_mock):
    audjust_mock.scenario("rate_limited", retry_after=5)
    status, body = post(audjust_mock, "resize", {})
    assert status == 429 and body["message"].startswith("Rate limit exceeded"), body
    status, body = post(audjust_mock, "resize", {})
    assert status == 400, body  # the scenario was spent; back to the real answer
    assert [e.scenarios for e in audjust_mock.requests] == [("rate_limited;retry_after=5",), ()]


@pytest.mark.audjust(scenarios=["webhook_duplicate;times=2"])
def test_a_marker_sets_scenarios_for_the_whole_test(audjust_mock):
    body = {
        "targetLengthSeconds": 1,
        "similarity": {"data": "~" * 3, "min": 32, "max": 126},
        "boundaries": [0.0, 0.5],
        "resultWebhook": audjust_mock.webhook_url("dup"),
    }
    for _ in range(2):
        status, ack = post(audjust_mock, "resize", body)
        assert status == 200, ack
    deadline = time.monotonic() + 30
    while len(audjust_mock.webhooks("dup")) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(audjust_mock.webhooks("dup")) == 4


def test_a_webhook_is_found_by_request_id_in_whichever_sink_it_reached(audjust_mock):
    audjust_mock.scenario("webhook_duplicate", times=2)
    status, ack = post(audjust_mock, "resize", {
        "targetLengthSeconds": 1,
        "similarity": {"data": "~" * 3, "min": 32, "max": 126},
        "boundaries": [0.0, 0.5],
        "resultWebhook": audjust_mock.webhook_url("resizes"),
    })
    assert status == 200, ack
    payload = audjust_mock.wait_for_webhook(ack["requestId"], timeout=60)
    assert payload["requestId"] == ack["requestId"] and payload["success"] is True
    deadline = time.monotonic() + 60
    while len(audjust_mock.webhooks_for(ack["requestId"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert audjust_mock.webhooks_for(ack["requestId"]) == [payload, payload]
    assert audjust_mock.webhooks_for(ack["requestId"], sink="default") == []
    with pytest.raises(TimeoutError, match=r"reached sink 'default' in 0.1 s; .*'resizes': "):
        audjust_mock.wait_for_webhook(ack["requestId"], timeout=0.1, sink="default")


def test_a_webhook_is_sent_again_on_demand(audjust_mock):
    status, ack = post(audjust_mock, "resize", {
        "targetLengthSeconds": 1,
        "similarity": {"data": "~" * 3, "min": 32, "max": 126},
        "boundaries": [0.0, 0.5],
        "resultWebhook": audjust_mock.webhook_url(),
    })
    first = audjust_mock.wait_for_webhook(ack["requestId"], timeout=60)
    again = audjust_mock.webhook_url("again")
    assert audjust_mock.resend_webhook(ack["requestId"], to=again) == again
    assert audjust_mock.wait_for_webhook(ack["requestId"], timeout=60, sink="again") == first
    with pytest.raises(LookupError, match="no webhook was recorded"):
        audjust_mock.resend_webhook("no-such-request")


def test_waiting_for_a_request_that_sent_nothing_says_what_did_arrive(audjust_mock):
    with pytest.raises(TimeoutError, match="no sink received anything"):
        audjust_mock.wait_for_webhook("no-such-request", timeout=0.05)


def test_scenarios_do_not_outlive_their_test(audjust_mock):
    status, body = post(audjust_mock, "resize", {})
    assert status == 400, body


def test_an_unknown_scenario_is_named(audjust_mock):
    with pytest.raises(ValueError, match="unknown scenario 'meteor_strike'"):
        audjust_mock.scenario("meteor_strike")


async def test_async_clients_reach_the_session_server_too(audjust_mock):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        answer = await session.post(
            f"{audjust_mock.base_url}/resize",
            json={
                "targetLengthSeconds": 1,
                "similarity": {"data": "~" * 3, "min": 32, "max": 126},
                "boundaries": [0.0, 0.5],
            },
            headers={"X-API-Key": audjust_mock.api_key},
        )
        assert answer.status == 200 and (await answer.json())["success"] is True


async def test_the_app_fixture_works_with_aiohttp_client(audjust_mock_app, aiohttp_client):
    client = await aiohttp_client(audjust_mock_app)
    answer = await client.get("/analyze")
    assert answer.status == 405
"""


CLIENT_TEST_COUNT = CLIENT_TESTS.count("\ndef test_") + CLIENT_TESTS.count("\nasync def test_")


def test_a_client_project_uses_the_plugin_without_importing_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_client=CLIENT_TESTS)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
        "audjust_mock_seed = 3\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=CLIENT_TEST_COUNT)


def test_a_client_suite_runs_in_parallel_under_xdist(pytester: pytest.Pytester) -> None:
    """Each xdist worker starts its own mock on its own port: the suite's tests, which assume a
    mock reset for them alone, pass side by side."""
    pytester.makepyfile(test_client=CLIENT_TESTS)
    pytester.makeini(
        "[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=CLIENT_TEST_COUNT)
    result.stdout.fnmatch_lines(["*2 workers*"])


IDS_PER_TEST = """
import json
import os
import urllib.request

import pytest

RESIZE = {"targetLengthSeconds": 1, "boundaries": [0, 1],
          "similarity": {"data": "~~~", "min": 32, "max": 126}}


@pytest.mark.parametrize("n", range(4))
def test_one_request(audjust_mock, n):
    request = urllib.request.Request(
        f"{audjust_mock.base_url}/resize", data=json.dumps(RESIZE).encode(),
        headers={"X-API-Key": audjust_mock.api_key, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        request_id = json.loads(answer.read())["requestId"]
    with open(os.environ["IDS_FILE"], "a") as seen:
        seen.write(request_id + "\\n")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_tests_that_each_reset_never_get_the_same_request_id(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: list[str]
) -> None:
    """Each test gets a freshly reset mock, and the seed is fixed: the ids still never repeat,
    within a worker (a reset does not rewind them) or across workers (each has its own seed)."""
    ids_file = pytester.path / "ids.txt"
    monkeypatch.setenv("IDS_FILE", str(ids_file))
    pytester.makepyfile(test_ids=IDS_PER_TEST)
    pytester.makeini("[pytest]\naudjust_mock_seed = 5\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *workers)
    result.assert_outcomes(passed=4)
    ids = ids_file.read_text().split()
    assert len(ids) == 4 and len(set(ids)) == 4, ids


def test_unknown_fixture_songs_are_named_in_the_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_song="def test_it(audjust_mock):\n    audjust_mock.fixture_url('no_such_song')\n"
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no fixture song 'no_such_song'; there are ballad_70.mp3*"])


def python_blocks(page: str) -> list[str]:
    """The ```python blocks of a docs page, in order."""
    text = (ROOT / "docs" / page).read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


@pytest.mark.parametrize(("page", "tests"), [("testing.md", 5), ("faults.md", 2)])
def test_the_docs_examples_run_as_written(pytester: pytest.Pytester, page: str, tests: int) -> None:
    (block,) = python_blocks(page)
    pytester.makepyfile(test_readme=block)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=tests)
