"""Scenarios, for any name and parameters: their text round-trips, and bad parameters are
refused by name.

Every test is derandomized (same examples on every run) and keeps no example database. A property
that once exposed a bug keeps the failing case as an explicit @example.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from mock_server.faults.catalogue import CATALOGUE, Fault
from mock_server.faults.scenario import Scenario, ScenarioError
from tests.strategies import bad_parameters, fixed, scenarios, six_digit_numbers


@fixed(200)
@given(scenario=scenarios(six_digit_numbers))
def test_scenario_describe_parses_back(scenario: Scenario) -> None:
    assert Scenario.parse(scenario.describe()) == scenario
    assert Scenario.parse(f" {scenario.describe().replace(';', ' ; ')} ") == scenario


@fixed(100)
@given(scenario=scenarios(st.floats(allow_nan=False, allow_infinity=False)))
@example(scenario=Scenario.named("slow", {"seconds": 1234567}))
def test_scenario_describe_parses_back_for_any_finite_number(scenario: Scenario) -> None:
    assert Scenario.parse(scenario.describe()) == scenario


@fixed(200)
@given(name=st.text(max_size=20), params=st.lists(st.text(max_size=10), max_size=3))
def test_unknown_scenarios_are_refused(name: str, params: list[str]) -> None:
    assume(";" not in name and name.strip() not in {f.value for f in Fault})
    with pytest.raises(ScenarioError):
        Scenario.parse(";".join([name, *params]))


@fixed(200)
@given(text=bad_parameters())
def test_bad_scenario_parameters_are_refused(text: str) -> None:
    with pytest.raises(ScenarioError):
        Scenario.parse(text)


@fixed(30)
@given(
    fault=st.sampled_from(
        [f for f in Fault if any(not isinstance(v, str) for v in CATALOGUE[f].params.values())]
    ),
    value=st.sampled_from(["nan", "inf", "-inf", "1e400", "NaN", "Infinity"]),
)
@example(fault=Fault.RATE_LIMITED, value="nan")
@example(fault=Fault.SLOW, value="-1")
@example(fault=Fault.WEBHOOK_DUPLICATE, value="1000000")
def test_scenario_numbers_outside_their_range_are_refused(fault: Fault, value: str) -> None:
    name = next(k for k, v in CATALOGUE[fault].params.items() if not isinstance(v, str))
    with pytest.raises(ScenarioError):
        Scenario.parse(f"{fault.value};{name}={value}")
