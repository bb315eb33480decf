"""The CI recipes in examples/ci/: linted (actionlint, GitLab's schema), and their commands run here
as far as they can run on this machine.

What differs from a real runner, and only that: `uses:` steps and installs are not run (make
install has installed audjust-mock into .venv, put first on PATH); ports 8080 and 8081 become free
ones; a registry image becomes the image built here; secrets and variables get test values; the
live API becomes a `serve` process. GitLab's service job is linted only: its job container reaching
a service by alias is GitLab's machinery, which this machine does not have.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from container_tests.docker import mock_container, run
from tests.support import ROOT, free_port, serve_process

CI = ROOT / "examples" / "ci"
GITHUB = CI / "github" / "audjust-mock.yml"
GITHUB_CONTRACT = CI / "github" / "audjust-contract.yml"
GITLAB = CI / "gitlab" / ".gitlab-ci.yml"
INSTALLS = ("python -m pip install",)  # a step starting so is done here by make install
EXPRESSIONS = {"secrets.AUDJUST_API_KEY": "test-key", "vars.AUDJUST_SOURCE_URL": ""}


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text())
    return document


def test_the_github_workflows_pass_actionlint() -> None:
    actionlint = Path(sys.executable).with_name("actionlint")
    assert actionlint.exists(), "pip install -e '.[image-test]' installs actionlint"
    # With shellcheck on PATH, actionlint also checks every run: script.
    assert shutil.which("shellcheck"), "make image-test installs Debian's shellcheck"
    finished = run([str(actionlint), str(GITHUB), str(GITHUB_CONTRACT)], env=os.environ, timeout=60)
    assert finished.returncode == 0, finished.stdout + finished.stderr


def test_the_container_scripts_pass_shellcheck() -> None:
    scripts = sorted(str(path) for path in (ROOT / "container").glob("*.sh"))
    finished = run(["shellcheck", *scripts], env=os.environ, timeout=60)
    assert finished.returncode == 0, finished.stdout


def test_the_gitlab_pipeline_matches_gitlabs_schema() -> None:
    checker = Path(sys.executable).with_name("check-jsonschema")
    command = [str(checker), "--builtin-schema", "vendor.gitlab-ci", str(GITLAB)]
    finished = run(command, env=os.environ, timeout=60)
    assert finished.returncode == 0, finished.stdout + finished.stderr


class Runner:
    """Runs a job's shell steps as a runner would, each in a shell of its own; what a step leaves
    running in the background (the mock) is stopped when the job ends, as runners do."""

    def __init__(self, env: Mapping[str, str], ports: tuple[int, int]) -> None:
        self.ports = ports
        path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
        self.env = {**os.environ, "PATH": path, **{k: self.here(v) for k, v in env.items()}}
        self.groups: list[int] = []

    def here(self, value: object) -> str:
        """A recipe's value as it applies on this machine."""
        text = re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: EXPRESSIONS[m.group(1)], str(value))
        for fixed, free in zip(("8080", "8081"), self.ports, strict=True):
            text = str(free) if text == fixed else text.replace(f":{fixed}", f":{free}")
        return text

    def step(self, script: str, cwd: str | None = None) -> str:
        shell = subprocess.Popen(
            ["bash", "-e", "-o", "pipefail", "-c", script],
            cwd=ROOT / (cwd or "."),
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.groups.append(shell.pid)
        output, _ = shell.communicate(timeout=300)
        assert shell.returncode == 0, f"{script}\n{output}"
        return output

    def github_steps(self, job: Mapping[str, Any]) -> str:
        outputs = []
        for step in job["steps"]:
            script = step.get("run")
            if script is None or script.startswith(INSTALLS):
                continue
            env = {k: self.here(v) for k, v in step.get("env", {}).items()}
            self.env.update(env)
            outputs.append(self.step(script, step.get("working-directory")))
        return "\n".join(outputs)

    def close(self) -> None:
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)


@pytest.fixture
def runner_for(tmp_path: Path) -> Iterator[Any]:
    made: list[Runner] = []

    def make(env: Mapping[str, str]) -> Runner:
        runner = Runner({"RUNNER_TEMP": str(tmp_path), **env}, (free_port(), free_port()))
        made.append(runner)
        return runner

    yield make
    for runner in made:
        runner.close()


def test_the_github_serve_job_runs_here(runner_for: Any) -> None:
    job = load(GITHUB)["jobs"]["with-serve"]
    output = runner_for(job["env"]).github_steps(job)
    assert "# fail 0" in output and "# pass 4" in output


def test_the_github_service_container_job_runs_here(
    runner_for: Any, image: str, network: str
) -> None:
    job = load(GITHUB)["jobs"]["with-service-container"]
    (service,) = job["services"].values()
    assert service["ports"] == ["8080:8080", "8081:8081"]
    runner = runner_for(job["env"])
    with mock_container(
        image,
        token=service["env"]["AUDJUST_MOCK_ADMIN_TOKEN"],
        network=network,
        ports=runner.ports,
        env={k: runner.here(v) for k, v in service["env"].items()},
    ):
        output = runner.github_steps(job)
    assert "# fail 0" in output and "# pass 4" in output


def test_the_gitlab_serve_job_script_runs_here(runner_for: Any) -> None:
    job = load(GITLAB)["test-with-serve"]
    runner = runner_for(job["variables"])
    output = runner.step("\n".join(job["script"]))
    assert "# fail 0" in output and "# pass 4" in output


def test_the_scheduled_contract_step_runs_against_a_serve_process(runner_for: Any) -> None:
    (step,) = [s for s in load(GITHUB_CONTRACT)["jobs"]["contract"]["steps"] if "env" in s]
    with serve_process() as origin:
        runner = runner_for({**step["env"], "AUDJUST_BASE_URL": origin})
        output = runner.step(step["run"])
    assert " passed" in output and "credits spent" in output
    assert "(limit 30)" in output
