"""Bad input against a real running mock: every refusal is a clear 4xx in the error envelope or a
failure webhook, and the mock stays healthy afterwards (health is 200, a valid resize works).

Most cases share one mock on 127.0.0.1 (module scope, its worker already warm), so a couple of
hundred refusals take about a second; the few that need other settings use `make_mock`. Sources are
served by a real aiohttp file server and webhooks go to a real receiver, both on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import io
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import lameenc
import numpy as np
import pytest
import soundfile as sf
from aiohttp import web

from mock_server.testing import MockServer
from mock_server.web.errors import DETAIL_HEADER
from tests.conftest import FAST, MakeMock, ServerFactory
from tests.contract import check_payload
from tests.forged_audio import wav_claiming
from tests.support import KEY, TINY_RESIZE, TINY_SIMILARITY, explained

# Either a TestClient or a ClientSession with a base_url: both take paths.
Api = Any
NOWHERE = "http://127.0.0.1:9/x"  # valid URLs for bodies refused before anything is fetched
VALID: dict[str, dict[str, object]] = {
    "/analyze": {"resultWebhook": NOWHERE, "sourceFileUrl": NOWHERE, "features": []},
    "/resize": TINY_RESIZE,
    "/export": {
        "resultWebhook": NOWHERE,
        "sourceFileUrl": NOWHERE,
        "exportFormat": "wav",
        "segmentsGroups": [[[0, 1]]],
    },
}
LIMIT = "longer than the 1800-second limit"
INTERNAL = "Internal error"


# --- helpers ---------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def strict_json(data: bytes | str) -> Any:
    """Parse as a strict client (JavaScript's JSON.parse, Go, Rust) would: no NaN or Infinity."""
    return json.loads(data, parse_constant=_refuse_constant)


async def exchange(api: Api, path: str, body: Any) -> tuple[int, str, Any, str | None]:
    """POST `body` (bytes as they are, anything else through json.dumps, which writes NaN):
    status, content type, the answer and the mock's X-Mock-Detail."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    # A BytesIO, since aiohttp warns about (and the suite errors on) raw bodies over 1 MB.
    async with api.post(path, data=io.BytesIO(data), headers=KEY) as response:
        raw = await response.read()
        json_answer = response.content_type == "application/json"
        answer = strict_json(raw) if json_answer else raw
        return response.status, response.content_type, answer, response.headers.get(DETAIL_HEADER)


async def send(api: Api, path: str, body: Any) -> tuple[int, str, Any]:
    status, content_type, answer, _ = await exchange(api, path, body)
    return status, content_type, answer


def check_refusal(
    status: int,
    content_type: str,
    document: Any,
    expected: int,
    *fragments: str,
    detail: str | None = None,
) -> str:
    """The envelope, and each fragment in the message (with a listed error's X-Mock-Detail)."""
    assert (status, content_type) == (expected, "application/json"), document
    assert set(document) == {"success", "message"} and document["success"] is False, document
    check_payload(document)
    message = explained(str(document["message"]), detail)
    for fragment in fragments:
        assert fragment in message, message
    return message


async def refused(api: Api, path: str, body: Any, expected: int, *fragments: str) -> str:
    """Assert a clear refusal: `expected` status, the JSON envelope, each fragment named."""
    status, content_type, document, detail = await exchange(api, path, body)
    return check_refusal(status, content_type, document, expected, *fragments, detail=detail)


async def assert_healthy(api: Api) -> None:
    async with api.get("/_mock/health") as response:
        assert response.status == 200
        assert (await response.json())["status"] == "ok"
    status, _, payload = await send(api, "/resize", TINY_RESIZE)
    assert status == 200 and payload["success"] is True and payload["result"], payload


def replaced(path: str, field: str, value: Any) -> dict[str, Any]:
    return {**VALID[path], field: value}


# --- peers: a shared mock, a file server, a webhook receiver -----------------------------------


@pytest.fixture(scope="module")
def shared() -> Iterator[MockServer]:
    settings = dataclasses.replace(FAST, rate_limit=1_000_000)
    with MockServer(settings) as server:
        yield server


@pytest.fixture
async def api(shared: MockServer) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=shared.base_url) as session:
        yield session
        await assert_healthy(session)  # after every case, whatever it sent


@dataclasses.dataclass
class Hooks:
    """A webhook receiver that keeps the raw bodies, to parse them strictly."""

    server: Any = None
    bodies: dict[str, bytes] = dataclasses.field(default_factory=dict)
    arrived: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)

    def url(self) -> str:
        return str(self.server.make_url("/hook"))

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.bodies[json.loads(body)["requestId"]] = body
        self.arrived.set()
        return web.Response(text="ok")

    async def payload(self, request_id: str, timeout: float = 20.0) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while request_id not in self.bodies:
                self.arrived.clear()
                await self.arrived.wait()
        document = strict_json(self.bodies[request_id])
        check_payload(document)
        return dict(document)


