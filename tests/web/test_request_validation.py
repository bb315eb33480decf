"""The HTTP validation of /analyze, /resize and /export against a real running mock: bodies too
large or not JSON, a wrong type for every parameter, NaN, Infinity and numbers no float can hold,
similarity and boundaries that do not fit. Each is a clear 4xx in the error envelope naming the
field, and the mock stays healthy afterwards (health is 200, a valid resize works)."""

from __future__ import annotations

import gzip
import http.client
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from yarl import URL

from mock_server.testing.inprocess import MockServer
from tests.conftest import MakeMock
from tests.support import (
    KEY,
    NOWHERE,
    TINY_RESIZE,
    TINY_SIMILARITY,
    VALID,
    assert_healthy,
    check_refusal,
    refused,
    replaced,
    strict_json,
)

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


@pytest.mark.parametrize("host", ["example.com:notaport", ""])
def test_a_host_header_no_result_url_can_be_built_on_is_a_400(
    shared: MockServer, host: str
) -> None:
    """Result URLs are built on the host the client addressed; one that is no host:port is the
    client's mistake, named, never a 500."""
    origin = URL(shared.base_url)
    connection = http.client.HTTPConnection(origin.host or "127.0.0.1", origin.port or 80)
    body = json.dumps(TINY_RESIZE | {"resultWebhook": NOWHERE}).encode()
    connection.putrequest("POST", "/resize", skip_host=True)
    for name, value in {**KEY, "Host": host, "Content-Length": str(len(body))}.items():
        connection.putheader(name, value)
    connection.endheaders(body)
    answer = connection.getresponse()
    document = json.loads(answer.read())
    connection.close()
    assert answer.status == 400 and "Host header" in document["message"], document
