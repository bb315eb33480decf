"""`serve --replay` of failures and of bad recordings: a job the upstream failed (recorded
through the proxy from a real mock) fails again the same way, under a new request id, through
the replaying mock's own failure path; a recording the mock cannot use stops `serve` with one
line naming the file, and a mock built from Settings with a RecordingError."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mock_server.faults.catalogue import Fault
from mock_server.faults.scenario import HEADER
from mock_server.jobs.job import JobState
from mock_server.jobs.recordings import EXCHANGE_FILE, RecordingError, without_volatile
from mock_server.settings import Settings
from mock_server.web.app import create_app
from mock_server.web.keys import SERVICES
from tests.conftest import AppClient, FileServer, MakeMock, Receiver, ServerFactory, serve_receiver
from tests.proxy_client import MakeProxy, origin
from tests.support import KEY, NOWHERE, TINY_RESIZE, VALID, Hooks, uploaded, wait_until

ANY_ID = "a" * 32
QUEUED = {  # a recorded acknowledgement
    "status": 200,
    "contentType": "application/json",
    "body": {"success": True, "message": "Request queued.", "requestId": ANY_ID},
}


def used(mock: AppClient) -> int:
    """The credits the default key has used in the window."""
    services = mock.app[SERVICES]
    return services.accounts.used(KEY["X-API-Key"], services.clock.now())


async def attempts(mock: AppClient, request_id: str, count: int) -> list[int | None]:
    """The statuses of a mock's delivery attempts for a request, once there are `count`."""
    found: list[int | None] = []

    async def logged() -> bool:
        async with mock.get("/_mock/webhooks") as answer:
            every = await answer.json()
        found[:] = [a["status"] for a in every if a["requestId"] == request_id]
        return len(found) >= count

    await wait_until(logged)
    return found


@pytest.mark.parametrize(
    ("path", "source", "extra"),
    [
        ("/analyze", "/missing.mp3", {"features": []}),
        ("/export", "/page.html", {"exportFormat": "wav", "segmentsGroups": [[[0, 2]]]}),
    ],
    ids=["analyze-source-404", "export-not-audio"],
)
async def test_a_failed_job_replays_as_the_same_failure_through_the_failure_path(
    make_mock: MakeMock,
    make_proxy: MakeProxy,
    files: FileServer,
    hooks: Hooks,
    aiohttp_server: ServerFactory,
    tmp_path: Path,
    path: str,
    source: str,
    extra: dict[str, Any],
) -> None:
    """The upstream fails the job for real; offline, a fresh mock acknowledges the same request
    under a new id and fails it with the recorded message, retrying its webhook, journalling
    it and charging nothing, as for any failed job."""
    upstream = await make_mock()
    through = await make_proxy(origin(upstream), record=tmp_path / "rec")
    body = {"resultWebhook": hooks.url(), "sourceFileUrl": files.url(source), **extra}
    status, raw, _ = await through.post(path, body)
    assert status == 200, raw
    recorded = await hooks.payload(json.loads(raw)["requestId"])
    assert recorded["success"] is False and used(upstream) == 0
    await through.settled()
    await files.server.close()  # offline: the engine would now fail differently, if it ran

    replay = await make_mock(replay=tmp_path / "rec")
    receiver = await serve_receiver(aiohttp_server, Receiver(fail_first=1))
    retried = {**body, "resultWebhook": receiver.url()}
    async with replay.post(path, json=retried, headers=KEY) as answer:
        assert answer.status == 200
        ack = await answer.json()
    request_id = ack["requestId"]
    assert ack["success"] is True and request_id != recorded["requestId"]
    (delivered,) = await receiver.wait_for(1)
    assert delivered["requestId"] == request_id
    assert without_volatile(delivered) == without_volatile({"path": "/hook", **recorded})
    assert await attempts(replay, request_id, count=2) == [503, 200]  # retried as any webhook
    services = replay.app[SERVICES]
    assert services.jobs.jobs[request_id].state is JobState.FAILED and used(replay) == 0
    result_url = ack.get("resultUrl") or ack["resultUrls"][0]
    async with aiohttp.ClientSession() as session, session.get(result_url) as missing:
        assert missing.status == 404  # a failed job hosts no result
    async with replay.get("/_mock/requests") as journal:
        journalled = [(e["path"], e["status"]) for e in await journal.json()]
    assert (path, 200) in journalled


