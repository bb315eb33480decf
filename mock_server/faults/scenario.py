"""A scenario as chosen: a catalogue entry with its parameters, read from `NAME[;param=value]`.

A client chooses scenarios per request (`X-Mock-Scenario: NAME[;param=value],...`); the command
line and the control API write them the same way. Parameters are bounded here, so a typo cannot
ask for a million deliveries.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from mock_server.faults.catalogue import CATALOGUE, Fault, Param, ScenarioSpec
from mock_server.faults.edges import EDGE_CHOICES, EDGE_RANGES

HEADER = "X-Mock-Scenario"


class ScenarioError(ValueError):
    """A scenario that cannot be chosen: unknown name, unknown parameter, wrong route."""


# The largest value each numeric parameter takes: seconds up to a year of mock time, and
# bounds that keep a typo from asking for a million deliveries.
PARAM_MAX = {
    "times": 100.0,
    "status": 599.0,
    "group": 1000.0,
    "processed": 1.0,
    **{name: high for name, (_, high) in EDGE_RANGES.items()},
}
DEFAULT_PARAM_MAX = 365 * 86400.0
# The smallest, where 0 would make no valid payload; and the words a text parameter may be.
PARAM_MIN = {name: low for name, (low, _) in EDGE_RANGES.items()}
PARAM_CHOICES: dict[str, tuple[str, ...]] = dict(EDGE_CHOICES)


def _param_value(name: str, default: Param, text: str) -> Param:
    if isinstance(default, str):
        if any(mark in text for mark in ";,="):
            raise ScenarioError(f"parameter {name} may not contain ; , or =")
        choices = PARAM_CHOICES.get(name)
        if choices is not None and text not in choices:
            raise ScenarioError(
                f"parameter {name} must be one of {', '.join(choices)}, not {text!r}"
            )
        return text
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"parameter {name} must be a number, not {text!r}") from None
    low, limit = PARAM_MIN.get(name, 0.0), PARAM_MAX.get(name, DEFAULT_PARAM_MAX)
    if not low <= value <= limit:  # NaN fails this too
        raise ScenarioError(
            f"parameter {name} must be a number from {low:g} to {limit:g}, not {text}"
        )
    return value


def _shown(value: Param) -> str:
    """A parameter as `describe` writes it: exactly, so that `parse` reads back the same."""
    if isinstance(value, str):
        return value
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True)
class Scenario:
    spec: ScenarioSpec
    params: Mapping[str, Param]

    @property
    def fault(self) -> Fault:
        return self.spec.fault

    def number(self, name: str) -> float:
        value = self.params[name]
        assert isinstance(value, float)
        return value

    def text(self, name: str) -> str:
        return str(self.params[name])

    def describe(self) -> str:
        return self._described

    @functools.cached_property
    def _described(self) -> str:
        """Written once: the journal describes a request's scenarios on every request, and a
        header's are shared by every request that sends it (2% of the loop under wrk)."""
        shown = [f"{name}={_shown(value)}" for name, value in self.params.items()]
        return ";".join([self.fault.value, *shown])

    @classmethod
    def named(cls, name: str, params: Mapping[str, object] | None = None) -> Scenario:
        """`name` with `params` over its defaults; ScenarioError naming what is wrong."""
        try:
            spec = CATALOGUE[Fault(name)]
        except ValueError:
            known = ", ".join(fault.value for fault in Fault)
            raise ScenarioError(f"unknown scenario {name!r}; known: {known}") from None
        values = dict(spec.params)
        for param, value in (params or {}).items():
            if param not in spec.params:
                takes = ", ".join(spec.params) or "no parameters"
                raise ScenarioError(f"scenario {name} takes {takes}, not {param!r}")
            values[param] = _param_value(param, spec.params[param], str(value))
        return cls(spec, values)

    @classmethod
    def parse(cls, text: str) -> Scenario:
        """`NAME[;param=value]...`, as in the header and on the command line."""
        name, *pairs = (part.strip() for part in text.split(";"))
        params: dict[str, str] = {}
        for pair in filter(None, pairs):
            param, equals, value = pair.partition("=")
            if not equals:
                raise ScenarioError(f"scenario parameter {pair!r} must be written param=value")
            params[param.strip()] = value.strip()
        return cls.named(name, params)

    def applies_to(self, route: str) -> bool:
        return route in self.spec.routes


def parse_header(value: str, route: str) -> list[Scenario]:
    """Comma-separated scenarios from the header, each of which must apply to `route`."""
    return list(_parsed_header(value, route))


@functools.lru_cache(maxsize=256)
def _parsed_header(value: str, route: str) -> tuple[Scenario, ...]:
    """`parse_header`'s scenarios, parsed once per header a client sends (it sends the same few
    again and again): parsing took 3% of the loop under wrk, and the jobs kept held two new
    Scenario objects each. A header that does not parse raises, and is not kept."""
    chosen = tuple(Scenario.parse(part) for part in value.split(",") if part.strip())
    for scenario in chosen:
        if not scenario.applies_to(route):
            routes = ", ".join(sorted(scenario.spec.routes))
            raise ScenarioError(f"scenario {scenario.fault} applies to {routes}, not {route}")
    return chosen
