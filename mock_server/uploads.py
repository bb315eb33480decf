"""Uploaded source files: what `GET /upload` hands out and a `PUT` to its `storageUrl` fills.

Audjust's newer overview says a client may upload a file instead of hosting it, and gets a
temporary URL that works as `sourceFileUrl` for the other endpoints; uploads cost no credits and
expire after one hour. Its example page shows the protocol: `GET /upload` answers `storageUrl` and
`retrievalUrl`, the bytes go to `storageUrl` with a `PUT` (no key, no content type), and
`retrievalUrl` is then the source. Everything else here is the mock's choice (the ledger's
`upload.*` rows): the URLs' shape, that the hour counts from the latest `PUT` in mock time, that a
repeated `PUT` replaces, that an empty one is refused, the size cap (the source download limit),
and the store's bound.

The store keeps the bytes in memory, under a bound on their total: a full store refuses a new
`PUT` and evicts nothing (an upload a test relies on never vanishes under it). Ids are drawn from
the server's request id sequence, so a seeded run hands out the same URLs every time; the `PUT`
secret and the retrieval id are two different draws, so a `retrievalUrl` shared with a third party
never lets it overwrite the file.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

UPLOAD_SECONDS = 3600.0  # "uploads expire after one hour" (the overview page)
STORAGE_PREFIX = "/storage/"  # PUT {results base}/storage/{secret}
RETRIEVAL_PREFIX = "/uploads/"  # GET {results base}/uploads/{id}
_TOKEN = r"[a-z0-9]{32}"
_RETRIEVAL_PATH = re.compile(rf"^{RETRIEVAL_PREFIX}(?P<id>{_TOKEN})$")
# How a recording names an uploaded source: every upload makes a new retrievalUrl, so a replay
# matches on what was uploaded instead (`by_content`).
CONTENT_PREFIX = "upload:sha256:"
REMEMBERED_GONE = 10_000  # ids kept to say "expired" or "removed" rather than "unknown"


class Gone(Enum):
    """Why an upload that existed no longer serves."""

    EXPIRED = "expired"
    REMOVED = "removed"  # a reset (of the whole mock or of the upload's namespace)


class UploadProblem(Exception):
    """A storage or retrieval request the store refuses; `kind` picks the status."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# UploadProblem kinds, each a status the web layer maps (web/errors.py's UPLOAD_STATUSES).
UNKNOWN = "unknown"  # no such URL was ever handed out (or long forgotten)
EMPTY = "empty"  # a PUT without bytes
TOO_LARGE = "too_large"  # one upload over the source size cap
FULL = "full"  # the store's total bound reached
SLOTS = "slots"  # as many uploads handed out as the store keeps
NOT_YET = "not_yet"  # retrieval before any PUT
EXPIRED = "expired"  # retrieval after the hour, or after a reset removed it


@dataclass
class Upload:
    """One `GET /upload`'s slot: empty until its `PUT`; `expires_at` in mock epoch seconds."""

    upload_id: str
    secret: str
    namespace: str
    expires_at: float
    data: bytes | None = None
    put_at: float | None = None


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int  # one upload: the source download limit
    total_bytes: int  # every stored upload together
    max_slots: int  # handed out and not yet expired, filled or not