async def test_a_failed_synchronous_resize_replays_as_the_same_error(
    make_mock: MakeMock, make_proxy: MakeProxy, tmp_path: Path
) -> None:
    """A resize without a webhook that the upstream failed (its internal_failure scenario)
    answers the replaying mock's failed-resize status with the recorded failure."""
    upstream = await make_mock()
    through = await make_proxy(origin(upstream), record=tmp_path / "rec")
    failing = {**KEY, HEADER: Fault.INTERNAL_FAILURE.value}
    status, raw, _ = await through.post("/resize", TINY_RESIZE, headers=failing)
    recorded = json.loads(raw)
    assert (status, recorded["success"]) == (500, False)

    replay = await make_mock(replay=tmp_path / "rec")
    async with replay.post("/resize", json=TINY_RESIZE, headers=KEY) as answer:
        assert answer.status == 500
        replayed = await answer.json()
    assert replayed["requestId"] != recorded["requestId"]
    assert without_volatile(replayed) == without_volatile(recorded)
    assert used(replay) == 0


def recording(
    folder: Path,
    route: str,
    body: dict[str, Any],
    *,
    answer: dict[str, Any],
    webhooks: tuple[dict[str, Any], ...] = (),
    results: tuple[dict[str, Any], ...] = (),
) -> Path:
    """Write a recording as `proxy --record` does; the folder's exchange.json."""
    document = {
        "format": "audjust-mock-recording",
        "version": 1,
        "route": route,
        "request": {"key": "test****", "body": body},
        "answer": answer,
        "webhooks": [{"body": hook, "clientStatus": 200} for hook in webhooks],
        "results": list(results),
        "violations": [],
        "volatile": [],
    }
    folder.mkdir(parents=True)
    (folder / EXCHANGE_FILE).write_text(json.dumps(document, indent=2))
    return folder / EXCHANGE_FILE


async def test_a_replayed_failure_carries_the_fields_the_upstream_added(
    make_mock: MakeMock, hooks: Hooks, tmp_path: Path
) -> None:
    """Whatever else the live API's failure carried goes out again as recorded; the request id,
    source and cost are the replaying mock's own: a failure charges nothing, even where the
    recorded one (breaking its schema) said otherwise."""
    failure = {
        "requestId": ANY_ID,
        "success": False,
        "message": "Could not decode the source file.",
        "error": {"code": "DECODE_FAILED", "retryable": False},
        "sourceFileUrl": NOWHERE,
        "creditCost": 3,
    }
    body = VALID["/analyze"]
    recording(tmp_path / "0001-analyze", "/analyze", body, answer=QUEUED, webhooks=(failure,))
    replay = await make_mock(replay=tmp_path)
    hooked = {**body, "resultWebhook": hooks.url()}
    async with replay.post("/analyze", json=hooked, headers=KEY) as answer:
        request_id = (await answer.json())["requestId"]
    assert await hooks.payload(request_id) == {**failure, "requestId": request_id, "creditCost": 0}
    assert used(replay) == 0


def export_success(folder: Path) -> Path:
    """An export recording whose one file is listed as fetched but was never saved."""
    url = f"http://127.0.0.1:1/{ANY_ID}/export_1.wav"
    payload = {
        "requestId": ANY_ID,
        "sourceFileUrl": NOWHERE,
        "resultUrls": [url],
        "failures": {},
        "success": True,
        "creditCost": 1,
    }
    fetched = {"url": url, "status": 200, "file": "export_1.wav"}
    return recording(
        folder, "/export", VALID["/export"], answer=QUEUED, webhooks=(payload,), results=(fetched,)
    )


