"""Uploads seen by a recording proxy, so that what was recorded can be replayed.

Every `GET /upload` hands out a new `retrievalUrl`, so a recording of `POST /structure` naming one
could never match a later run's request. With `--record`, the proxy points the client's
`storageUrl` at itself, passes the `PUT` on to the real one unchanged and keeps the bytes' sha256;
a recorded request naming that `retrievalUrl` names `upload:sha256:HEX` instead, which is what
`serve --replay` matches an uploaded source by (`mock_server.uploads.Uploads.by_content`).
The relay keeps the latest KEPT uploads, as the proxy keeps a bounded number of exchanges.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from mock_server.contract.conformance import parse_json
from mock_server.uploads import CONTENT_PREFIX

STORAGE_PATH = "/_proxy/storage"  # PUT {proxy}/_proxy/storage/{number}/{token}
KEPT = 10_000


@dataclass
class Relayed:
    """One upload the proxy stands in for: where its bytes really go and how they are fetched."""

    storage_url: str
    retrieval_url: str
    token: str
    content: str | None = None  # upload:sha256:HEX once its bytes were put


class UploadRelay:
    def __init__(self) -> None:
        self._by_number: OrderedDict[int, Relayed] = OrderedDict()
        self._by_retrieval: dict[str, Relayed] = {}
        self._next = 1

    def stand_in(self, answer: bytes, public_url: str) -> bytes:
        """`GET /upload`'s answer with its storageUrl pointed at the proxy (at `public_url`), as
        it came when it names none."""
        document = parse_json(answer)
        if not isinstance(document, dict):
            return answer
        storage, retrieval = document.get("storageUrl"), document.get("retrievalUrl")
        if not isinstance(storage, str) or not isinstance(retrieval, str):
            return answer
        number, token = self._next, secrets.token_hex(16)
        self._next += 1
        relayed = Relayed(storage, retrieval, token)
        self._by_number[number] = self._by_retrieval[retrieval] = relayed
        while len(self._by_number) > KEPT:
            _, dropped = self._by_number.popitem(last=False)
            self._by_retrieval.pop(dropped.retrieval_url, None)
        stand_in = f"{public_url}{STORAGE_PATH}/{number}/{token}"
        return json.dumps({**document, "storageUrl": stand_in}, ensure_ascii=False).encode()

    def target(self, number: int, token: str) -> Relayed | None:
        """The upload a stand-in storage URL names, if its token is the one handed out."""
        relayed = self._by_number.get(number)
        if relayed is None or not secrets.compare_digest(relayed.token, token):
            return None
        return relayed

    @staticmethod
    def stored(relayed: Relayed, data: bytes) -> None:
        relayed.content = CONTENT_PREFIX + hashlib.sha256(data).hexdigest()

    def as_recorded(self, sent: object, request: bytes) -> bytes:
        """The request body a recording keeps: an uploaded source named by its content."""
        if not isinstance(sent, dict) or not isinstance(sent.get("sourceFileUrl"), str):
            return request
        relayed = self._by_retrieval.get(sent["sourceFileUrl"])
        if relayed is None or relayed.content is None:
            return request
        return json.dumps({**sent, "sourceFileUrl": relayed.content}, ensure_ascii=False).encode()
