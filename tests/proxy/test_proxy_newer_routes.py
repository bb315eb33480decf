"""The newer routes through the checking proxy, untouched: the example page's upload protocol and
a structure of the upload, answered at once and queued, pass with no violation and no finding;
a GET on /upload is no wrong method, a GET on /structure is."""

from __future__ import annotations

import json

import aiohttp

from tests.conftest import FileServer, MakeMock
from tests.proxy_client import MakeProxy, origin
from tests.support import Hooks


async def test_upload_then_structure_pass_clean(
    make_mock: MakeMock, make_proxy: MakeProxy, files: FileServer, hooks: Hooks
) -> None:
    upstream = await make_mock()
    through = await make_proxy(origin(upstream), check_results=True)
    status, raw, counted = await through.post_counted("/upload", b"", method="GET")
    assert (status, counted) == (200, (0, 0)), raw
    slot = json.loads(raw)
    async with aiohttp.ClientSession() as session:
        async with session.get(files.url("/song.mp3")) as source:
            song = await source.read()
        async with session.put(slot["storageUrl"], data=song) as stored:
            assert stored.status == 200
    body = {"sourceFileUrl": slot["retrievalUrl"]}
    status, raw, counted = await through.post_counted("/structure", body)
    assert (status, counted) == (200, (0, 0)), raw
    queued = {**body, "resultWebhook": hooks.url()}
    status, raw, counted = await through.post_counted("/structure", queued)
    assert (status, counted) == (200, (0, 0)), raw
    await through.settled()
    assert hooks.deliveries and hooks.deliveries[0][1] == "0"  # the webhook: no violation
    assert through.rules() == set()  # nothing observed either


async def test_the_method_a_route_does_not_take_is_bound_to_be_refused(
    make_mock: MakeMock, make_proxy: MakeProxy
) -> None:
    through = await make_proxy(origin(await make_mock()))
    status, raw, counted = await through.post_counted("/structure", b"", method="GET")
    assert status == 405 and counted == (0, 0), raw  # refused as it had to be
    status, raw, counted = await through.post_counted("/upload", b"", method="DELETE")
    assert status == 405 and counted == (0, 0), raw
