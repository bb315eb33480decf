"""The `contract_edges` scenario over real sockets: what it sends is valid by the schemas, keeps
the contract suite's consistency rules, is priced as the true result, and is taken back as it
is by /resize and /export."""

from __future__ import annotations

from typing import Any

import pytest

from mock_server.audio.resize import parse_resize_input, resize_candidates
from mock_server.faults.arming import Arming
from mock_server.faults.scenario import Scenario
from mock_server.jobs.payloads import candidates_json
from tests.conftest import AppClient, FileServer, MakeMock, Receiver, post, queued_webhook
from tests.contract_checks import check_analysis, check_candidate
from tests.support import KEY

TARGET_SECONDS = 12  # of the fixture's 20 s song


def with_edges(params: str = "") -> dict[str, str]:
    return {**KEY, "X-Mock-Scenario": f"contract_edges{params}"}


def analysis_body(files: FileServer, receiver: Receiver) -> dict[str, Any]:
    return {
        "resultWebhook": receiver.url(),
        "sourceFileUrl": files.url("/song.mp3"),
        "features": ["raw_features"],
    }


def resize_body(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "targetLengthSeconds": TARGET_SECONDS,
        "similarity": result["similarity"],
        "boundaries": result["boundaries"],
    }


@pytest.mark.parametrize(("beat", "tempo"), [("half", 60), ("double", 240)])
async def test_an_edge_analysis_is_valid_unusual_and_priced_as_the_true_one(
    mock: AppClient, files: FileServer, receiver: Receiver, beat: str, tempo: int
) -> None:
    body = analysis_body(files, receiver)
    _, true = await queued_webhook(mock, "/analyze", body, receiver)
    ack, bent = await queued_webhook(mock, "/analyze", body, receiver, with_edges(f";beat={beat}"))
    truth, result = true["result"], bent["result"]
    assert truth["tempo"] == 120
    check_analysis(result)  # and the receiver checked both webhooks against the schema
    assert {len(vector) for vector in result["features"]} == {8}
    assert (result["similarity"]["min"], result["similarity"]["max"]) == (48, 112)
    assert result["tempo"] == tempo
    if beat == "half":
        assert result["boundaries"] == truth["boundaries"][::2]
    else:
        assert set(truth["boundaries"]) < set(result["boundaries"])
    assert result["duration"] == truth["duration"] and bent["creditCost"] == true["creditCost"]
    async with mock.session.get(ack["resultUrl"]) as response:
        assert await response.json() == {k: v for k, v in bent.items() if k != "path"}


async def test_resize_and_export_take_what_the_edges_made(
    make_mock: MakeMock, files: FileServer, receiver: Receiver
) -> None:
    # Armed for the whole run, as `serve --scenario contract_edges` (or a profile) arms it:
    # analyses and resizes are bent, exports (which it does not apply to) are not.
    mock = await make_mock(scenarios=(Arming(Scenario.parse("contract_edges"), count=None),))
    _, analysis = await queued_webhook(mock, "/analyze", analysis_body(files, receiver), receiver)
    result = analysis["result"]
    assert len(result["features"][0]) == 8

    status, resized = await post(mock, "/resize", resize_body(result))
    assert status == 200 and resized["creditCost"] == 1  # 12 s at 4 credits a minute
    candidates = resized["result"]
    request = parse_resize_input(result["similarity"], result["boundaries"], TARGET_SECONDS)
    best = candidates_json(resize_candidates(request))  # what the engine makes of the same analysis
    assert len(best) == 20
    assert candidates == best[3:7] + best[:3]  # the best seven, turned: the best is fifth
    scores = [candidate["blendedScore"] for candidate in candidates]
    assert scores != sorted(scores, reverse=True) and scores != sorted(scores)
    for candidate in candidates:
        check_candidate(candidate, result)

    export = {
        "resultWebhook": receiver.url(),
        "sourceFileUrl": files.url("/song.mp3"),
        "exportFormat": "wav",
        "segmentsGroups": [candidate["segmentsSeconds"] for candidate in candidates],
    }
    ack, exported = await queued_webhook(mock, "/export", export, receiver)
    assert exported["success"] is True and exported["failures"] == {}
    for url in ack["resultUrls"]:
        async with mock.session.get(url) as response:
            assert response.status == 200 and response.content_type == "audio/wav"


async def test_a_queued_resize_is_bent_as_a_synchronous_one(
    mock: AppClient, files: FileServer, receiver: Receiver
) -> None:
    _, analysis = await queued_webhook(mock, "/analyze", analysis_body(files, receiver), receiver)
    request = resize_body(analysis["result"])
    status, now = await post(mock, "/resize", request, with_edges(";candidates=3"))
    assert status == 200
    hooked = {**request, "resultWebhook": receiver.url()}
    _, later = await queued_webhook(mock, "/resize", hooked, receiver, with_edges(";candidates=3"))
    assert later["result"] == now["result"] and len(now["result"]) == 3
    status, plain = await post(mock, "/resize", request)
    assert status == 200 and now["result"] == plain["result"][1:3] + plain["result"][:1]
