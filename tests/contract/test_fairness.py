"""The contract suite is fair: against a mock behind a front that changes only what the reference
leaves open (tests/fairness.py), it passes, and reports a finding exactly where the target
departs from a reading of the reference's examples. Its other half: behind a front that breaks
one more documented promise (tests/breakers.py's DOCUMENTED), it fails exactly the tests of that
promise, citing the reference's words; tests/contract/test_contract_suite.py has the rest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mock_server.contract.fidelity import entry
from tests.breakers import DOCUMENTED, Breaking
from tests.conftest import MakeMock, ServerFactory
from tests.fairness import VARIATIONS, Variation
from tests.support import reference_words, run_suite, words
from tests.tampering import tampering_upstream

pytestmark = pytest.mark.fairness


@pytest.mark.parametrize("variation", VARIATIONS, ids=[v.name for v in VARIATIONS])
def test_each_variation_cites_the_reference_word_for_word(variation: Variation) -> None:
    assert words(variation.cites) in reference_words(), variation.cites


@pytest.mark.parametrize("variation", VARIATIONS, ids=[v.name for v in VARIATIONS])
async def test_the_suite_passes_a_target_that_differs_only_where_the_reference_is_open(
    variation: Variation, aiohttp_server: ServerFactory, make_mock: MakeMock, tmp_path: Path
) -> None:
    front = await tampering_upstream(aiohttp_server, make_mock, variation.tamper)
    run = await run_suite(tmp_path, "--base-url", front.origin, "--api-key", "test-key")
    failed = sorted(name for name, outcome in run.outcomes.items() if outcome != "passed")
    assert run.code == 0, f"{variation.name}: {failed}\n{run.output[-6000:]}"
    assert run.finding_rows == variation.findings, run.output[-4000:]


FOUND = [v for v in VARIATIONS if v.findings]


@pytest.mark.parametrize("variation", FOUND, ids=[v.name for v in FOUND])
async def test_enforced_readings_fail_each_reading_drift(
    variation: Variation, aiohttp_server: ServerFactory, make_mock: MakeMock, tmp_path: Path
) -> None:
    front = await tampering_upstream(aiohttp_server, make_mock, variation.tamper)
    options = ("--base-url", front.origin, "--api-key", "test-key", "--readings", "enforce")
    run = await run_suite(tmp_path, *options)
    assert run.code == 1, run.output[-4000:]
    assert not run.findings, run.output[-4000:]
    for row in variation.findings:
        assert f"{row}" in run.output


@pytest.mark.parametrize("breaking", DOCUMENTED, ids=[b.name for b in DOCUMENTED])
async def test_the_suite_fails_each_documented_promise_broken_citing_it(
    breaking: Breaking,
    aiohttp_server: ServerFactory,
    make_mock: MakeMock,
    tmp_path: Path,
) -> None:
    front = await tampering_upstream(aiohttp_server, make_mock, breaking.tamper)
    report = tmp_path / "report.json"
    options = ("--base-url", front.origin, "--api-key", "test-key", "-k", breaking.select)
    run = await run_suite(tmp_path, *options, "--report-json", str(report))
    failed = {name for name, outcome in run.outcomes.items() if outcome in ("failure", "error")}
    assert (run.code, frozenset(failed)) == (1, breaking.failing), run.output[-4000:]
    quote = entry(breaking.row).quotes[0]
    assert f"breaks {breaking.row} (documented): “{quote}" in run.output
    failures = json.loads(report.read_text())["failures"]
    assert quote in [f["reference"][0] for f in failures if f["row"] == breaking.row]
