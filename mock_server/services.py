"""Everything one running mock owns, in one object under one typed app key."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from faker import Faker

from mock_server.accounts import Accounts
from mock_server.clock import MockClock
from mock_server.faults.arming import ScenarioBook
from mock_server.jobs.artifacts import ArtifactStore
from mock_server.jobs.recordings import Replays
from mock_server.jobs.runner import JobRunner
from mock_server.journal import Journal
from mock_server.namespaces import DEFAULT, Namespaces
from mock_server.ratelimit import RateLimiter
from mock_server.settings import Settings
from mock_server.sinks import WebhookSinks
from mock_server.webhooks import WebhookDispatcher

ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


class RequestIds:
    """32-character [a-z0-9] ids, the shape of the reference's examples; a seed makes the sequence
    reproducible."""

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self._faker = Faker()
        self.reset()

    def reset(self) -> None:
        self._faker.seed_instance(self.seed if self.seed is not None else secrets.randbits(64))

    def next(self) -> str:
        if self.seed is None:
            return _unseeded_id()
        # Faker's own seeded generator, without lexify: 6 µs an id instead of 39 (measured).
        return "".join(self._faker.random.choices(ID_ALPHABET, k=32))


# Bytes to ID_ALPHABET, 6 bytes to a character; the 40 bytes past 6 x 36 are dropped, so every
# character is as likely as every other.
_TO_ALPHABET = bytes(ord(ID_ALPHABET[n % len(ID_ALPHABET)]) for n in range(256))
_PAST_ALPHABET = bytes(range(6 * len(ID_ALPHABET), 256))


def _unseeded_id() -> str:
    """An id no seed asked to repeat, from os.urandom: 1 µs against the seeded path's 6, which
    was 5% of the loop under wrk (a Python call to random() for each of its 32 characters)."""
    while True:
        drawn = os.urandom(48).translate(_TO_ALPHABET, _PAST_ALPHABET)  # 40.5 kept on average
        if len(drawn) >= 32:
            return drawn[:32].decode()


@dataclass
class Services:
    settings: Settings
    clock: MockClock
    accounts: Accounts
    limiter: RateLimiter
    artifacts: ArtifactStore
    webhooks: WebhookDispatcher
    jobs: JobRunner
    ids: RequestIds
    spaces: Namespaces
    results_port: int = 0  # where the results listener was bound
    replays: Replays | None = None  # serve --replay: recordings answering matching requests

    # The default namespace's: what a mock used by one suite has.
    @property
    def journal(self) -> Journal:
        return self.spaces.default.journal

    @property
    def sinks(self) -> WebhookSinks:
        return self.spaces.default.sinks

    @property
    def scenarios(self) -> ScenarioBook:
        return self.spaces.default.scenarios

    def reset(self, namespace: str = DEFAULT) -> None:
        """Back to a fresh start: what a test wants between tests. In a named namespace, or
        once one is in use, only that namespace's state: the clock, the request id sequence
        and the configured keys' rate windows are everyone's."""
        if namespace == DEFAULT and not self.spaces.named_in_use():
            self.jobs.reset()
            self.clock.reset()
            self.accounts.reset()
            self.limiter.reset()
            self.artifacts.reset()
            self.webhooks.reset()
            self.ids.reset()
            self.spaces.reset_all()
            return
        request_ids = self.jobs.reset(namespace)
        self.artifacts.remove(request_ids)
        self.limiter.forget(self.accounts.reset_namespace(namespace, request_ids))
        self.webhooks.reset(namespace)
        self.spaces.get(namespace).reset()
