"""Upload storage on the results origin: the `PUT` to a `storageUrl` and the `GET` of a
`retrievalUrl` (uploads.py says what is known of them and what is the mock's choice).

Neither takes a key, as the live API's example shows for the `PUT`: the secret in the storage URL
is the permission, as in a signed URL. The body is read in chunks against the source size cap,
so an oversized upload is refused without being held whole; the journal gets its size and
sha256 from that same read (STORED_BODY), never reading the body itself.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web

from mock_server.uploads import RETRIEVAL_PREFIX, STORAGE_PREFIX, UploadProblem
from mock_server.web import errors
from mock_server.web.keys import SERVICES

STORAGE_ROUTE = "upload_storage"
RETRIEVAL_ROUTE = "upload_retrieval"
UPLOAD_ROUTES = frozenset({STORAGE_ROUTE, RETRIEVAL_ROUTE})
OCTET_STREAM = "application/octet-stream"  # what an upload is served as: its type is not known
# What a PUT's body was, as far as it was read ({"bytes", "sha256"} once whole), for the journal.
STORED_BODY = web.RequestKey("stored_body", dict[str, Any])


def add_routes(app: web.Application) -> None:
    app.router.add_put(f"{STORAGE_PREFIX}{{secret}}", store, name=STORAGE_ROUTE)
    app.router.add_get(f"{RETRIEVAL_PREFIX}{{uploadId}}", retrieve, name=RETRIEVAL_ROUTE)


async def store(request: web.Request) -> web.Response:
    uploads = request.app[SERVICES].uploads
    secret = request.match_info["secret"]
    if not uploads.secret_known(secret):
        raise errors.UploadMissing("no upload has this storage URL (or it has expired)")
    cap = uploads.limits.max_bytes
    declared = request.content_length or 0
    if declared > cap:
        raise errors.TooLarge(uploads.too_large(declared))
    chunks, total, digest = [], 0, hashlib.sha256()
    async for chunk in request.content.iter_chunked(1 << 16):
        total += len(chunk)
        request[STORED_BODY] = {"bytes": total}
        if total > cap:
            raise errors.TooLarge(uploads.too_large(total))
        chunks.append(chunk)
        digest.update(chunk)
    request[STORED_BODY] = {"bytes": total, "sha256": digest.hexdigest()}
    try:
        uploads.put(secret, b"".join(chunks))
    except UploadProblem as problem:
        raise errors.upload_error(problem) from None
    return web.Response(status=200)


async def retrieve(request: web.Request) -> web.Response:
    uploads = request.app[SERVICES].uploads
    try:
        data = uploads.retrieve(request.match_info["uploadId"])
    except UploadProblem as problem:
        raise errors.upload_error(problem) from None
    return web.Response(body=data, content_type=OCTET_STREAM)
