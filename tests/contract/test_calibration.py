"""Calibration end to end: a mock playing a non-default profile is observed by the contract
suite, and the profile it writes makes a fresh mock behave the same on those points."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from mock_server.contract.profile import Profile, sparse
from tests.support import ROOT, serve_process

# What the suite can tell apart in one run, each away from the mock's default.
PLAYED = {
    "pricing": "documented",
    "errors.invalid_key.status": 401,
    "messages.detail": "message",
    "webhooks.attempts": 2,
    "webhooks.backoffSeconds": [0.5],
}


def observe(profile: Path, written: Path) -> tuple[dict[str, Any], str]:
    """The contract suite against `serve --profile profile`; (the observed profile, its
    report)."""
    with serve_process("--profile", str(profile), "--quiet") as origin:
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "contract_tests",
                "-q",
                "-p",
                "no:cacheprovider",
                "--base-url",
                origin,
                "--api-key",
                "test-key",
                "--observed-profile",
                str(written),
                "--readings",
                "enforce",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    observed: dict[str, Any] = json.loads(written.read_text())
    return observed, run.stdout


def test_an_observed_profile_makes_a_fresh_mock_behave_the_same(tmp_path: Path) -> None:
    played = tmp_path / "played.json"
    played.write_text(json.dumps(sparse(PLAYED)))
    first, report = observe(played, tmp_path / "observed.json")
    seen = Profile.from_json(first)
    (gap,) = seen.webhook_backoff_seconds  # measured: the backoff and one delivery's time
    assert 0.5 <= gap < 1.0, f"webhooks.backoffSeconds: observed {gap}"
    for key, value in PLAYED.items():
        if key != "webhooks.backoffSeconds":
            assert seen.value_at(key) == value, key
    # Compared with what the mock publishes at /_mock/fidelity: the profile it plays.
    assert 'confirmed: pricing = "documented"' in report
    assert "errors.missing_key.status = 401" in report

    again, _ = observe(tmp_path / "observed.json", tmp_path / "again.json")
    replayed = Profile.from_json(again)
    for key in ("pricing", "errors.invalid_key.status", "messages.detail", "webhooks.attempts"):
        assert replayed.value_at(key) == seen.value_at(key), key
