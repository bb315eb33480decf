"""The docs' commands, run as written against a real `serve` process."""

from __future__ import annotations

import json
import os

from tests.support import ROOT, run_shell, serve_process, shell_blocks


def test_the_control_api_walk_through_runs_as_written() -> None:
    (script,) = shell_blocks(ROOT / "docs" / "control-api.md")
    with serve_process() as origin:
        output = run_shell(script, {**os.environ, "MOCK": origin})
    lines = output.splitlines()
    assert json.loads(lines[0]) == {"success": True}
    assert json.loads(lines[1]) == {"success": True, "key": "node-suite", "plan": "free"}
    webhooks = [json.loads(line) for line in lines if '"tempo"' in line]
    assert len(webhooks) == 2 and webhooks[0] == webhooks[1]
    assert webhooks[0]["tempo"] == 120 and webhooks[0]["creditCost"] >= 1
    journal = [json.loads(line) for line in lines if '"path"' in line]
    assert journal == [
        {
            "method": "POST",
            "path": "/analyze",
            "status": 200,
            "scenarios": ["webhook_duplicate;times=2"],
        }
    ]
    attempts = [json.loads(line) for line in lines if '"attempt"' in line]
    assert attempts == [{"attempt": 1, "status": 200, "delivered": True}] * 2
    assert lines[-1].startswith("Invalid JSON body") and "seconds is Infinity" in lines[-1]
