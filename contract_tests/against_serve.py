"""Run the suite against `audjust-mock serve` started as a separate process on a free port,
reached only through --base-url: the path a run against the live API takes.

    python -m contract_tests.against_serve [pytest options]
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Sequence

LISTENING = re.compile(r"audjust-mock listening on (http://\S+)")


def main(argv: Sequence[str] | None = None) -> int:
    serve = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--seed", "7"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        if serve.stdout is None:
            raise RuntimeError("serve's output is not piped")
        line = serve.stdout.readline()
        match = LISTENING.search(line)
        if match is None:
            print(f"audjust-mock serve did not start: {line!r}", file=sys.stderr)
            return 2
        print(f"checking {match.group(1)} (audjust-mock serve, pid {serve.pid})", flush=True)
        target = ["--base-url", match.group(1), "--api-key", "test-key"]
        suite = [sys.executable, "-m", "pytest", "contract_tests", *target]
        return subprocess.run([*suite, *(argv or sys.argv[1:])], check=False).returncode
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