@pytest.fixture
async def hooks(aiohttp_server: ServerFactory) -> Hooks:
    receiver = Hooks()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    receiver.server = await aiohttp_server(app)
    return receiver


def wav_bytes(samples: Any, rate: int, subtype: str = "PCM_16") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


def tone(seconds: float, rate: int, hertz: float = 440.0) -> Any:
    return (0.3 * np.sin(2 * np.pi * hertz * np.arange(int(seconds * rate)) / rate)).astype(
        np.float32
    )


def silent_mp3(seconds: float) -> bytes:
    """Silence as 8 kHz mono 8 kbps MP3 without a length header: LAME's silent frames are all
    alike, so one is repeated. 31 minutes is 1.9 MB, made in a millisecond."""
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(8)
    encoder.set_in_sample_rate(8000)
    encoder.set_channels(1)
    encoder.set_quality(7)
    data = bytes(encoder.encode(np.zeros(4 * 8000, np.int16).tobytes())) + bytes(encoder.flush())
    frame_bytes = 72  # 576 samples at 8 kbps and 8 kHz, no padding
    middle = data[20 * frame_bytes : 21 * frame_bytes]
    assert middle[:2] == b"\xff\xe3" and data.count(middle) > 10
    return middle * (int(seconds * 8000 / 576) + 1)


