"""The proxy's HTTP side: forward the three endpoints, stand in as the webhook receiver, check
everything on the way and pass every answer back as it came.

The upstream sees the client's key and body, with only `resultWebhook` pointed at the proxy's
own receiver; the client sees the upstream's status and bytes, plus `X-Mock-Violations` (broken
documented promises) and `X-Mock-Findings` (readings of the reference's examples departed from). A
webhook is forwarded to the client's receiver once per upstream delivery and the receiver's
status goes back, so retries are the upstream's, never the proxy's.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from mock_server.contract import conformance, rules
from mock_server.contract.conformance import Departure
from mock_server.contract.wire import (
    API_ROUTES,
    BY_NAME,
    INVALID_METHOD,
    KEY_HEADER,
    MISSING_KEY,
    UPLOAD,
)
from mock_server.proxy import recording, reports
from mock_server.proxy.exchanges import Delivery, Exchange, Fetched, KeptExchanges, masked
from mock_server.proxy.observed import ObservedProfile
from mock_server.proxy.uploads import STORAGE_PATH, UploadRelay

VIOLATIONS_HEADER = "X-Mock-Violations"
FINDINGS_HEADER = "X-Mock-Findings"
HOOK_PATH = "/_proxy/webhooks"
EXCHANGES_PATH = "/_proxy/exchanges"
# Request headers passed upstream: the key and what describes the body; X-Mock-* so a mock
# upstream's namespaces and scenarios work through the proxy.
FORWARDED = (KEY_HEADER.lower(), "content-type", "accept", "user-agent")
# Answer headers the proxy cannot pass as they are: aiohttp sets length and encoding anew.
DROPPED = (
    "content-length",
    "transfer-encoding",
    "content-encoding",
    "connection",
    "date",
    "server",
)
T = TypeVar("T")
REPORT_DELAY_SECONDS = 0.2  # --report and --junit are rewritten at most this often, and at exit
STRICT_MESSAGE = "Request breaks the contract's request schema; not forwarded (--strict)"


@dataclass(frozen=True)
class ProxyConfig:
    upstream: str
    # The proxy's origin as the upstream reaches it; None: the listening address, set at start.
    public_url: str | None = None
    strict: bool = False
    check_results: bool = False
    record: Path | None = None
    report: Path | None = None
    junit: Path | None = None
    observed_profile: Path | None = None
    kept_exchanges: int = 10_000  # summaries held; every exchange is counted in the reports

    @property
    def fetches_results(self) -> bool:
        """Result files are fetched to check them, and to record them: a recorded export whose
        files were never fetched could not be replayed."""
        return self.check_results or self.record is not None


@dataclass(frozen=True)
class Asked:
    """What the proxy asks the upstream for one exchange."""

    method: str
    route: str
    headers: dict[str, str]
    body: bytes
    listed: str | None  # the listed error the request is bound to get, if any


class Proxy:
    """Every exchange of one running proxy, and the one client session it forwards with."""

    def __init__(self, config: ProxyConfig) -> None:
        self.config = config
        self.public_url = (config.public_url or "").rstrip("/")
        self.exchanges = KeptExchanges(
            config.kept_exchanges, lambda exchange: exchange.done(config.fetches_results)
        )
        path = config.observed_profile
        self.observed = ObservedProfile(path) if path is not None else None
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._reports_due: asyncio.TimerHandle | None = None  # a pending rewrite of the reports
        # Recording: uploads pass through the proxy, so a recording names them by content.
        self.relay = UploadRelay() if config.record is not None else None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "the proxy is not running"
        return self._session

    async def lifetime(self, app: web.Application) -> AsyncIterator[None]:
        # No total timeout: a slow upstream stays as slow as it is, and the client's own timeout
        # decides, as it would without the proxy.
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        yield
        for task in self._tasks:
            task.cancel()  # an upstream still answering at shutdown is not waited for
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._session.close()
        if self.reports_pending:
            self.write_reports()
        if self.observed is not None:
            self.observed.write()

    def found(self, exchange: Exchange, departures: list[Departure]) -> None:
        """Keep and print new departures (each step that finds some ends in `settle`)."""
        for departure in departures:
            print(departure.line(), flush=True)
        exchange.departures.extend(departures)

    def save(self, exchange: Exchange) -> None:
        """Write the exchange's recording now, and the reports soon: they hold every exchange,
        so rewriting them at every step would cost the square of a long run's length."""
        if self.config.record is not None:
            recording.write(self.config.record, exchange)
        if self.observed is not None:
            self.observed.note(exchange)
        wanted = self.config.report is not None or self.config.junit is not None
        if wanted and self._reports_due is None:
            loop = asyncio.get_running_loop()
            self._reports_due = loop.call_later(REPORT_DELAY_SECONDS, self.write_reports)

    @property
    def reports_pending(self) -> bool:
        return self._reports_due is not None

    def write_reports(self) -> None:
        if self._reports_due is not None:
            self._reports_due.cancel()
            self._reports_due = None
        if self.config.report is not None:
            reports.write_json(self.config.report, self.exchanges)
        if self.config.junit is not None:
            reports.write_junit(self.config.junit, self.exchanges)

    async def forward(self, request: web.Request) -> web.StreamResponse:
        route = request.match_info["route"]
        body = await request.read()
        key = request.headers.get(KEY_HEADER)
        sent = conformance.parse_json(body)
        exchange = Exchange(self.exchanges.next_number(), route, masked(key), body, sent)
        if self.relay is not None:
            exchange.request = self.relay.as_recorded(sent, body)
        self.exchanges.add(exchange)
        listed = _listed_error(route, request.method, key)
        if listed is None:
            self.found(exchange, conformance.check_request(route, body))
            if self.config.strict and exchange.departures:
                return self._refuse(exchange)
        upstream_body = self._hooked(exchange, body)
        headers = {k: v for k, v in request.headers.items() if _forwarded(k)}
        asked = Asked(request.method, route, headers, upstream_body, listed)
        # Shielded: a client that gives up does not take the exchange with it. The upstream
        # still answers and its job still ends in a webhook, which the proxy checks and passes on
        # as it would have reached the client directly.
        reply = await self._shielded(self._ask_upstream(exchange, asked))
        if reply is None:
            # The client gets what it would have got from the upstream: a dropped connection.
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=502)  # never sent: the connection is gone
        return reply

    async def _ask_upstream(self, exchange: Exchange, asked: Asked) -> web.Response | None:
        """Forward, check the answer (and a final answer's files) and build the client's reply;
        None when the upstream could not be heard."""
        url = f"{self.config.upstream}/{asked.route}"
        try:
            async with self.session.request(
                asked.method, url, headers=asked.headers, data=asked.body
            ) as answer:
                exchange.answer = await answer.read()
                exchange.status, exchange.content_type = answer.status, answer.content_type
                passed = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED}
                exchange.answer_headers = dict(passed)
        except aiohttp.ClientError as failure:
            exchange.error = f"{type(failure).__name__}: {failure}"
            self.settle(exchange)
            return None
        got = (answer.status, exchange.content_type, exchange.answer)
        exchange.request_id = exchange.ack_id()
        checked = conformance.check_answer(
            asked.route, exchange.sent, got, self.config.upstream, asked.listed
        )
        self.found(exchange, checked)
        if not exchange.awaits_webhook:
            await self._check_results(exchange, exchange.ack)  # a final answer, or an error
        passed.update(counts(exchange))
        if self.relay is not None and asked.route == UPLOAD.name and _succeeded(answer.status):
            exchange.answer = self.relay.stand_in(exchange.answer, self.public_url)
        reply = web.Response(status=answer.status, body=exchange.answer, headers=passed)
        self.settle(exchange)
        return reply

    async def _shielded(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` to its end even if the request that started it is cancelled (a client
        that went away, with handler cancellation on); only the proxy's shutdown cancels it."""
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await asyncio.shield(task)

    def _refuse(self, exchange: Exchange) -> web.Response:
        document = {
            "success": False,
            "message": STRICT_MESSAGE,
            "violations": [v.as_json() for v in exchange.departures],
        }
        exchange.status, exchange.content_type = 422, "application/json"
        exchange.answer = json.dumps(document).encode()
        exchange.results_checked = True
        headers = counts(exchange)
        self.settle(exchange)
        return web.json_response(document, status=422, headers=headers)

    def _hooked(self, exchange: Exchange, body: bytes) -> bytes:
        """The body with `resultWebhook` pointed at the proxy; as it came when there is none."""
        sent = exchange.sent
        if not isinstance(sent, dict) or not is_http_url(sent.get("resultWebhook")):
            return body  # a bad webhook goes as it came, to get the upstream's own refusal
        exchange.client_webhook = sent["resultWebhook"]
        hook = f"{self.public_url}{HOOK_PATH}/{exchange.number}/{exchange.hook_token}"
        return json.dumps({**sent, "resultWebhook": hook}, ensure_ascii=False).encode()

    async def webhook(self, request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        exchange = self.exchanges.get(number)
        given = request.match_info["token"].encode()
        if exchange is None or not hmac.compare_digest(given, exchange.hook_token.encode()):
            raise web.HTTPNotFound(text="no such exchange")  # a forged webhook goes nowhere
        body = await request.read()
        kind = request.headers.get("Content-Type", "application/json")
        status, reply = await self._shielded(self._deliver(exchange, body, kind))
        return web.Response(status=status, body=reply)

    async def _deliver(self, exchange: Exchange, body: bytes, kind: str) -> tuple[int, bytes]:
        """Check one webhook delivery, pass it on to the client's receiver and give back what
        the receiver answered: (status, body)."""
        first = not exchange.deliveries
        delivery = Delivery(body, None)
        exchange.deliveries.append(delivery)
        if first and isinstance(exchange.sent, dict):
            self.found(
                exchange,
                conformance.check_webhook(exchange.route, exchange.sent, exchange.ack, body),
            )
        document = conformance.parse_json(body)
        # Before the client hears of the job's end, so the count it gets covers the files too.
        await self._check_results(exchange, document if isinstance(document, dict) else {})
        assert exchange.client_webhook is not None
        headers = {"Content-Type": kind, **counts(exchange)}
        try:
            async with self.session.post(
                exchange.client_webhook, data=body, headers=headers
            ) as answer:
                delivery.client_status = answer.status
                reply = await answer.read()
        except aiohttp.ClientError as failure:
            # The receiver is down: the upstream sees a failed delivery and retries as it would.
            delivery.error = f"{type(failure).__name__}: {failure}"
            self.settle(exchange)
            return 502, b"the client's webhook receiver is unreachable"
        self.settle(exchange)
        return answer.status, reply

    def settle(self, exchange: Exchange) -> None:
        """Write down what the exchange learnt; once nothing more is expected of it, let go of
        its bodies, so a long-running proxy holds a summary per exchange and no more."""
        self.save(exchange)
        if exchange.done(self.config.fetches_results):
            exchange.let_go()

    async def _check_results(self, exchange: Exchange, document: dict[str, Any]) -> None:
        """Fetch and check each result URL of a finished job once (a failed job has none; a
        webhook the upstream sends again finds them checked)."""
        if exchange.results_started:
            return
        exchange.results_started = True
        # The webhook's URLs where it gives them: expiring URLs may be signed anew in it.
        given = document if isinstance(document.get("resultUrls"), list) else exchange.ack
        urls = given.get("resultUrls") or ([given["resultUrl"]] if "resultUrl" in given else [])
        finished = "creditCost" in document and document.get("success") is not False
        if not self.config.fetches_results or not _succeeded(exchange.status) or not finished:
            urls = []
        failures = document.get("failures", {})
        failed = {rules.without_query(url) for url in failures if isinstance(url, str)}
        sent = exchange.sent if isinstance(exchange.sent, dict) else {}
        for index, url in enumerate(urls):
            if rules.without_query(url) in failed:
                continue
            try:
                async with self.session.get(url) as answer:
                    fetched = Fetched(url, answer.status, answer.content_type, await answer.read())
            except aiohttp.ClientError as failure:
                fetched = Fetched(url, 0, "", str(failure).encode())
            exchange.results.append(fetched)
            if self.config.check_results:
                departures = conformance.check_result(
                    exchange.route,
                    sent,
                    index,
                    (fetched.status, fetched.content_type, fetched.body),
                    document,
                    exchange.request_id or "",
                )
                self.found(exchange, departures)
            if self.config.record is not None:
                recording.write_result(self.config.record, exchange, fetched)
            fetched.body = b""  # checked, and written if recording: held no longer
        exchange.results_checked = True  # only now is the exchange done

    async def store_upload(self, request: web.Request) -> web.Response:
        """A client's PUT to a stand-in storage URL: passed on to the real one as it came (no
        Content-Type added), its bytes' hash kept for the recording (proxy/uploads.py)."""
        number, token = int(request.match_info["number"]), request.match_info["token"]
        relayed = self.relay.target(number, token) if self.relay is not None else None
        if relayed is None:
            message = "no upload has this storage URL (the proxy relays the ones it handed out)"
            return web.json_response({"success": False, "message": message}, status=404)
        data = await request.content.read()  # as large as the upstream's storage takes
        kind = request.headers.get("Content-Type")
        async with self.session.put(
            relayed.storage_url,
            data=data,
            headers={"Content-Type": kind} if kind else {},
            skip_auto_headers=("Content-Type",),
        ) as answer:
            status, body = answer.status, await answer.read()
            passed = {k: v for k, v in answer.headers.items() if k.lower() not in DROPPED}
        if _succeeded(status):
            UploadRelay.stored(relayed, data)
        return web.Response(status=status, body=body, headers=passed)

    async def show(self, request: web.Request) -> web.Response:
        """Every exchange so far, with whether it is done (and in the reports): for tests and
        the curious."""
        check, written = self.config.fetches_results, not self.reports_pending
        shown = [{**e.summary(), "done": e.done(check) and written} for e in self.exchanges]
        return web.json_response(shown)


def counts(exchange: Exchange) -> dict[str, str]:
    """The headers the client gets: the exchange's violations and findings so far."""
    return {
        VIOLATIONS_HEADER: str(len(exchange.violations)),
        FINDINGS_HEADER: str(len(exchange.findings)),
    }


def is_http_url(value: object) -> bool:
    """Whether `value` is an http(s) URL with a host: what the proxy stands in for."""
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _succeeded(status: int | None) -> bool:
    return status is not None and 200 <= status < 300


def _listed_error(route: str, method: str, key: str | None) -> str | None:
    """The reference's listed error this request must get, if it is bound to get one (which
    methods a route takes is the mock's reading of the newer overview: wire.Route.methods)."""
    if method not in BY_NAME[route].methods:
        return INVALID_METHOD
    return MISSING_KEY if key is None else None


def _forwarded(header: str) -> bool:
    lowered = header.lower()
    return lowered in FORWARDED or lowered.startswith("x-mock-")


PROXY = web.AppKey("proxy", Proxy)


def create_proxy_app(config: ProxyConfig) -> web.Application:
    proxy = Proxy(config)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[PROXY] = proxy
    app.cleanup_ctx.append(proxy.lifetime)
    names = "|".join(route.name for route in API_ROUTES)
    app.router.add_route("*", f"/{{route:{names}}}", proxy.forward)
    app.router.add_post(HOOK_PATH + "/{number:[0-9]+}/{token}", proxy.webhook)
    app.router.add_get(EXCHANGES_PATH, proxy.show)
    app.router.add_put(STORAGE_PATH + "/{number:[0-9]+}/{token}", proxy.store_upload)
    return app