def not_json(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / EXCHANGE_FILE).write_text('{"format": "audjust-mock-recording",')
    return folder / EXCHANGE_FILE


def another_version(folder: Path) -> Path:
    written = recording(folder, "/resize", TINY_RESIZE, answer={"status": 200})
    document = json.loads(written.read_text())
    written.write_text(json.dumps({**document, "version": 2}))
    return written


def upstream_down(folder: Path) -> Path:
    return recording(folder, "/resize", TINY_RESIZE, answer={"error": "connection refused"})


def failure_without_message(folder: Path) -> Path:
    failure = {"requestId": ANY_ID, "success": False, "creditCost": 0}
    return recording(folder, "/resize", TINY_RESIZE, answer={"status": 500, "body": failure})


def in_it(write: Callable[[Path], Path]) -> Callable[[Path], Path]:
    """`write` applied to one recording's folder in the replay folder."""
    return lambda root: write(root / "0001-x")


def empty(root: Path) -> Path:
    root.mkdir()
    return root


def nothing_to_replay(root: Path) -> Path:
    upstream_down(root / "0001-x")
    return root


# Each broken replay folder: how to make it (given where it goes; returning the path the error
# names) and what the error says after that path.
BROKEN: dict[str, tuple[Callable[[Path], Path], str]] = {
    "not-json": (in_it(not_json), " is not JSON: Expecting"),
    "breaks-the-schema": (
        in_it(another_version),
        " breaks schemas/recording.json at /version: 1 was expected",
    ),
    "result-file-missing": (
        in_it(export_success),
        ": cannot read its result file export_1.wav (No such file or directory)",
    ),
    "no-folder": (lambda root: root, ": no such folder"),
    "no-recordings": (empty, ": no recordings in it"),
    "nothing-to-replay": (
        nothing_to_replay,
        ": none of its 1 recordings ends in a result or a failure to replay",
    ),
    "failure-without-message": (
        in_it(failure_without_message),
        ": the recorded outcome has no 'message'",
    ),
}


def broken(tmp_path: Path, case: str) -> tuple[Path, str]:
    """A replay folder broken as `case` says, and the error's expected text."""
    make, says = BROKEN[case]
    root = tmp_path / "rec"
    return root, f"{make(root)}{says}"


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_mock_made_from_settings_refuses_a_bad_recording(tmp_path: Path, case: str) -> None:
    root, expected = broken(tmp_path, case)
    with pytest.raises(RecordingError) as refused:
        create_app(Settings(replay=root))
    assert str(refused.value).startswith(expected), refused.value


def serve_replaying(
    root: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    flags = ["--port", "0", "--results-port", "0", "--workers", "1"]
    replay = [] if env else ["--replay", str(root)]
    return subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", *flags, *replay],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "case", ["not-json", "breaks-the-schema", "result-file-missing", "no-folder", "no-recordings"]
)
def test_serve_stops_on_a_bad_recording_with_one_line(tmp_path: Path, case: str) -> None:
    root, expected = broken(tmp_path, case)
    done = serve_replaying(root)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"audjust-mock serve: error: argument --replay: {expected}"), line


def test_serve_stops_on_a_bad_recording_named_by_its_variable(tmp_path: Path) -> None:
    root, expected = broken(tmp_path, "not-json")
    done = serve_replaying(root, env={"AUDJUST_MOCK_REPLAY": str(root)})
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith(f"audjust-mock serve: error: argument --replay: {expected}")


