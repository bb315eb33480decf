"""`python -m bench`: every section in one run, as a table on stdout and in bench/results.md."""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path

from bench import cache, engine, plugin, real_music, service, structure
from bench.timing import Row, load_average, table

RESULTS = Path(__file__).with_name("results.md")


def main() -> None:
    load = load_average()
    rows: list[Row] = []
    rows.extend(engine.run())
    rows.extend(real_music.run())
    rows.extend(structure.run())
    rows.extend(service.run())
    rows.extend(plugin.run())
    rows.extend(cache.run())
    report = table(rows)
    print(report)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = (
        f"# make bench, {stamp}\n\nPython {platform.python_version()} on {os.cpu_count()} cores;"
        " ratios are ours / theirs, measured in the same run; load average when it started"
        f" {load}, when it ended {load_average()}.\n\n"
    )
    RESULTS.write_text(header + report + "\n")


if __name__ == "__main__":
    main()
