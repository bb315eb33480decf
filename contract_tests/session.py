"""The suite's side of the conversation: HTTP to the target, a webhook receiver, a source file
server, a credit budget and the report printed at the end.

Everything network-bound runs on one background loop so the tests themselves stay synchronous
and session fixtures can hold results across tests.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from contract_tests.verdicts import Grader
from mock_server.background import BackgroundLoop
from mock_server.contract.observations import Observations
from mock_server.contract.wire import KEY_HEADER
from mock_server.sources import is_loopback_url
from mock_server.testing.inprocess import serve_app


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The body as JSON. An AssertionError when it is not: call it inside the `promise`
        that the body is JSON is part of."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise AssertionError(
                f"HTTP {self.status} {self.content_type} is not JSON: {self.body[:200]!r}"
            ) from None

    def parsed(self) -> Any:
        """The body as JSON, or None when it is not."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Http:
    """aiohttp on the background loop, returning whole answers to the synchronous caller."""

    def __init__(self, loop: BackgroundLoop, timeout: float = 60.0) -> None:
        self._loop = loop
        self._timeout = timeout
        self._session = loop.run(self._open())

    async def _open(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))

    def request(
        self, method: str, url: str, *, headers: dict[str, str] | None = None, body: Any = None
    ) -> Answer:
        data = None if body is None else body if isinstance(body, bytes) else json.dumps(body)
        sent = {"Content-Type": "application/json"} if data is not None else {}
        return self._loop.run(self._request(method, url, {**sent, **(headers or {})}, data))

    async def _request(
        self, method: str, url: str, headers: dict[str, str], data: str | bytes | None
    ) -> Answer:
        async with self._session.request(method, url, headers=headers, data=data) as response:
            body = await response.read()
            return Answer(response.status, response.content_type, body, dict(response.headers))

    def put_bytes(self, url: str, data: bytes) -> Answer:
        """A PUT of raw bytes with no Content-Type at all, as Audjust's example page uploads a
        file (a signed storage URL may be signed for no content type)."""
        return self._loop.run(self._put_bytes(url, data))

    async def _put_bytes(self, url: str, data: bytes) -> Answer:
        async with self._session.put(
            url, data=data, skip_auto_headers=("Content-Type",)
        ) as response:
            body = await response.read()
            return Answer(response.status, response.content_type, body, dict(response.headers))

    def close(self) -> None:
        self._loop.run(self._session.close())


class Target:
    """The API under test: its base URL, the key to use, and whether it can reach 127.0.0.1."""

    def __init__(self, http: Http, base_url: str, api_key: str) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.is_local = is_loopback_url(base_url)

    def post(self, route: str, body: Any, *, key: str | None = "") -> Answer:
        """POST with the suite's key; `key=None` sends no key, any other string that key."""
        headers = {} if key is None else {KEY_HEADER: key or self.api_key}
        return self.http.request("POST", f"{self.base_url}/{route}", headers=headers, body=body)

    def call(self, method: str, route: str) -> Answer:
        headers = {KEY_HEADER: self.api_key}
        return self.http.request(method, f"{self.base_url}/{route}", headers=headers)

    def fetch(self, url: str) -> Answer:
        return self.http.request("GET", url)

    def published_fidelity(self) -> dict[str, Any] | None:
        """The ledger a mock publishes at /_mock/fidelity, by row id; None from any other
        target (the live API has no such route)."""
        answer = self.http.request("GET", f"{self.base_url}/_mock/fidelity")
        document = answer.parsed() if answer.status == 200 else None
        if not isinstance(document, dict) or not isinstance(document.get("behaviours"), list):
            return None
        return {row["id"]: row for row in document["behaviours"] if isinstance(row, dict)}


# A webhook URL with this query is answered 500, every time: how the suite sees retries.
REFUSE_QUERY = "refuse"


def refusing(url: str) -> str:
    """`url` (the suite's webhook URL, wherever it is public) such that the receiver refuses."""
    return f"{url}{'&' if '?' in url else '?'}{REFUSE_QUERY}=1"


