"""Profiles as files: loaded from `serve --profile`, AUDJUST_MOCK_PROFILE and the plugin's ini
option; a bad one refused at start with a message naming the key; a flag given as well wins."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mock_server.accounts import PricingRule
from mock_server.cli import build_parser
from mock_server.contract.profile import Profile, ProfileError, keys, sparse
from mock_server.flags import settings_from
from mock_server.settings import Settings
from tests.support import serve_process


def _file(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(document))
    return path


def _settings(argv: list[str]) -> Settings:
    return settings_from(build_parser().parse_args(["serve", *argv]))


def test_the_defaults_are_a_profile_the_schema_accepts_and_round_trip() -> None:
    document = Profile().to_json()
    assert Profile.from_json(document) == Profile()
    assert Profile.from_json({"version": 1}) == Profile()
    assert set(keys()) == {key for key in keys() if Profile().value_at(key) is not None}


def test_a_sparse_file_changes_only_its_keys(tmp_path: Path) -> None:
    path = _file(tmp_path, sparse({"errors.rate_limited.status": 503, "webhooks.attempts": 5}))
    chosen = _settings(["--profile", str(path)]).profile
    assert chosen.value_at("errors.rate_limited.status") == 503
    assert chosen.value_at("errors.rate_limited.headers") == ["Retry-After"]  # kept
    assert chosen.webhook_attempts == 5 and chosen.pricing is PricingRule.EXAMPLES


def test_a_flag_wins_over_the_profile_and_the_variable_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, sparse({"pricing": "documented", "webhooks.attempts": 2}))
    monkeypatch.setenv("AUDJUST_MOCK_PROFILE", str(path))
    from_variable = _settings([]).profile
    assert from_variable.pricing is PricingRule.DOCUMENTED and from_variable.webhook_attempts == 2
    overridden = _settings(["--pricing", "examples"]).profile
    assert overridden.pricing is PricingRule.EXAMPLES and overridden.webhook_attempts == 2


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ({"pricing": "examples"}, "'version' is a required property"),
        ({"version": 2}, "version: 1 was expected"),
        (sparse({"pricng": "examples"}), "pricng: not a profile key"),
        (sparse({"webhooks.attemps": 2}), "webhooks.attemps: not a profile key"),
        (sparse({"errors.rate_limited.status": 99}), "errors.rate_limited.status: 99 is less"),
        (sparse({"errors.missing_key.headers": ["Allow"]}), "errors.missing_key.headers: 'Allow'"),
        (sparse({"resize.order": "random"}), "resize.order: 'random' is not one of"),
    ],
)
def test_a_bad_profile_names_the_key(document: Any, named: str) -> None:
    with pytest.raises(ProfileError, match=None) as refused:
        Profile.from_json(document)
    assert named in str(refused.value)


def test_an_unknown_key_gets_a_suggestion() -> None:
    with pytest.raises(ProfileError) as refused:
        Profile.from_json(sparse({"webhooks.attemps": 2}))
    assert "did you mean attempts?" in str(refused.value)


def test_serve_refuses_a_bad_profile_at_start(tmp_path: Path) -> None:
    path = _file(tmp_path, sparse({"usage.refuse": "sometimes"}))
    done = subprocess.run(
        [sys.executable, "-m", "mock_server", "serve", "--profile", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2, done.stderr
    assert "usage.refuse: 'sometimes' is not one of" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_says_which_keys_its_profile_changes(tmp_path: Path) -> None:
    path = _file(tmp_path, sparse({"pricing": "documented"}))
    with subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--profile", str(path)],
        stdout=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            lines = [process.stdout.readline() for _ in range(3)]
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert any('profile: pricing="documented"' in line for line in lines), lines


def test_the_plugin_reads_a_profile_from_its_ini_file(pytester: pytest.Pytester) -> None:
    pytester.makefile(".json", profile=json.dumps(sparse({"errors.missing_key.status": 400})))
    pytester.makeini("[pytest]\naudjust_mock_profile = profile.json\n")
    pytester.makepyfile(
        """
        import requests

        def test_missing_key(audjust_mock):
            answer = requests.post(f"{audjust_mock.base_url}/analyze", json={}, timeout=10)
            assert answer.status_code == 400
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_the_plugin_stops_on_a_bad_profile(pytester: pytest.Pytester) -> None:
    pytester.makefile(".json", profile=json.dumps({"version": 1, "pricing": "free"}))
    pytester.makeini("[pytest]\naudjust_mock_profile = profile.json\n")
    pytester.makepyfile("def test_nothing(audjust_mock):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.stderr.fnmatch_lines(["*audjust_mock_profile = profile.json: pricing: 'free'*"])


def test_a_started_mock_with_a_profile_answers_by_it(tmp_path: Path) -> None:
    path = _file(tmp_path, sparse({"errors.invalid_key.status": 401}))
    import urllib.error
    import urllib.request

    with serve_process("--profile", str(path), "--quiet") as origin:
        request = urllib.request.Request(
            f"{origin}/analyze", data=b"{}", headers={"X-API-Key": "nope"}, method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
    refused.value.close()
    assert refused.value.code == 401


def test_a_bad_profile_names_every_problem_at_once() -> None:
    """A person fixing a file sees everything wrong with it in one run, not one error a run."""
    document = {
        "version": 1,
        "pricng": "examples",
        "webhooks": {"attemps": 2, "attempts": 0},
        "errors": {"invalid_key": {"status": 99, "headers": ["Allow"]}},
    }
    with pytest.raises(ProfileError) as refused:
        Profile.from_json(document)
    message = str(refused.value)
    assert message.startswith("5 problems:\n")
    for named in (
        "pricng: not a profile key",
        "did you mean pricing?",
        "webhooks.attemps: not a profile key",
        "webhooks.attempts: 0 is less than the minimum of 1",
        "errors.invalid_key.status: 99",
        "errors.invalid_key.headers: 'Allow' is not a header this error can carry",
    ):
        assert named in message