class Uploads:
    """The uploads in use, by retrieval id and by `PUT` secret."""

    def __init__(self, limits: UploadLimits, now: Callable[[], float]) -> None:
        self.limits = limits
        self._now = now
        self._by_id: dict[str, Upload] = {}
        self._by_secret: dict[str, Upload] = {}
        self._gone: OrderedDict[str, Gone] = OrderedDict()
        self.stored_bytes = 0

    def __len__(self) -> int:
        return len(self._by_id)

    def create(self, upload_id: str, secret: str, namespace: str) -> Upload:
        """A new empty slot; it expires an hour from now if nothing is ever put in it."""
        self._expire()
        if len(self._by_id) >= self.limits.max_slots:
            raise UploadProblem(
                SLOTS,
                f"the upload store holds {len(self._by_id)} uploads, its limit; they expire an "
                "hour after their PUT, or a reset removes them",
            )
        upload = Upload(upload_id, secret, namespace, self._now() + UPLOAD_SECONDS)
        self._by_id[upload_id] = upload
        self._by_secret[secret] = upload
        return upload

    def put(self, secret: str, data: bytes) -> Upload:
        """Store `data` under the slot `secret` names, replacing what a previous PUT stored;
        the hour starts again from now."""
        self._expire()
        upload = self._by_secret.get(secret)
        if upload is None:
            raise UploadProblem(UNKNOWN, "no upload has this storage URL (or it has expired)")
        if not data:
            raise UploadProblem(EMPTY, "the PUT carried no bytes; send the audio file's bytes")
        if len(data) > self.limits.max_bytes:
            raise UploadProblem(TOO_LARGE, self.too_large(len(data)))
        previous = len(upload.data or b"")
        if self.stored_bytes - previous + len(data) > self.limits.total_bytes:
            raise UploadProblem(
                FULL,
                f"the upload store is full ({self.stored_bytes} of {self.limits.total_bytes} "
                "bytes); uploads expire an hour after their PUT, or a reset removes them",
            )
        self.stored_bytes += len(data) - previous
        upload.data, upload.put_at = data, self._now()
        upload.expires_at = upload.put_at + UPLOAD_SECONDS
        return upload

    def too_large(self, size: int) -> str:
        return f"the upload is {size} bytes; at most {self.limits.max_bytes} are accepted"

    def secret_known(self, secret: str) -> bool:
        self._expire()
        return secret in self._by_secret

    def namespace_of(self, secret: str) -> str | None:
        """The namespace whose `GET /upload` handed out `secret`: a `PUT` carries no header
        naming one, and is journaled in the namespace that will use the file."""
        upload = self._by_secret.get(secret)
        return None if upload is None else upload.namespace

    def retrieve(self, upload_id: str) -> bytes:
        """The bytes stored for `upload_id`; UploadProblem saying why there are none."""
        self._expire()
        upload = self._by_id.get(upload_id)
        if upload is None:
            gone = self._gone.get(upload_id)
            if gone is Gone.EXPIRED:
                raise UploadProblem(EXPIRED, "this upload has expired (an hour after its PUT)")
            if gone is Gone.REMOVED:
                raise UploadProblem(EXPIRED, "this upload was removed by a reset")
            raise UploadProblem(UNKNOWN, "no upload has this URL")
        if upload.data is None:
            raise UploadProblem(NOT_YET, "nothing has been PUT to this upload's storageUrl yet")
        return upload.data

    def owns(self, url: str) -> str | None:
        """The upload id `url` retrieves, if it is one of this store's retrieval URLs (whatever
        host it names: containers reach the results origin by other names than clients do)."""
        matched = _RETRIEVAL_PATH.match(urlsplit(url).path)
        if matched is None:
            return None
        upload_id = matched.group("id")
        known = upload_id in self._by_id or upload_id in self._gone
        return upload_id if known else None

    def by_content(self, url: str) -> str | None:
        """`upload:sha256:HEX` for a retrieval URL of this store whose bytes are there: what a
        recording of a request naming an upload keeps instead of the URL, which no later run
        hands out again."""
        upload_id = self.owns(url)
        upload = self._by_id.get(upload_id) if upload_id else None
        if upload is None or upload.data is None:
            return None
        return CONTENT_PREFIX + hashlib.sha256(upload.data).hexdigest()

    def reset(self, namespace: str | None = None) -> None:
        """Remove every upload, or `namespace`'s."""
        for upload in list(self._by_id.values()):
            if namespace is None or upload.namespace == namespace:
                self._drop(upload, Gone.REMOVED)

    def _expire(self) -> None:
        now = self._now()
        for upload in [u for u in self._by_id.values() if u.expires_at <= now]:
            self._drop(upload, Gone.EXPIRED)

    def _drop(self, upload: Upload, why: Gone) -> None:
        del self._by_id[upload.upload_id]
        del self._by_secret[upload.secret]
        self.stored_bytes -= len(upload.data or b"")
        self._gone[upload.upload_id] = why
        while len(self._gone) > REMEMBERED_GONE:
            self._gone.popitem(last=False)