def silent_flac(minutes: int) -> bytes:
    buffer = io.BytesIO()
    with sf.SoundFile(buffer, "w", 8000, 1, format="FLAC", subtype="PCM_16") as handle:
        minute = np.zeros(8000 * 60, np.int16)
        for _ in range(minutes):
            handle.write(minute)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sources(song_mp3: bytes) -> dict[str, tuple[bytes, str]]:
    """Path -> (body, content type) for the file server."""
    short_tone = wav_bytes(tone(3, 8000), 8000)
    nan_samples = tone(6, 8000)
    nan_samples[1000:1100] = np.nan
    return {
        "/song.mp3": (song_mp3, "audio/mpeg"),
        "/empty.mp3": (b"", "audio/mpeg"),
        "/stub.mp3": (song_mp3[:300], "audio/mpeg"),
        "/cut.mp3": (song_mp3[:2000], "audio/mpeg"),
        "/cut.wav": (short_tone[: len(short_tone) // 2], "audio/wav"),
        "/text.mp3": (b"Just some text, served as if it were an MP3.\n" * 40, "audio/mpeg"),
        "/error.mp3": (b'{"error": "this link has expired"}', "audio/mpeg"),
        "/one-second.wav": (wav_bytes(tone(1, 8000), 8000), "audio/wav"),
        "/sixteen-channels.wav": (wav_bytes(np.zeros((8000 * 3, 16)), 8000), "audio/wav"),
        # A 3 s WAV whose header claims 4 GB of data.
        "/huge-header.wav": (wav_claiming(short_tone, 0xFFFFFFF0), "audio/wav"),
        # Decompression bombs: small files claiming or decoding to more than 30 minutes.
        "/hours.wav": (wav_claiming(short_tone, 3 * 3600 * 8000 * 2), "audio/wav"),
        "/silence.flac": (silent_flac(31), "audio/flac"),
        "/silence.mp3": (silent_mp3(31 * 60), "audio/mpeg"),
        # Odd but decodable audio.
        "/digital-silence.wav": (wav_bytes(np.zeros(10 * 8000), 8000), "audio/wav"),
        "/test-tone.wav": (wav_bytes(tone(5, 44100, hertz=1000), 44100), "audio/wav"),
        "/fifty-hertz.wav": (wav_bytes(np.full(6 * 50, 0.1), 50), "audio/wav"),
        "/nan-samples.wav": (wav_bytes(nan_samples, 8000, "FLOAT"), "audio/wav"),
    }


@pytest.fixture
async def source_url(
    aiohttp_server: ServerFactory, sources: dict[str, tuple[bytes, str]]
) -> Callable[[str], str]:
    async def serve(request: web.Request) -> web.Response:
        if request.path not in sources:
            raise web.HTTPNotFound()
        body, content_type = sources[request.path]
        return web.Response(body=body, content_type=content_type)

    app = web.Application()
    app.router.add_get("/{name:.*}", serve)
    server = await aiohttp_server(app)
    return lambda path: str(server.make_url(path))


# --- request bodies ----------------------------------------------------------------------------


async def chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"boundaries": ['
    for _ in range(total // 4096):
        yield b"1, " * 1365 + b"1"
    yield b"]}"


@pytest.mark.parametrize("how", ["content-length", "chunked", "gzip bomb"])
@pytest.mark.parametrize("path", ["/analyze", "/resize", "/export"])
async def test_a_body_over_the_limit_is_413(make_mock: MakeMock, path: str, how: str) -> None:
    mock = await make_mock(max_body_bytes=4096)
    headers = dict(KEY)
    if how == "content-length":
        data: Any = json.dumps({**VALID[path], "padding": "x" * 5000}).encode()
    elif how == "chunked":
        data = chunks(64 * 1024)
    else:  # 1 KB on the wire, 1 MB once inflated
        data = gzip.compress(b" " * (1 << 20) + b"{}")
        headers["Content-Encoding"] = "gzip"
    async with mock.post(path, data=data, headers=headers) as response:
        status, content_type = response.status, response.content_type
        document = strict_json(await response.read())
    check_refusal(status, content_type, document, 413, "Request body too large", "4096 bytes")
    await assert_healthy(mock)


async def test_the_default_limit_of_64_mib_answers_413(api: aiohttp.ClientSession) -> None:
    body = b'{"boundaries": "' + b"x" * (64 * 1024 * 1024) + b'"}'
    await refused(api, "/resize", body, 413, "Request body too large", "67108864 bytes")


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize(
    ("body", "fragments"),
    [
        pytest.param(nested(100_000), ["Invalid JSON body"], id="deep-array"),
        pytest.param(
            b'{"boundaries": ' + nested(100_000) + b"}",
            ["Invalid JSON body"],
            id="deep-array-in-object",
        ),
        pytest.param(
            b'{"a": ' * 100_000 + b"1" + b"}" * 100_000,
            ["Invalid JSON body"],
            id="deep-object",
        ),
        pytest.param(
            b'{"targetLengthSeconds": ' + b"9" * 5000 + b"}",
            ["Invalid JSON body"],
            id="5000-digit-integer",
        ),
        pytest.param(
            b"[" + b"0," * 3_000_000 + b"0]", ["Invalid JSON body", "object"], id="huge-array"
        ),
        pytest.param(
            json.dumps({**TINY_RESIZE, "boundaries": list(range(1_000_000))}).encode(),
            ["Invalid parameter: boundaries", "at most 6000"],
            id="million-boundaries",
        ),
        pytest.param(
            json.dumps({**TINY_RESIZE, "similarity": {**TINY_SIMILARITY, "data": "~" * 10**7}}),
            ["Invalid parameter: similarity", "10000000 characters"],
            id="ten-million-character-similarity",
        ),
        pytest.param(b"", ["Invalid JSON body"], id="empty"),
        pytest.param(b"{nope", ["Invalid JSON body"], id="malformed"),
        pytest.param(b'{"targetLengthSeconds": 1', ["Invalid JSON body"], id="truncated"),
        pytest.param(b'{"a": "\xff\xfe"}', ["Invalid JSON body"], id="not-utf-8"),
        pytest.param(b"null", ["Invalid JSON body", "object"], id="null"),
        pytest.param(b'"a string"', ["Invalid JSON body", "object"], id="string"),
        pytest.param(b"NaN", ["Invalid JSON body", "NaN"], id="bare-nan"),
    ],
)
async def test_pathological_json_is_a_clear_400(
    api: aiohttp.ClientSession, body: bytes | str, fragments: list[str]
) -> None:
    data = body.encode() if isinstance(body, str) else body
    await refused(api, "/resize", data, 400, *fragments)


# --- wrong types, for every parameter of every endpoint ------------------------------------------

URL_VALUES = [1, 1.5, True, [], {}, [NOWHERE], {"url": NOWHERE}, "", "   ", "not a url"]
WRONG: dict[str, dict[str, list[Any]]] = {
    "/analyze": {
        "resultWebhook": URL_VALUES,
        "sourceFileUrl": URL_VALUES,
        "features": ["raw_features", 1, True, {}, [1], [None], [["raw_features"]], ["mfcc"]],
    },
    "/resize": {
        "targetLengthSeconds": ["30", True, False, [30], {"seconds": 30}, 0, -5],
        "similarity": [
            "~~~",
            ["~", "~", "~"],
            7,
            {"data": ["~~~"], "min": 32, "max": 126},
            {"data": 126, "min": 32, "max": 126},
            {"data": "~~~", "min": "32", "max": 126},
            {"data": "~~~", "min": 32.0, "max": 126},
            {"data": "~~~", "min": True, "max": 126},
            {"data": "~~~", "min": 32},
            {"data": "~~~", "max": 126},
        ],
        "boundaries": ["0, 1", {"0": 1}, 1, [0], [True, 1], ["0", "1"], [[0], [1]], [0, None]],
        "resultWebhook": URL_VALUES,
    },
    "/export": {
        "resultWebhook": URL_VALUES,
        "sourceFileUrl": URL_VALUES,
        "exportFormat": [128, "MP3_128", "mp3", "ogg", ["wav"], {"format": "wav"}, True],
        "segmentsGroups": [
            {"1": [[0, 1]]},
            "[[[0, 1]]]",
            [],
            [[]],
            [[0, 1]],
            [[[0]]],
            [[[0, 1, 2]]],
            [[["0", "1"]]],
            [[[True, 1]]],
            [[[None, 1]]],
            [[{"start": 0, "end": 1}]],
            [[[-1, 1]]],
            [[[3.7e307, 1.7e308]] * 2],  # fuzzing found its price overflowed: a day at most
            [[[0, 1]]] * 51,
            [[[0, 1]] * 1001],
        ],
    },
}
WRONG_CASES = [
    pytest.param(path, field, value, id=f"{path[1:]}-{field}-{json.dumps(value)[:24]}")
    for path, fields in WRONG.items()
    for field, values in fields.items()
    for value in values
]


@pytest.mark.parametrize(("path", "field", "value"), WRONG_CASES)
async def test_a_wrong_type_is_refused_naming_the_parameter(
    api: aiohttp.ClientSession, path: str, field: str, value: Any
) -> None:
    await refused(api, path, replaced(path, field, value), 400, f"Invalid parameter: {field}")


OPTIONAL = {("/analyze", "features"), ("/resize", "resultWebhook")}


@pytest.mark.parametrize(
    ("path", "field"),
    [(p, f) for p, fields in WRONG.items() for f in fields if (p, f) not in OPTIONAL],
)
async def test_null_or_absent_is_a_missing_parameter(
    api: aiohttp.ClientSession, path: str, field: str
) -> None:
    await refused(api, path, replaced(path, field, None), 400, f"Missing parameter: {field}")
    absent = {k: v for k, v in VALID[path].items() if k != field}
    await refused(api, path, absent, 400, f"Missing parameter: {field}")


# --- NaN, Infinity and numbers no float can hold ---------------------------------------------

NAN, INF = float("nan"), float("inf")
NUMBERS = [
    ("/resize", "targetLengthSeconds", NAN),
    ("/resize", "targetLengthSeconds", INF),
    ("/resize", "targetLengthSeconds", -INF),
    ("/resize", "boundaries", [0, NAN]),
    ("/resize", "boundaries", [NAN, 1]),
    ("/resize", "boundaries", [0, INF]),
    ("/resize", "boundaries", [-INF, 0]),
    ("/resize", "similarity", {**TINY_SIMILARITY, "min": NAN}),
    ("/resize", "similarity", {**TINY_SIMILARITY, "max": INF}),
    ("/resize", "resultWebhook", NAN),
    ("/analyze", "features", [NAN]),
    ("/analyze", "sourceFileUrl", INF),
    ("/analyze", "resultWebhook", NAN),
    ("/export", "exportFormat", NAN),
    ("/export", "segmentsGroups", [[[0, NAN]]]),
    ("/export", "segmentsGroups", [[[NAN, 1]]]),
    ("/export", "segmentsGroups", [[[0, INF]]]),
    ("/export", "segmentsGroups", [[[-INF, 1]]]),
    ("/export", "segmentsGroups", [[[0, 1]], [[0, NAN]]]),
    ("/resize", "similarity", {**TINY_SIMILARITY, "min": 10**400}),
]
BIG_NUMBERS = [
    ("/resize", "targetLengthSeconds", 10**400),
    ("/resize", "boundaries", [0, 10**400]),
    ("/export", "segmentsGroups", [[[0, 10**400]]]),
]


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [pytest.param(*case, id=f"{case[1]}-{json.dumps(case[2])[:30]}") for case in NUMBERS]
    + [pytest.param(*case, id=f"{case[1]}-10**400-{n}") for n, case in enumerate(BIG_NUMBERS)],
)
async def test_nan_infinity_and_overflow_are_a_400(
    api: aiohttp.ClientSession, path: str, field: str, value: Any
) -> None:
    non_finite = "NaN" in json.dumps(value) or "Infinity" in json.dumps(value)
    expected = ("Invalid JSON body", field) if non_finite else (f"parameter: {field}",)
    await refused(api, path, replaced(path, field, value), 400, *expected)


async def test_nan_anywhere_makes_the_body_invalid_json(api: aiohttp.ClientSession) -> None:
    await refused(api, "/resize", {**TINY_RESIZE, "note": NAN}, 400, "Invalid JSON body")


# --- similarity and boundaries that do not fit ---------------------------------------------------


@pytest.mark.parametrize(
    ("similarity", "boundaries", "fragment"),
    [
        ({"data": "~~", "min": 32, "max": 126}, [0, 1], "data has 2 characters"),
        ({"data": "~~~~", "min": 32, "max": 126}, [0, 1], "N(N+1)/2 = 3"),
        ({"data": "", "min": 32, "max": 126}, [0, 1], "data has 0 characters"),
        ({"data": "~~~", "min": 32, "max": 126}, [0, 1, 2], "N(N+1)/2 = 6"),
        ({"data": "~" * 6, "min": 32, "max": 126}, [0, 1], "N(N+1)/2 = 3"),  # right for N = 3
        ({"data": "~~\x7f", "min": 32, "max": 126}, [0, 1], "outside 32..126"),
        ({"data": "~\x1f~", "min": 32, "max": 126}, [0, 1], "outside 32..126"),
        ({"data": "~~\x00", "min": 32, "max": 126}, [0, 1], "outside 32..126"),
        ({"data": "~~\u00e9", "min": 32, "max": 126}, [0, 1], "outside 32..126"),
        ({"data": "~~\u20ac", "min": 32, "max": 126}, [0, 1], "outside 32..126"),
        ({"data": "~~\ud83c", "min": 32, "max": 126}, [0, 1], "outside 32..126"),
        ({"data": "AAe", "min": 40, "max": 100}, [0, 1], "outside 40..100"),
        ({"data": "AA'", "min": 40, "max": 100}, [0, 1], "outside 40..100"),
        ({"data": "~~~", "min": 31, "max": 126}, [0, 1], "min must be within 32..126"),
        ({"data": "~~~", "min": 32, "max": 127}, [0, 1], "max must be within 32..126"),
        ({"data": "~~~", "min": 80, "max": 80}, [0, 1], "min must be less than max"),
        ({"data": "~~~", "min": 126, "max": 32}, [0, 1], "min must be less than max"),
    ],
)
async def test_similarity_that_does_not_fit_is_a_400(
    api: aiohttp.ClientSession, similarity: dict[str, Any], boundaries: list[float], fragment: str
) -> None:
    body = {**TINY_RESIZE, "similarity": similarity, "boundaries": boundaries}
    await refused(api, "/resize", body, 400, "Invalid parameter: similarity", fragment)


@pytest.mark.parametrize(
    ("boundaries", "fragment"),
    [
        ([1, 0], "strictly increasing"),
        ([0, 0], "strictly increasing"),
        ([-1, 0], "from 0 to 86400"),
        ([0.0] * 6001, "at most 6000"),
    ],
)
async def test_boundaries_out_of_order_or_range_are_a_400(
    api: aiohttp.ClientSession, boundaries: list[float], fragment: str
) -> None:
    body = {**TINY_RESIZE, "boundaries": boundaries}
    await refused(api, "/resize", body, 400, "Invalid parameter: boundaries", fragment)


# --- source URLs -----------------------------------------------------------------------------

BAD_URLS = [
    ("ftp://127.0.0.1/song.mp3", "must be an http or https URL"),
    ("javascript:alert(1)", "must be an http or https URL"),
    ("file:///etc/passwd", "must be an http or https URL"),
    ("file://localhost/etc/passwd", "must be an http or https URL"),
    ("\tfile:///etc/passwd", "must be an http or https URL"),
    ("data:audio/mpeg;base64,SUQz", "must be an http or https URL"),
    ("gopher://127.0.0.1:70/1", "must be an http or https URL"),
    ("//127.0.0.1/song.mp3", "must be an http or https URL"),
    ("127.0.0.1/song.mp3", "must be an http or https URL"),
    ("http:///song.mp3", "must name a host"),
    ("http://user:password@127.0.0.1/song.mp3", "must not carry credentials"),
    ("https://user@127.0.0.1/song.mp3", "must not carry credentials"),
    ("http://:secret@127.0.0.1/song.mp3", "must not carry credentials"),
    ("http://[::1/song.mp3", "Invalid IPv6 URL"),
]


@pytest.mark.parametrize(
    ("path", "field"),
    [("/analyze", "sourceFileUrl"), ("/export", "sourceFileUrl"), ("/analyze", "resultWebhook")],
)
@pytest.mark.parametrize(("url", "fragment"), BAD_URLS, ids=[u for u, _ in BAD_URLS])
async def test_a_url_the_mock_must_not_fetch_is_a_400(
    api: aiohttp.ClientSession, path: str, field: str, url: str, fragment: str
) -> None:
    await refused(
        api, path, replaced(path, field, url), 400, f"Invalid parameter: {field}", fragment
    )


async def test_a_port_out_of_range_is_a_400(api: aiohttp.ClientSession) -> None:
    body = replaced("/analyze", "sourceFileUrl", "http://127.0.0.1:99999/song.mp3")
    await refused(api, "/analyze", body, 400, "Invalid parameter: sourceFileUrl")


async def test_file_urls_with_the_flag_still_fail_cleanly(
    make_mock: MakeMock, hooks: Hooks
) -> None:
    mock = await make_mock(allow_file_urls=True)
    source = "file:///nonexistent/audjust-mock/song.mp3"
    body = {"resultWebhook": hooks.url(), "sourceFileUrl": source}
    status, _, ack = await send(mock, "/analyze", body)
    assert status == 200, ack
    failure = await hooks.payload(ack["requestId"])
    assert failure == {
        "requestId": ack["requestId"],
        "success": False,
        "message": f"Could not read source file {source}: no such file",
        "sourceFileUrl": source,
        "creditCost": 0,
    }
    body["sourceFileUrl"] = "file://user:pw@localhost/etc/passwd"
    await refused(mock, "/analyze", body, 400, "must not carry credentials")
    await assert_healthy(mock)


# --- source files that are not (usable) audio ----------------------------------------------------


async def run_beside_a_good_job(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    body: dict[str, Any],
    path: str = "/analyze",
) -> dict[str, Any]:
    """Submit `body` and a good analysis at the same time; check the good one succeeds and
    return the webhook for `body`."""
    good = {"resultWebhook": hooks.url(), "sourceFileUrl": source_url("/song.mp3")}
    (status, _, ack), (good_status, _, good_ack) = await asyncio.gather(
        send(api, path, body), send(api, "/analyze", good)
    )
    assert status == 200 and good_status == 200, (ack, good_ack)
    payload, good_payload = await asyncio.gather(
        hooks.payload(ack["requestId"]), hooks.payload(good_ack["requestId"])
    )
    assert good_payload["success"] is True and good_payload["result"]["tempo"] == 120
    if not payload["success"]:
        async with api.get(ack.get("resultUrl") or ack["resultUrls"][0]) as response:
            assert response.status == 404
    return payload


def expect_failure(payload: dict[str, Any], source: str, *fragments: str) -> None:
    assert payload == {
        "requestId": payload["requestId"],
        "success": False,
        "message": payload["message"],
        "sourceFileUrl": source,
        "creditCost": 0,
    }
    assert INTERNAL not in payload["message"]
    for fragment in fragments:
        assert fragment in payload["message"]


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("/empty.mp3", "The source file is empty."),
        ("/stub.mp3", "could not be decoded as audio"),
        ("/cut.mp3", "at least 2 s needed"),
        ("/cut.wav", "The source file is truncated"),
        ("/text.mp3", "could not be decoded as audio"),
        ("/error.mp3", "not audio"),
        ("/one-second.wav", "at least 2 s needed"),
        ("/sixteen-channels.wav", "not plausible audio"),
        ("/huge-header.wav", LIMIT),
        ("/hours.wav", LIMIT),
        ("/silence.flac", LIMIT),
        ("/silence.mp3", LIMIT),
        ("/missing.mp3", "HTTP 404"),
    ],
)
async def test_a_bad_source_file_fails_alone(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    source: str,
    fragment: str,
) -> None:
    body = {"resultWebhook": hooks.url(), "sourceFileUrl": source_url(source), "features": []}
    payload = await run_beside_a_good_job(api, hooks, source_url, body)
    expect_failure(payload, source_url(source), fragment)


@pytest.mark.parametrize(
    ("source", "fragment"),
    [("/empty.mp3", "empty"), ("/hours.wav", LIMIT), ("/silence.mp3", LIMIT)],
)
async def test_a_bad_source_file_fails_an_export_too(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    source: str,
    fragment: str,
) -> None:
    body = {**VALID["/export"], "resultWebhook": hooks.url(), "sourceFileUrl": source_url(source)}
    payload = await run_beside_a_good_job(api, hooks, source_url, body, "/export")
    expect_failure(payload, source_url(source), fragment)


@pytest.mark.parametrize(
    ("source", "refusal"),
    [
        ("/digital-silence.wav", None),
        ("/test-tone.wav", None),
        ("/fifty-hertz.wav", "sample rate is 50 Hz"),
        ("/nan-samples.wav", None),
    ],
)
async def test_odd_audio_gets_an_answer_not_an_internal_error(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    source: str,
    refusal: str | None,
) -> None:
    """Silence, a test tone and NaN samples get an analysis at the fallback tempo; a 50 Hz sample
    rate a failure naming it."""
    body = {
        "resultWebhook": hooks.url(),
        "sourceFileUrl": source_url(source),
        "features": ["raw_features"],
    }
    payload = await run_beside_a_good_job(api, hooks, source_url, body)
    if refusal:
        expect_failure(payload, source_url(source), refusal)
    else:
        assert payload["success"] is True, payload
        assert len(payload["result"]["boundaries"]) >= 2


# --- segments out of range or reversed --------------------------------------------------------


@pytest.mark.parametrize(
    ("groups", "fragment"),
    [
        ([[[5, 2]]], "start must be before end"),
        ([[[3, 3]]], "start must be before end"),
        ([[[25, 30]]], "starts after the audio ends"),
        ([[[0, 25]]], "ends after the audio ends"),
        ([[[0, 86_400]]], "ends after the audio ends"),
        ([[[0, 1e-9]]], "There is no audio to encode."),
        ([[[0, 4], [8, 2]], [[30, 40]]], "segment 2 [8, 2]: start must be before end"),
    ],
)
async def test_impossible_segments_fail_the_export_alone(
    api: aiohttp.ClientSession,
    hooks: Hooks,
    source_url: Callable[[str], str],
    groups: list[Any],
    fragment: str,
) -> None:
    body = {
        "resultWebhook": hooks.url(),
        "sourceFileUrl": source_url("/song.mp3"),
        "exportFormat": "mp3_128",
        "segmentsGroups": groups,
    }
    payload = await run_beside_a_good_job(api, hooks, source_url, body, "/export")
    expect_failure(payload, source_url("/song.mp3"), "Every export group failed", fragment)


async def test_an_impossible_group_leaves_the_others(
    api: aiohttp.ClientSession, hooks: Hooks, source_url: Callable[[str], str]
) -> None:
    body = {
        "resultWebhook": hooks.url(),
        "sourceFileUrl": source_url("/song.mp3"),
        "exportFormat": "wav",
        "segmentsGroups": [[[19, 99]], [[0, 1], [2, 3]], [[4, 4]]],
    }
    payload = await run_beside_a_good_job(api, hooks, source_url, body, "/export")
    urls = payload["resultUrls"]
    assert payload["success"] is True and list(payload["failures"]) == [urls[0], urls[2]]
    async with api.get(urls[1]) as response:
        assert response.status == 200
        samples, rate = sf.read(io.BytesIO(await response.read()))
    assert samples.shape[0] == 2 * rate
