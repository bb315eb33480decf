"""`make stress`: the suites that run asynchronous code, several rounds in a row with every core
busy, so a test that waits on timing instead of on a condition fails here rather than on a busy
CI machine.

A test that sleeps 0.2 s and then looks, or expects one worker to finish before another, passes
on an idle laptop and flakes once the machine is loaded. With one busy-looping process per core
(`os.cpu_count()`), the server's event loop, its analysis processes and the test itself all get
a fraction of a core, and such a test shows itself within three rounds. Each pytest run is under
coreutils `timeout` (15 min, or what is left of the 45 min budget), so a hang fails instead of
blocking CI. `STRESS_ROUNDS=N` changes the number of rounds (default 3).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from bench import ROOT

EXAMPLE = ROOT / "examples" / "client_project"
DEFAULT_ROUNDS = 3
SUITE_TIMEOUT = 15 * 60  # seconds; a normal round takes a few minutes even under the hog
TOTAL_BUDGET = 45 * 60
KILL_GRACE = 30  # seconds between timeout's SIGTERM and its SIGKILL
PYTEST_FLAGS = ("-q", "-p", "no:cacheprovider")
SERVICE_TESTS = (
    "tests/jobs/test_runner.py",
    "tests/web/test_gate.py",
    "tests/faults/test_scenarios.py",
    "tests/faults/test_peer_faults.py",
    "tests/test_load.py",
    "tests/jobs/test_restart.py",
    "tests/testing/test_plugin.py",
    "tests/test_sinks.py",
    "tests/contract/test_control_openapi.py",
    "tests/test_docs.py",
    "tests/test_server.py",
    "tests/proxy/test_proxy.py",
    "tests/proxy/test_proxy_rules.py",
    "tests/proxy/test_proxy_observed.py",
    "tests/jobs/test_replay.py",
)

# Each hog spins until its parent is gone, so even a runner killed with SIGKILL leaves none behind;
# the inner loop keeps the check to a few times a second.
_HOG = """
import os
parent = os.getppid()
while os.getppid() == parent:
    for _ in range(1_000_000):
        pass
"""

_COUNT = re.compile(r"(\d+) (passed|failed|errors?)\b")
TIMED_OUT = 124  # coreutils timeout's exit status when the time ran out


@dataclass(frozen=True)
class Suite:
    name: str
    command: tuple[str, ...]
    cwd: Path


@dataclass(frozen=True)
class Outcome:
    suite: str
    returncode: int | None  # None: not started, the time budget was spent
    passed: int
    failed: int
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def describe(self) -> str:
        if self.returncode is None:
            return f"{self.suite}: not run, the {TOTAL_BUDGET // 60} min budget is spent"
        if self.returncode == TIMED_OUT:  # killed: pytest wrote no summary to count from
            return f"{self.suite}: TIMED OUT after {self.seconds:.0f} s"
        verdict = "ok" if self.ok else f"FAILED (pytest exit {self.returncode})"
        counts = f"{self.passed} passed, {self.failed} failed in {self.seconds:.0f} s"
        return f"{self.suite}: {counts}, {verdict}"


def suites() -> list[Suite]:
    """The two suites exactly as `make example` and a direct pytest run start them."""
    main_pytest = str(Path(sys.executable).with_name("pytest"))
    return [
        Suite("example", (".venv/bin/pytest", *PYTEST_FLAGS), EXAMPLE),
        Suite("service", (main_pytest, *PYTEST_FLAGS, *SERVICE_TESTS), ROOT),
    ]


@contextmanager
def cpu_hog(processes: int) -> Iterator[None]:
    """One busy-looping process per core for the duration of the block, killed however it ends."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", _HOG], stderr=subprocess.DEVNULL)
        for _ in range(processes)
    ]
    try:
        yield
    finally:
        for hog in hogs:
            hog.kill()
        for hog in hogs:
            hog.wait()


def counts(output: str) -> tuple[int, int]:
    """Passed and failed (errors included) from pytest's last summary line; zeros if none."""
    for line in reversed(output.splitlines()):
        found = dict((kind.rstrip("s"), int(n)) for n, kind in _COUNT.findall(line))
        if found and " in " in line:
            return found.get("passed", 0), found.get("failed", 0) + found.get("error", 0)
    return 0, 0


def run_suite(suite: Suite, limit: float) -> Outcome:
    """Run one suite under `timeout`, echoing its output, and read its counts."""
    command = ["timeout", f"--kill-after={KILL_GRACE}", f"{limit:.0f}", *suite.command]
    started = time.monotonic()
    lines: list[str] = []
    # timeout puts itself and pytest in a process group of their own, so a Ctrl-C reaches only
    # this runner: it passes the signal on below, and timeout to the whole group.
    process = subprocess.Popen(
        command, cwd=suite.cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            lines.append(line)
        returncode = process.wait()
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait()
    passed, failed = counts("".join(lines))
    return Outcome(suite.name, returncode, passed, failed, time.monotonic() - started)


def run_round(number: int, rounds: int, deadline: float) -> bool:
    outcomes: list[Outcome] = []
    for suite in suites():
        left = deadline - time.monotonic()
        print(f"\n--- stress round {number}/{rounds}: {suite.name} ---", flush=True)
        if left < 1:
            outcomes.append(Outcome(suite.name, None, 0, 0, 0.0))
            continue
        outcomes.append(run_suite(suite, min(SUITE_TIMEOUT, left)))
    ok = all(outcome.ok for outcome in outcomes)
    print(f"\nstress round {number}/{rounds}: {'passed' if ok else 'FAILED'}")
    for outcome in outcomes:
        print(f"  {outcome.describe()}")
    sys.stdout.flush()
    return ok


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that kill the children


def main() -> int:
    rounds = int(os.environ.get("STRESS_ROUNDS", DEFAULT_ROUNDS))
    hog_size = os.cpu_count() or 1
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    started = time.monotonic()
    deadline = started + TOTAL_BUDGET
    print(f"stress: {rounds} rounds under a {hog_size}-process CPU hog", flush=True)
    try:
        with cpu_hog(hog_size):
            results = [run_round(n, rounds, deadline) for n in range(1, rounds + 1)]
    except KeyboardInterrupt:
        print("\nstress: interrupted; the hog and the running suite are stopped")
        return 130
    passed = sum(results)
    print(
        f"\nstress: {passed}/{rounds} rounds passed under a {hog_size}-process CPU hog"
        f" in {time.monotonic() - started:.0f} s"
    )
    return 0 if passed == rounds else 1


if __name__ == "__main__":
    sys.exit(main())
