"""A mock that runs elsewhere (`audjust-mock serve`, a container), driven over its control API:
what the pytest plugin uses when several suites share one server, each in a namespace of its own.

In a namespace every control call carries `X-Mock-Namespace`, the sink URLs carry it as a query,
and the test key is one minted in the namespace after each reset, so that the client under test
(which sends only its key) lands in the namespace too.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from mock_server.accounts import Plan
from mock_server.answers import AnswerRefused
from mock_server.contract.schemas import RESULTS_PATH
from mock_server.faults.arming import Arming
from mock_server.journal import entry_from_json
from mock_server.namespaces import HEADER, QUERY, checked_name
from mock_server.sinks import payload_request_id
from mock_server.sources import SourceMode
from mock_server.testing.inprocess import ClockHandle, MockHandle, RequestLog
from mock_server.web.middlewares import ADMIN_HEADER

TIMEOUT_SECONDS = 30.0


class ControlError(RuntimeError):
    """The mock refused a control call; the message is its own."""

    def __init__(self, status: int, message: str, said: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.said = said  # the `message` of the mock's error body, when it sent one


class RemoteMock(MockHandle):
    def __init__(
        self,
        base_url: str,
        api_key: str,
        namespace: str | None = None,
        admin_token: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.namespace = checked_name(namespace) if namespace else None
        self._headers = {"Content-Type": "application/json"}
        if self.namespace:
            self._headers[HEADER] = self.namespace
        if admin_token:
            self._headers[ADMIN_HEADER] = admin_token
        # In a namespace, a key of its own: requests made with it are the namespace's.
        self.api_key = f"{api_key}.{self.namespace}" if self.namespace else api_key
        self.clock = ClockHandle(
            lambda: float(self._call("GET", "/_mock/health")["time"]),
            lambda seconds: self._call("POST", "/_mock/clock/advance", {"seconds": seconds}),
        )
        document = self._call("GET", "/openapi.json")
        self.results_url = document["paths"][RESULTS_PATH]["servers"][0]["url"]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.base_url + path, data=data, headers=self._headers, method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as refusal:
            with refusal:
                text = refusal.read().decode(errors="replace")
            message = f"{method} {path}: HTTP {refusal.code} {text}"
            raise ControlError(refusal.code, message, _said(text)) from None

    def reset(self) -> None:
        self._call("POST", "/_mock/reset")
        if self.namespace:  # the reset dropped the namespace's keys, ours included
            self.add_key(self.api_key)

    def add_key(self, key: str, plan: str | Plan = Plan.ENTERPRISE) -> None:
        chosen = plan if isinstance(plan, Plan) else Plan.named(plan)
        self._call("POST", "/_mock/keys", {"key": key, "plan": chosen.value})

    def arm(self, arming: Arming) -> dict[str, Any]:
        body = {
            "name": arming.scenario.describe(),
            "count": arming.count,
            "route": arming.route,
            "key": arming.key,
        }
        armed: dict[str, Any] = self._call("POST", "/_mock/scenarios", body)["armed"]
        return armed

    def use_sources(self, mode: str | SourceMode) -> None:
        raise NotImplementedError(
            "use_sources switches the mock this process runs; a shared mock keeps the "
            "--sources it was started with"
        )

    def answer(
        self, route: str, payload: Any, times: int | None = None, *, break_contract: bool = False
    ) -> dict[str, Any]:
        body = {"route": route, "payload": payload, "times": times, "breakContract": break_contract}
        try:
            armed: dict[str, Any] = self._call("POST", "/_mock/answers", body)["answer"]
        except ControlError as refusal:
            if refusal.status == 400 and refusal.said:  # the same words as in this process
                raise AnswerRefused(refusal.said.split("answer: ", 1)[-1]) from None
            raise
        return armed

    def webhook_url(self, name: str = "default") -> str:
        url = super().webhook_url(name)
        return f"{url}?{QUERY}={self.namespace}" if self.namespace else url

    def webhooks(self, name: str = "default") -> list[Any]:
        received: list[Any] = self._call("GET", f"/_mock/sink/{quote(name, safe='')}")
        return received

    def _sinks(self) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = self._call("GET", "/_mock/sinks")
        return found

    def webhooks_for(self, request_id: str, sink: str | None = None) -> list[dict[str, Any]]:
        # Arrival order across sinks is the mock's to know; one sink's order is kept.
        return [
            payload
            for name, payloads in self._sinks().items()
            if sink is None or name == sink
            for payload in payloads
            if isinstance(payload, dict) and payload.get("requestId") == request_id
        ]

    def resend_webhook(self, request_id: str, to: str | None = None) -> str:
        path = f"/_mock/webhooks/{request_id}/resend"
        try:
            sent = self._call("POST", path, {"url": to} if to else None)
        except ControlError as refusal:
            if refusal.status == 404:
                raise LookupError(f"no webhook was recorded for request {request_id}") from None
            raise
        return str(sent["url"])

    @property
    def requests(self) -> RequestLog:
        return RequestLog(entry_from_json(entry) for entry in self._call("GET", "/_mock/requests"))

    def _sink_summary(self) -> dict[str, list[str | None]]:
        return {
            name: [payload_request_id(payload) for payload in payloads]
            for name, payloads in self._sinks().items()
        }


def _said(text: str) -> str:
    """The `message` of an error body, or nothing when it is not the mock's envelope."""
    try:
        document = json.loads(text)
    except ValueError:
        return ""
    message = document.get("message") if isinstance(document, dict) else None
    return message if isinstance(message, str) else ""