def test_serve_says_what_it_replays_and_what_it_skips_and_why(tmp_path: Path) -> None:
    """A CI log then says which requests the engine will answer instead of a recording."""
    root = tmp_path / "rec"
    failure = {"requestId": ANY_ID, "success": False, "message": "no", "creditCost": 0}
    body = VALID["/analyze"]
    recording(root / "0001-analyze", "/analyze", body, answer=QUEUED, webhooks=(failure,))
    upstream_down(root / "0002-resize")
    unfetched = export_success(root / "0003-export")
    document = json.loads(unfetched.read_text())
    unfetched.write_text(json.dumps({**document, "results": []}))  # its file never fetched
    flags = ["--port", "0", "--results-port", "0", "--workers", "1", "--quiet"]
    with subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", *flags, "--replay", str(root)],
        stdout=subprocess.PIPE,
        text=True,
    ) as serving:
        try:
            assert serving.stdout is not None
            lines = [serving.stdout.readline().strip() for _ in range(4)]
        finally:
            serving.terminate()
            serving.wait(timeout=30)
    assert lines[0].startswith("audjust-mock listening on ")
    assert lines[1:] == [
        "replay: 1 recording(s) loaded (analyze 1)",
        "replay: skipped 0002-resize: its job never ended in a result or a failure"
        " (refused, unreachable or no webhook)",
        "replay: skipped 0003-export: not every result file of the export was fetched,"
        " so it cannot be served",
    ]


async def test_a_structure_recorded_through_the_proxy_replays_its_sections(
    make_mock: MakeMock, make_proxy: MakeProxy, files: FileServer, tmp_path: Path
) -> None:
    """A synchronous /structure recorded from a real upstream answers the same sections offline,
    under a new request id, at the same price."""
    upstream = await make_mock()
    through = await make_proxy(origin(upstream), record=tmp_path / "rec")
    body = {"sourceFileUrl": files.url("/song.mp3")}
    status, raw, _ = await through.post("/structure", body)
    assert status == 200, raw
    recorded = json.loads(raw)
    await through.settled()
    await files.server.close()  # offline: the engine could not download it now

    replay = await make_mock(replay=tmp_path / "rec")
    async with replay.post("/structure", json=body, headers=KEY) as answer:
        assert answer.status == 200
        replayed = await answer.json()
    assert replayed["sections"] == recorded["sections"]
    assert replayed["creditCost"] == recorded["creditCost"]
    assert replayed["requestId"] != recorded["requestId"]


async def test_a_structure_of_an_upload_replays_by_the_uploaded_content(
    make_mock: MakeMock, make_proxy: MakeProxy, files: FileServer, tmp_path: Path
) -> None:
    """Recording, the proxy relays the upload's PUT and names the source by its content; a
    later run uploads the same bytes under a new retrievalUrl and gets the recorded sections."""
    upstream = await make_mock()
    through = await make_proxy(origin(upstream), record=tmp_path / "rec")
    status, raw, _ = await through.post_counted("/upload", b"", method="GET")
    slot = json.loads(raw)
    assert status == 200 and "/_proxy/storage/" in slot["storageUrl"]  # through the proxy
    async with aiohttp.ClientSession() as session:
        async with session.get(files.url("/song.mp3")) as source:
            song = await source.read()
        async with session.put(slot["storageUrl"], data=song) as stored:
            assert stored.status == 200
    status, raw, _ = await through.post("/structure", {"sourceFileUrl": slot["retrievalUrl"]})
    assert status == 200, raw
    recorded = json.loads(raw)
    await through.settled()
    written = json.loads((tmp_path / "rec" / "0002-structure" / EXCHANGE_FILE).read_text())
    assert written["request"]["body"]["sourceFileUrl"].startswith("upload:sha256:")

    replay = await make_mock(replay=tmp_path / "rec")
    retrieval = await uploaded(replay, song)
    assert retrieval != slot["retrievalUrl"]
    async with replay.post("/structure", json={"sourceFileUrl": retrieval}, headers=KEY) as answer:
        replayed = await answer.json()
    assert replayed["sections"] == recorded["sections"]
    assert replay_of(replay) == "0002-structure"


def replay_of(mock: AppClient) -> str | None:
    """The recording the mock's latest request was answered from."""
    return mock.app[SERVICES].journal.entries()[-1].replayed
