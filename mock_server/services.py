"""Everything one running mock owns, in one object under one typed app key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from faker import Faker

from mock_server.accounts import Accounts
from mock_server.artifacts import ArtifactStore
from mock_server.clock import MockClock
from mock_server.jobs import JobRunner
from mock_server.journal import Journal
from mock_server.ratelimit import RateLimiter
from mock_server.scenarios import ScenarioBook
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
        # Faker's own seeded generator, without lexify: 6 µs an id instead of 39 (measured).
        return "".join(self._faker.random.choices(ID_ALPHABET, k=32))


@dataclass
class Services:
    settings: Settings
    clock: MockClock
    accounts: Accounts
    limiter: RateLimiter
    journal: Journal
    artifacts: ArtifactStore
    webhooks: WebhookDispatcher
    jobs: JobRunner
    ids: RequestIds
    sinks: WebhookSinks
    scenarios: ScenarioBook
    results_port: int = 0  # where the results listener was bound

    def reset(self) -> None:
        """Back to a fresh start: what a test wants between tests."""
        self.jobs.reset()
        self.clock.reset()
        self.accounts.reset()
        self.limiter.reset()
        self.journal.reset()
        self.artifacts.reset()
        self.webhooks.reset()
        self.ids.reset()
        self.sinks.reset()
        self.scenarios.reset()