class Receiver:
    """Listens for webhooks and files each JSON payload under its requestId; on a `refusing`
    URL it answers 500 and notes when each attempt came."""

    def __init__(self, loop: BackgroundLoop, host: str, port: int) -> None:
        self._loop = loop
        self._payloads: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._refused: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
        self.unreadable: list[bytes] = []
        app = web.Application()
        app.router.add_post("/{path:.*}", self._receive)
        self._runner, origin = loop.run(serve_app(app, host, port))
        self.url = f"{origin}/audjust-webhook"

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            payload = json.loads(body)
            request_id = str(payload["requestId"])
        except (ValueError, KeyError, TypeError):
            self.unreadable.append(body)
            return web.json_response({"received": True})
        if REFUSE_QUERY in request.query:
            self._refused[request_id].append((time.monotonic(), payload))
            return web.json_response({"received": False}, status=500)
        self._payloads[request_id].append(payload)
        return web.json_response({"received": True})

    def payloads(self, request_id: str) -> list[dict[str, Any]]:
        return list(self._payloads.get(request_id, []))

    def refused(self, request_id: str) -> list[tuple[float, dict[str, Any]]]:
        """(monotonic arrival time, payload) of each refused attempt for `request_id`."""
        return list(self._refused.get(request_id, []))

    def close(self) -> None:
        self._loop.run(self._runner.cleanup())


class SourceServer:
    """Serves the suite's own audio file, which a target on this machine can download."""

    def __init__(self, loop: BackgroundLoop, audio: bytes) -> None:
        self._loop = loop
        self.downloads = 0
        self._audio = audio
        app = web.Application()
        app.router.add_get("/contract-song.mp3", self._song)
        self._runner, origin = loop.run(serve_app(app, "127.0.0.1", 0))
        self.url = f"{origin}/contract-song.mp3"

    async def _song(self, request: web.Request) -> web.Response:
        self.downloads += 1
        return web.Response(body=self._audio, content_type="audio/mpeg")

    def close(self) -> None:
        self._loop.run(self._runner.cleanup())


@dataclass
class Outcome:
    """What became of one queued request: its ack, its webhook (if one came) and the document
    at its resultUrl (analyze and resize only)."""

    ack: dict[str, Any]
    webhook: dict[str, Any] | None
    document: dict[str, Any] | None
    webhooks_expected: bool
    grader: Grader
    promise: str  # the ledger row of the webhook's payload

    @property
    def payload(self) -> dict[str, Any]:
        """The result as the client sees it first: the webhook, else the resultUrl document."""
        found = self.webhook or self.document
        if found is None:
            raise RuntimeError("neither a webhook nor a resultUrl document arrived")
        return found

    def require_webhook(self) -> dict[str, Any]:
        if self.webhook is None:
            if not self.webhooks_expected:
                pytest.skip("the target cannot reach this machine: pass --webhook-url")
            request_id = self.ack.get("requestId")
            self.grader.check(self.promise, False, f"no webhook arrived for request {request_id}")
            raise RuntimeError("unreachable: the payload's row is documented")
        return self.webhook


