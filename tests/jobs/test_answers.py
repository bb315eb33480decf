"""Per-test answers on the job path, over sockets: an answer stands in for the engine's result
and goes out as any job's does (webhook, hosted result, journal, charge), never enters the
analysis cache, comes before a replay, keeps the fault scenarios that can apply on top and says
which it overrides, is refused by a request it does not fit, and is forgotten by a reset of its
namespace."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from mock_server import traffic
from mock_server.faults.scenario import HEADER
from mock_server.web.keys import SERVICES
from tests.conftest import AppClient, FileServer, MakeMock
from tests.jobs.test_replay import ANY_ID, recording
from tests.support import KEY, TINY_RESIZE, Hooks, tone, wav_bytes

# Three beats, each identical to itself.
ANALYSIS = {
    "duration": 90.0,
    "tempo": 99,
    "similarity": {"data": "~a~aa~", "min": 32, "max": 126},
    "boundaries": [0.0, 0.6, 1.2],
}
# TINY_RESIZE's one possible edit, scored by the test.
CANDIDATE = {
    "dissimilarity": 0,
    "blendedScore": -0.5,
    "segmentsBeats": [[0, 1]],
    "segmentsSeconds": [[0.0, 1.0]],
    "durationSeconds": 1,
}
EDGES = {**KEY, HEADER: "contract_edges"}


async def arm(mock: AppClient, body: dict[str, Any], headers: dict[str, str] = KEY) -> Any:
    async with mock.post("/_mock/answers", json=body, headers=headers) as response:
        document = await response.json()
        assert response.status == 200, document
    return document["answer"]


async def call(
    mock: AppClient, path: str, body: Any, headers: dict[str, str] = KEY
) -> tuple[int, Any]:
    async with mock.post(path, json=body, headers=headers) as response:
        return response.status, await response.json()


async def journal(mock: AppClient, headers: dict[str, str] = KEY) -> list[dict[str, Any]]:
    async with mock.get("/_mock/requests", headers=headers) as response:
        entries: list[dict[str, Any]] = await response.json()
    return entries


async def armed(mock: AppClient, headers: dict[str, str] = KEY) -> list[dict[str, Any]]:
    async with mock.get("/_mock/answers", headers=headers) as response:
        answers: list[dict[str, Any]] = await response.json()
    return answers


def used(mock: AppClient) -> int:
    services = mock.app[SERVICES]
    return services.accounts.used(KEY["X-API-Key"], services.clock.now())


async def test_an_answered_analysis_goes_the_whole_job_path_and_never_into_the_cache(
    mock: AppClient, files: FileServer, hooks: Hooks
) -> None:
    answer = await arm(mock, {"route": "/analyze", "payload": ANALYSIS, "times": 1})
    body = {"sourceFileUrl": files.url("/song.mp3"), "resultWebhook": hooks.url()}
    status, ack = await call(mock, "/analyze", body, EDGES)
    assert status == 200, ack
    payload = await hooks.payload(ack["requestId"])
    assert payload["result"] == ANALYSIS and payload["sourceFileUrl"] == body["sourceFileUrl"]
    assert payload["creditCost"] == used(mock) == 15  # 1.5 minutes at 10 credits a minute
    async with mock.session.get(ack["resultUrl"]) as hosted:
        assert (await hosted.json())["result"] == ANALYSIS
    (entry,) = [e for e in await journal(mock) if e["path"] == "/analyze"]
    assert (entry["answered"], entry["replayed"]) == (answer["id"], None)
    assert entry["notes"] == [
        f"scenario contract_edges not applied: the per-test answer {answer['id']} answers instead"
    ]
    assert files.downloads == {}  # an answer reads no source
    assert mock.app[SERVICES].jobs.analyses.stats()["entries"] == 0

    assert await armed(mock) == []  # times=1: spent, so the engine answers the same song
    status, ack = await call(mock, "/analyze", body)
    computed = await hooks.payload(ack["requestId"])
    assert computed["result"]["tempo"] != ANALYSIS["tempo"]
    assert mock.app[SERVICES].jobs.analyses.stats()["entries"] == 1


async def test_an_answer_comes_before_a_replay_and_each_says_what_it_overrode(
    make_mock: MakeMock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=traffic.LOG.name)
    recorded = {**CANDIDATE, "blendedScore": -0.25}
    document = {"requestId": ANY_ID, "result": [recorded], "success": True, "creditCost": 1}
    answer = {"status": 200, "contentType": "application/json", "body": document}
    recording(tmp_path / "0001-resize", "/resize", TINY_RESIZE, answer=answer)
    mock = await make_mock(replay=tmp_path)
    armed_answer = await arm(mock, {"route": "resize", "payload": [CANDIDATE], "times": 1})

    answered = [(await call(mock, "/resize", TINY_RESIZE, EDGES))[1] for _ in range(2)]
    assert [a["result"] for a in answered] == [[CANDIDATE], [recorded]]
    first, second = await journal(mock)
    assert (first["answered"], first["replayed"]) == (armed_answer["id"], None)
    assert (second["answered"], second["replayed"]) == (None, "0001-resize")
    assert second["notes"] == [
        "scenario contract_edges not applied: the recording 0001-resize answers instead"
    ]
    lines = [traffic.TextFormatter().format(r) for r in caplog.records if r.msg == "request"]
    assert lines[0].endswith(
        f"beat=half answered={armed_answer['id']} (note: scenario contract_edges "
        f"not applied: the per-test answer {armed_answer['id']} answers instead)"
    )
    assert lines[1].endswith(f"replayed=0001-resize (note: {second['notes'][0]})")


async def test_a_replayed_export_says_that_partial_export_failure_was_not_applied(
    make_mock: MakeMock, hooks: Hooks, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:1/{ANY_ID}/export_1.wav"
    body = {
        "sourceFileUrl": "http://127.0.0.1:9/x",
        "resultWebhook": "http://127.0.0.1:9/hook",
        "exportFormat": "wav",
        "segmentsGroups": [[[0, 1]]],
    }
    payload = {
        "requestId": ANY_ID,
        "sourceFileUrl": body["sourceFileUrl"],
        "resultUrls": [url],
        "failures": {},
        "success": True,
        "creditCost": 1,
    }
    fetched = {"url": url, "status": 200, "file": "export_1.wav"}
    folder = tmp_path / "0001-export"
    queued = {"status": 200, "contentType": "application/json", "body": {"success": True}}
    recording(folder, "/export", body, answer=queued, webhooks=(payload,), results=(fetched,))
    (folder / "export_1.wav").write_bytes(wav_bytes(tone(1, 8000), 8000))
    mock = await make_mock(replay=tmp_path)

    headers = {**KEY, HEADER: "partial_export_failure"}
    status, ack = await call(mock, "/export", {**body, "resultWebhook": hooks.url()}, headers)
    assert status == 200, ack
    assert (await hooks.payload(ack["requestId"]))["failures"] == {}  # the recording's
    (entry,) = await journal(mock)
    assert entry["notes"] == [
        "scenario partial_export_failure not applied: the recording 0001-export answers instead"
    ]


async def test_an_export_answer_fails_the_files_it_names_and_makes_the_others(
    mock: AppClient, files: FileServer, hooks: Hooks
) -> None:
    why = "Failed to generate export_2.wav: the segment is silent"
    await arm(mock, {"route": "/export", "payload": {"failures": {"export_2.wav": why}}})
    body = {
        "sourceFileUrl": files.url("/song.mp3"),
        "resultWebhook": hooks.url(),
        "exportFormat": "wav",
        "segmentsGroups": [[[0, 1]], [[1, 2]]],
    }
    status, ack = await call(mock, "/export", body)
    assert status == 200, ack
    first, second = ack["resultUrls"]
    payload = await hooks.payload(ack["requestId"])
    assert payload["success"] is True and payload["failures"] == {second: why}
    async with mock.session.get(first) as made, mock.session.get(second) as failed:
        assert (made.status, failed.status) == (200, 404)

    three = {**body, "segmentsGroups": [[[0, 1]]]}  # export_2.wav is none of its files
    status, refusal = await call(mock, "/export", three)
    assert status == 400
    assert "export.failures" in refusal["message"] and "export_2.wav" in refusal["message"]
    assert [a["remaining"] for a in await armed(mock)] == [None]  # kept: until reset


async def test_a_request_the_answer_does_not_fit_is_refused_and_the_answer_kept(
    mock: AppClient,
) -> None:
    off_the_boundaries = {**CANDIDATE, "segmentsBeats": [[0, 2]], "segmentsSeconds": [[0, 2]]}
    await arm(mock, {"route": "/resize", "payload": [off_the_boundaries], "times": 1})
    status, refusal = await call(mock, "/resize", TINY_RESIZE)
    assert status == 400
    assert refusal["message"].startswith(
        "Invalid parameter: the answer for /resize breaks resize.segments: /result/0: segment "
        "[0, 2] is not within the 2 boundaries"
    )
    assert [a["remaining"] for a in await armed(mock)] == [1]
    similarity = {"data": "~~~~~~", "min": 32, "max": 126}
    wider = {"targetLengthSeconds": 2, "similarity": similarity, "boundaries": [0, 1, 2]}
    status, answered = await call(mock, "/resize", wider)
    assert (status, answered["result"]) == (200, [off_the_boundaries])


async def test_break_contract_sends_what_the_contract_refuses(mock: AppClient) -> None:
    broken = [{**CANDIDATE, "blendedScore": 0.5, "segmentsBeats": [[3, 9]]}]
    async with mock.post("/_mock/answers", json={"route": "/resize", "payload": broken}) as r:
        refusal = await r.json()
        assert r.status == 400
    assert "resize.payload" in refusal["message"] and "blendedScore" in refusal["message"]
    await arm(mock, {"route": "/resize", "payload": broken, "breakContract": True})
    status, answered = await call(mock, "/resize", TINY_RESIZE)
    assert (status, answered["result"]) == (200, broken)


async def test_a_job_scenario_still_applies_on_top_of_an_answer(
    mock: AppClient, files: FileServer, hooks: Hooks
) -> None:
    await arm(mock, {"route": "/analyze", "payload": ANALYSIS})
    body = {"sourceFileUrl": files.url("/song.mp3"), "resultWebhook": hooks.url()}
    headers = {**KEY, HEADER: "source_download_fails"}
    status, ack = await call(mock, "/analyze", body, headers)
    assert status == 200, ack
    failure = await hooks.payload(ack["requestId"])
    assert failure["success"] is False and "source_download_fails" in failure["message"]
    assert used(mock) == 0 and files.downloads == {}


async def test_answers_are_a_namespaces_own_and_its_reset_forgets_them(mock: AppClient) -> None:
    suite_a, suite_b = ({**KEY, "X-Mock-Namespace": name} for name in ("suite-a", "suite-b"))
    await arm(mock, {"route": "/resize", "payload": [CANDIDATE]}, suite_a)
    assert (await call(mock, "/resize", TINY_RESIZE, suite_b))[1]["result"] != [CANDIDATE]
    for _ in range(2):  # until reset
        assert (await call(mock, "/resize", TINY_RESIZE, suite_a))[1]["result"] == [CANDIDATE]
    async with mock.post("/_mock/reset", headers=suite_a) as response:
        assert response.status == 200
    assert await armed(mock, suite_a) == []
    assert (await call(mock, "/resize", TINY_RESIZE, suite_a))[1]["result"] != [CANDIDATE]
    assert json.dumps(await armed(mock, suite_b)) == "[]"


async def test_a_structure_answers_the_sections_a_test_wrote(
    mock: AppClient, files: FileServer
) -> None:
    """Nothing of a structure's sections is documented, so any JSON list of them is taken,
    answered synchronously at the top level and priced by where the last one ends."""
    sections = [
        {"startMs": 0, "endMs": 30_000, "label": 100},
        {"startMs": 30_000, "endMs": 60_000, "label": 900},
    ]
    async with mock.post(
        "/_mock/answers", json={"route": "/structure", "payload": sections, "times": 1}
    ) as armed:
        assert armed.status == 200, await armed.text()
    body = {"sourceFileUrl": files.url("/song.mp3")}
    async with mock.post("/structure", json=body, headers=KEY) as response:
        answer = await response.json()
    assert answer["sections"] == sections and answer["creditCost"] == 10  # a minute at 10
    async with mock.post("/structure", json=body, headers=KEY) as response:
        engine = await response.json()  # times=1: the next one is the engine's
    assert engine["sections"] != sections and engine["sections"][0]["startMs"] == 0
