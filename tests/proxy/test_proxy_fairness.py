"""The checking proxy grades as the contract suite does: a client's whole flow through the proxy
to a mock behind a front that changes only what the reference leaves open (tests/fairness.py)
gets 0 violations and exactly the findings due, and behind a front that breaks a documented
promise (tests/breakers.py) a violation of that promise's rule."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mock_server.contract.rulebook import ROUTES
from mock_server.contract.rules import best_first
from tests.breakers import DOCUMENTED, Breaking
from tests.conftest import FileServer, MakeMock, ServerFactory
from tests.fairness import VARIATIONS, Variation
from tests.proxy_client import MakeProxy, Through
from tests.support import Hooks, wait_until
from tests.tampering import Tamper, tampering_upstream

pytestmark = pytest.mark.fairness


async def _result(through: Through, hooks: Hooks, body: dict[str, Any], path: str) -> Any:
    """The webhook's payload for a queued request, as the client's receiver got it; None when
    the request was not taken."""
    status, raw, _ = await through.post_counted(path, body)
    if not 200 <= status < 300:
        return None
    request_id = json.loads(raw)["requestId"]

    async def arrived() -> bool:
        return request_id in hooks.bodies

    await wait_until(arrived)
    return json.loads(hooks.bodies[request_id])


async def client_flow(through: Through, song: str, hooks: Hooks) -> None:
    """What a client does: each route without a key and with another method, an analysis with
    raw features, a resize in both forms and an export in MP3 (two groups) and WAV; as far as
    the answers let it go."""
    for route in ROUTES:
        await through.post_counted(f"/{route}", {}, headers={})
        await through.post_counted(f"/{route}", b"", method="GET")
    hook = hooks.url()
    analyze = {"resultWebhook": hook, "sourceFileUrl": song, "features": ["raw_features"]}
    analysis = await _result(through, hooks, analyze, "/analyze")
    result = analysis["result"]
    resize = {
        "targetLengthSeconds": round(result["duration"] * 2 / 3),
        "similarity": result["similarity"],
        "boundaries": result["boundaries"],
    }
    await _result(through, hooks, {**resize, "resultWebhook": hook}, "/resize")
    status, raw, _ = await through.post_counted("/resize", resize)
    if 200 <= status < 300:
        best = [c["segmentsSeconds"] for c in best_first(json.loads(raw)["result"])]
        for fmt, groups in (("mp3_128", best[:2]), ("wav", best[:1])):
            export = {"resultWebhook": hook, "sourceFileUrl": song, "exportFormat": fmt}
            await _result(through, hooks, {**export, "segmentsGroups": groups}, "/export")
    await through.settled()


GradedFlow = Callable[[Tamper], Awaitable[Through]]


@pytest.fixture
def graded_flow(
    aiohttp_server: ServerFactory,
    make_mock: MakeMock,
    make_proxy: MakeProxy,
    files: FileServer,
    hooks: Hooks,
) -> GradedFlow:
    """A client's flow through a checking proxy to a mock behind a front applying a tamper."""

    async def run(tamper: Tamper) -> Through:
        front = await tampering_upstream(aiohttp_server, make_mock, tamper)
        through = await make_proxy(front.origin, check_results=True)
        await client_flow(through, files.url("/song.mp3"), hooks)
        return through

    return run


@pytest.mark.parametrize("variation", VARIATIONS, ids=[v.name for v in VARIATIONS])
async def test_the_proxy_reports_no_violation_where_the_reference_is_open(
    variation: Variation, graded_flow: GradedFlow, hooks: Hooks
) -> None:
    through = await graded_flow(variation.tamper)
    exchanges = list(through.proxy.exchanges)
    assert len(exchanges) == 2 * len(ROUTES) + 5, [e.summary() for e in exchanges]
    taken = [e.status for e in exchanges if e.route == "export" and e.request_id]
    assert len(taken) == 2, [e.summary() for e in exchanges]
    violations = [d.line() for e in exchanges for d in e.violations]
    assert violations == [], "\n".join(violations)
    assert {d.row for e in exchanges for d in e.findings} == variation.findings
    counts = [count for _, count in hooks.deliveries]
    assert set(counts) == {"0"}, counts
    assert len(hooks.findings) == len(counts)


@pytest.mark.parametrize("breaking", DOCUMENTED, ids=[b.name for b in DOCUMENTED])
async def test_the_proxy_reports_each_documented_promise_broken(
    breaking: Breaking, graded_flow: GradedFlow
) -> None:
    through = await graded_flow(breaking.tamper)
    violations = {(d.rule, d.row) for e in through.proxy.exchanges for d in e.violations}
    assert (breaking.rule, breaking.row) in violations, violations