class Waiter:
    """Waits for a queued request by watching the receiver and polling its result URLs."""

    # Once either the webhook or the result is in, how long the other may lag behind.
    GRACE_SECONDS = 30.0

    def __init__(
        self,
        target: Target,
        receiver: Receiver,
        timeout: float,
        webhooks_expected: bool,
        grader: Grader,
    ) -> None:
        self.target = target
        self.receiver = receiver
        self.timeout = timeout
        self.webhooks_expected = webhooks_expected
        self.grader = grader
        self.interval = 0.1 if target.is_local else 3.0

    def wait(self, ack: dict[str, Any], promise: str) -> Outcome:
        """The outcome of the request `ack` acknowledged; `promise` is the ledger row of its
        webhook's payload."""
        request_id = ack["requestId"]
        deadline = time.monotonic() + self.timeout
        document: dict[str, Any] | None = None
        ready = False
        while time.monotonic() < deadline:
            hooks = self.receiver.payloads(request_id)
            if hooks and hooks[0].get("success") is False:
                # Allowed (Failed Requests), but it leaves nothing to check.
                raise RuntimeError(f"request {request_id} failed: {hooks[0].get('message')}")
            if not ready:
                ready, document = self._poll(ack, bool(hooks))
            if ready and (hooks or not self.webhooks_expected):
                return self._outcome(ack, hooks, document, promise)
            if ready or hooks:
                deadline = min(deadline, time.monotonic() + self.GRACE_SECONDS)
            time.sleep(self.interval)
        hooks = self.receiver.payloads(request_id)
        done = ready or bool(hooks)
        self.grader.check(
            "job.time_limit", done, f"request {request_id} was not done after {self.timeout:.0f} s"
        )
        return self._outcome(ack, hooks, document, promise)

    def _outcome(
        self,
        ack: dict[str, Any],
        hooks: list[dict[str, Any]],
        document: dict[str, Any] | None,
        promise: str,
    ) -> Outcome:
        webhook = hooks[0] if hooks else None
        return Outcome(ack, webhook, document, self.webhooks_expected, self.grader, promise)

    def _poll(self, ack: dict[str, Any], hooked: bool) -> tuple[bool, dict[str, Any] | None]:
        """(ready, the JSON document): analyze and resize host JSON, export hosts files."""
        if "resultUrl" in ack:
            answer = self.target.fetch(ack["resultUrl"])
            if answer.status != 200:
                return False, None
            # What a result URL serves is the target's choice (result.document): not JSON is
            # no failure here.
            document = answer.parsed()
            return True, document if isinstance(document, dict) else None
        if self.webhooks_expected:
            # The export webhook says the files are there; the tests download each one anyway.
            return hooked, None
        statuses = [self.target.fetch(url).status for url in ack["resultUrls"]]
        return all(status == 200 for status in statuses), None


@dataclass
class Contract:
    """Everything a contract test needs: the target, how to wait, what it may spend."""

    target: Target
    waiter: Waiter
    budget: Budget
    report: Report
    source_url: str
    webhook_url: str
    grader: Grader

    def promise(self, entry_id: str) -> AbstractContextManager[None]:
        """Checks inside are the ledger row `entry_id`'s, graded by its basis (verdicts.py)."""
        return self.grader.promise(entry_id)

    def check(self, entry_id: str, holds: bool, seen: str) -> None:
        self.grader.check(entry_id, holds, seen)

    def conforms(self, entry_id: str, schema: str, document: object) -> None:
        self.grader.conforms(entry_id, schema, document)


class Budget:
    """Credits the run may spend; a call whose worst-case price would exceed them is skipped."""

    def __init__(self, max_credits: int) -> None:
        self.max_credits = max_credits
        self.reserved = 0
        self.spent = 0

    def reserve(self, worst_case: int, what: str) -> int:
        left = self.max_credits - self.reserved
        if worst_case > left:
            pytest.skip(
                f"{what} may cost {worst_case} credits and only {left} of --max-credits "
                f"{self.max_credits} are left"
            )
        self.reserved += worst_case
        return worst_case

    def settle(self, reserved: int, credits: int) -> None:
        """The call cost `credits`: what was reserved beyond that is free again."""
        self.reserved += credits - reserved
        self.spent += credits


@dataclass(kw_only=True)
class Report(Observations):
    """Facts about the target that are not pass/fail: printed after the test summary. What it
    observed (the base class) is also what --observed-profile writes."""

    target: str = ""
    notes: list[str] = field(default_factory=list)

    def lines(self, budget: Budget) -> list[str]:
        lines = [f"target: {self.target}"]
        for message, statuses in sorted(self.error_statuses.items()):
            lines.append(f"error {message!r}: HTTP {', '.join(map(str, sorted(statuses)))}")
        for operation, rules in sorted(self.pricing.items()):
            lines.append(f"pricing of {operation}: {' | '.join(sorted(rules))}")
        for message, seen in sorted(self.appended_text.items()):
            lines.append(
                f"observed error.detail (choice): error {message!r} comes with text after it, "
                f"e.g. {seen!r}"
            )
        lines += self.notes
        lines.append(f"credits spent: {budget.spent} (limit {budget.max_credits})")
        return lines
