"""Namespaces: several suites sharing one running mock, each with a journal, sinks, armed
scenarios and per-test answers, webhook log, keys and reset of its own.

A team often runs one `serve` for several CI jobs or developers; without namespaces one suite's
reset wipes another's journal. A request is in the namespace its `X-Mock-Namespace` header names;
without the header, in the namespace that owns its API key (keys added in a namespace belong to
it, so a client under test needs no extra header), or, for a result download, in its job's; else
in the default namespace, as before namespaces existed.

Mock time stays one clock for the whole server: advancing it in one namespace advances it for
all (their held webhooks, rate and usage windows and result lifetimes move with it). Run-wide
scenarios (`serve --scenario`) apply in every namespace.

A server shared for weeks would keep every namespace it ever saw (one CI job each: 5,000 of them
took a `serve` from 64 MB to 157 MB), so a named namespace nobody has used for `idle_seconds` of
WALL time expires with everything it owns; mock time cannot expire it, since one suite's
`clock.advance` must not end another's namespace. The default namespace never expires.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from mock_server.answers import AnswerBook
from mock_server.faults.arming import Arming, ScenarioBook
from mock_server.journal import Journal
from mock_server.sinks import WebhookSinks

HEADER = "X-Mock-Namespace"
QUERY = "namespace"  # the same, for a sink's URL: a webhook carries no header of ours
DEFAULT = ""
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_NAMESPACES = 1_000
REMEMBERED_EXPIRIES = 10_000  # names kept to say "it had expired" when one comes back


class NamespaceError(ValueError):
    """A namespace name the mock cannot use."""


def checked_name(text: str) -> str:
    if not NAME.fullmatch(text):
        raise NamespaceError(
            f"{text!r} is not a namespace name: 1-64 of A-Z a-z 0-9 . _ -, starting with a "
            "letter or digit"
        )
    return text


@dataclass
class Space:
    """What one namespace owns of the mock's state (its jobs, keys and webhook attempts are
    tagged with its name where they live)."""

    name: str
    scenarios: ScenarioBook
    journal: Journal = field(default_factory=Journal)
    sinks: WebhookSinks = field(default_factory=WebhookSinks)
    answers: AnswerBook = field(default_factory=AnswerBook)

    def reset(self) -> None:
        self.journal.reset()
        self.sinks.reset()
        self.scenarios.reset()
        self.answers.reset()


class Namespaces:
    """The namespaces in use; a name is created on first use, up to MAX_NAMESPACES, and forgotten
    once idle (`idle`, `forget`)."""

    def __init__(
        self,
        for_the_run: Iterable[Arming] = (),
        idle_seconds: float | None = None,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self._for_the_run = tuple(for_the_run)
        self._spaces = {DEFAULT: self._new(DEFAULT)}
        self.idle_seconds = idle_seconds  # None: never expire
        self._now = now
        self._last_used: dict[str, float] = {}
        self._expired: OrderedDict[str, float] = OrderedDict()  # name -> when it expired
        self._next_look = 0.0

    def _new(self, name: str) -> Space:
        return Space(name, ScenarioBook(self._for_the_run))

    @property
    def default(self) -> Space:
        return self._spaces[DEFAULT]

    def get(self, name: str) -> Space:
        space = self._spaces.get(name)
        if space is None:
            if len(self._spaces) > MAX_NAMESPACES:
                raise NamespaceError(f"more than {MAX_NAMESPACES} namespaces are in use")
            space = self._spaces[name] = self._new(checked_name(name))
        if name != DEFAULT:
            self._last_used[name] = self._now()
        return space

    def named_in_use(self) -> bool:
        """Whether a namespace other than the default has been used."""
        return len(self._spaces) > 1

    def idle(self) -> list[str]:
        """The named namespaces unused for longer than `idle_seconds` of wall time. Looked for
        at most every tenth of that (and every minute at most), not on every request: a
        namespace lives at most 10% past its time, and a request never walks them all."""
        now = self._now()
        if self.idle_seconds is None or now < self._next_look:
            return []
        self._next_look = now + min(60.0, self.idle_seconds / 10)
        cutoff = now - self.idle_seconds
        return [name for name, used in self._last_used.items() if used < cutoff]

    def forget(self, name: str) -> None:
        """Drop an expired namespace; a request naming it again starts a fresh one."""
        self._spaces.pop(name, None)
        self._last_used.pop(name, None)
        self._expired[name] = self._now()
        while len(self._expired) > REMEMBERED_EXPIRIES:
            self._expired.popitem(last=False)

    def expired_before(self, name: str) -> bool:
        """Whether `name` had expired and is now in use again (said once)."""
        return name in self._spaces and self._expired.pop(name, None) is not None

    def __len__(self) -> int:
        return len(self._spaces)

    def __contains__(self, name: object) -> bool:
        return name in self._spaces

    def reset_all(self) -> None:
        """Every namespace back to the start, the named ones forgotten."""
        self._spaces = {DEFAULT: self._spaces[DEFAULT]}
        self._last_used.clear()
        self.default.reset()
