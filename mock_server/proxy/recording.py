"""--record DIR: each exchange as a folder a person can read and review in a diff.

`NNNN-route/exchange.json` holds the request, the answer, each webhook and the result files'
names, bodies as JSON where they are JSON; result files sit beside it under their result names.
The key is masked; `volatile` lists the JSON pointers whose values change from run to run
(ids, URLs), which a comparison or a replay ignores. The format (and reading it back) belongs to
`mock_server.jobs.recordings`, which `serve --replay` uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mock_server.jobs.recordings import EXCHANGE_FILE, FORMAT, VERSION, VOLATILE_FIELDS
from mock_server.proxy.exchanges import GRADED_KEYS, Exchange, Fetched, dumps, graded_json, pretty


def folder(root: Path, exchange: Exchange) -> Path:
    return root / f"{exchange.number:04d}-{exchange.route}"


def _file_name(fetched: Fetched) -> str:
    return Path(urlsplit(fetched.url).path).name or "result"


def write_result(root: Path, exchange: Exchange, fetched: Fetched) -> None:
    """Save a fetched result file beside exchange.json, once, as soon as it is checked."""
    if fetched.status == 200:
        where = folder(root, exchange)
        where.mkdir(parents=True, exist_ok=True)
        (where / _file_name(fetched)).write_bytes(fetched.body)


def write(root: Path, exchange: Exchange) -> None:
    """(Re)write the exchange's exchange.json: called whenever it learns something, until it
    is done and has let go of its bodies (then the file already says all it held)."""
    if exchange.let_go_of_bodies:
        return
    where = folder(root, exchange)
    where.mkdir(parents=True, exist_ok=True)
    files = [
        {"url": fetched.url, "status": fetched.status, "file": _file_name(fetched)}
        for fetched in exchange.results
    ]
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "route": f"/{exchange.route}",
        "request": {"key": exchange.masked_key, "body": pretty(exchange.request)},
        "answer": {
            "status": exchange.status,
            "contentType": exchange.content_type,
            "body": pretty(exchange.answer),
        }
        if exchange.error is None
        else {"error": exchange.error},
        "webhooks": [
            {"body": pretty(d.body), "clientStatus": d.client_status} for d in exchange.deliveries
        ],
        "results": files,
        **graded_json(exchange),
    }
    document["volatile"] = sorted(_volatile(document))
    (where / EXCHANGE_FILE).write_text(dumps(document))


def _volatile(node: Any, pointer: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{pointer}/{key}"
            if key in VOLATILE_FIELDS or key == "url":
                found.add(here)
            elif key not in GRADED_KEYS:
                found |= _volatile(value, here)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found |= _volatile(value, f"{pointer}/{index}")
    return found
