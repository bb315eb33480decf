"""Armed scenarios: a scenario waiting for the next N requests of a route or key
(`POST /_mock/scenarios`), or for every request of the run (`serve --scenario`), and the book
that hands each request the ones it gets.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from mock_server.faults.catalogue import EVERY_ROUTE
from mock_server.faults.scenario import Scenario, ScenarioError


@dataclass(frozen=True)
class Arming:
    """A request to arm `scenario` for `count` requests (None: every one) of a route and key."""

    scenario: Scenario
    count: int | None = 1
    route: str | None = None
    key: str | None = None

    @classmethod
    def from_json(cls, item: object, default_count: int | None = 1) -> Arming:
        """`{"name": "slow", "params": {"seconds": 5}, "count": 2, "route": "/analyze",
        "key": "k"}`; `name` may carry its parameters as in the header, `"slow;seconds=5"`."""
        if isinstance(item, str):
            return cls(Scenario.parse(item), default_count)
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ScenarioError(
                'a scenario is an object with a "name" (or a NAME;param=value string)'
            )
        params = item.get("params")
        if params is None:
            params = {}
        elif not isinstance(params, dict):
            raise ScenarioError("params must be an object")
        for name, value in params.items():
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ScenarioError(f"parameter {name} must be a number or a string")
        parsed = Scenario.parse(item["name"])
        scenario = Scenario.named(parsed.fault, {**parsed.params, **params})
        count = item.get("count", default_count)
        if count is not None and (isinstance(count, bool) or not isinstance(count, int)):
            raise ScenarioError("count must be an integer (or null for every request)")
        route, key = item.get("route"), item.get("key")
        if route is not None and route not in EVERY_ROUTE:
            raise ScenarioError(f"route must be one of {', '.join(sorted(EVERY_ROUTE))}")
        if key is not None and not isinstance(key, str):
            raise ScenarioError("key must be a string")
        return cls(scenario, count, route, key)


@dataclass
class ArmedScenario:
    """A scenario waiting for requests: `remaining` None means every matching request."""

    id: int
    scenario: Scenario
    remaining: int | None
    route: str | None = None
    key: str | None = None

    def matches(self, route: str, key: str | None) -> bool:
        return (
            self.scenario.applies_to(route)
            and (self.route is None or self.route == route)
            and (self.key is None or self.key == key)
            and (self.remaining is None or self.remaining > 0)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scenario": self.scenario.describe(),
            "remaining": self.remaining,
            "route": self.route,
            "key": self.key,
        }


class ScenarioBook:
    """The armed scenarios; those given for the whole run survive every reset."""

    def __init__(self, for_the_run: Iterable[Arming] = ()) -> None:
        self._ids = itertools.count(1)
        self._for_the_run = [self._armed_from(replace(a, count=None)) for a in for_the_run]
        self._armed: list[ArmedScenario] = list(self._for_the_run)

    def _armed_from(self, arming: Arming) -> ArmedScenario:
        scenario, route = arming.scenario, arming.route
        if arming.count is not None and arming.count < 1:
            raise ScenarioError("count must be at least 1 (or null for every request)")
        if route is not None and not scenario.applies_to(route):
            routes = ", ".join(sorted(scenario.spec.routes))
            raise ScenarioError(f"scenario {scenario.fault} applies to {routes}, not {route}")
        return ArmedScenario(next(self._ids), scenario, arming.count, route, arming.key)

    def arm(self, arming: Arming) -> ArmedScenario:
        armed = self._armed_from(arming)
        self._armed.append(armed)
        return armed

    def take(self, route: str, key: str | None) -> list[Scenario]:
        """The armed scenarios this request gets, each spending one of its remaining uses."""
        taken = []
        for armed in self._armed:
            if armed.matches(route, key):
                if armed.remaining is not None:
                    armed.remaining -= 1
                taken.append(armed.scenario)
        self._armed = [a for a in self._armed if a.remaining is None or a.remaining > 0]
        return taken

    def armed(self) -> list[ArmedScenario]:
        return list(self._armed)

    def reset(self) -> None:
        self._armed = list(self._for_the_run)
