"""Finding 8 of issue 17, and raw aiohttp error text: the console's peer check is no network probe.

Only https (http on loopback for a development node), no redirects, no private, link-local or loopback
address unless ``[sync] allow_private_peers``; every address a name resolves to is checked; and a closed
port, a 404, a redirect and a page that is not a node all get one sentence (docs/security.md §6).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from console_client import console_client, console_node, sign_in

from node.core.config import load_config, update_config
from node.core.errors import NodeError
from node.federation.fetch import PEER_NOT_REACHED, check_peer_address, reason_for
from nodeutil import free_port

PRIVATE = [
    "https://10.0.0.5",
    "https://172.16.1.1:8443",
    "https://192.168.1.1",
    "https://169.254.169.254",
    "https://100.64.0.1",
    "https://[fe80::1]",
    "https://[fd00::1]",
    "https://0.0.0.0",
    "https://[::ffff:10.0.0.1]",
]


@pytest.mark.parametrize("url", PRIVATE)
async def test_private_and_link_local_addresses_are_refused_unless_allowed(tmp_path: Path, url: str) -> None:
    handle = console_node(tmp_path / "node")
    update_config(handle.directory, "node", "url", "https://signpost.example.org")
    with pytest.raises(NodeError, match="private or local network"):
        await check_peer_address(url, load_config(handle.directory))
    update_config(handle.directory, "sync", "allow_private_peers", True)
    await check_peer_address(url, load_config(handle.directory))


@pytest.mark.parametrize("url", ["https://127.0.0.1:8080", "https://localhost:22", "https://[::1]"])
async def test_loopback_is_refused_on_a_production_node(tmp_path: Path, url: str) -> None:
    handle = console_node(tmp_path / "node")
    update_config(handle.directory, "node", "url", "https://signpost.example.org")
    with pytest.raises(NodeError, match="this server itself"):
        await check_peer_address(url, load_config(handle.directory))
    # A developer's node (its own address on loopback) may follow nodes on the same machine.
    update_config(handle.directory, "node", "url", "http://127.0.0.1:8080")
    await check_peer_address(url, load_config(handle.directory))


async def test_the_console_refuses_a_loopback_peer_on_a_production_node(aiohttp_client: Any, tmp_path: Path) -> None:
    handle = console_node(tmp_path / "node")
    # Not on loopback, so not a development node (plain http only so the test client keeps its cookie).
    update_config(handle.directory, "node", "url", "http://signpost.example.org")
    client = await console_client(aiohttp_client, handle)
    csrf = await sign_in(client)
    for url in ("http://127.0.0.1:22", "https://127.0.0.1:22", "https://192.168.0.1"):
        resp = await client.post("/admin/peers/check", data={"csrf": csrf, "url": url})
        assert resp.status == 400
        assert "will not fetch it" in await resp.text() or "plain HTTP" in await resp.text(), url
    follow = await client.post("/admin/peers/follow", data={"csrf": csrf, "url": "https://10.1.1.1", "publisher": "x"})
    assert follow.status == 400 and "private or local network" in await follow.text()


async def test_a_closed_port_a_404_a_redirect_and_a_non_node_give_the_same_sentence(
    aiohttp_client: Any, aiohttp_server: Any, tmp_path: Path
) -> None:
    async def not_found(request: web.Request) -> web.Response:
        raise web.HTTPNotFound()

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://127.0.0.1:1/")

    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<h1>router admin</h1>", content_type="text/html")

    servers = {}
    for name, handler in (("404", not_found), ("redirect", moved), ("html", html)):
        app = web.Application()
        app.router.add_get("/{tail:.*}", handler)
        servers[name] = await aiohttp_server(app, host="127.0.0.1")
    handle = console_node(tmp_path / "node")  # a development node: loopback peers are allowed
    client = await console_client(aiohttp_client, handle)
    csrf = await sign_in(client)
    urls = [f"http://127.0.0.1:{free_port()}"] + [f"http://127.0.0.1:{s.port}" for s in servers.values()]
    errors = set()
    for url in urls:
        resp = await client.post("/admin/peers/check", data={"csrf": csrf, "url": url})
        assert resp.status == 400
        text = await resp.text()
        assert PEER_NOT_REACHED.replace("'", "&#39;") in text, url
        for raw in ("Cannot connect", "Errno", "ClientConnectorError", "HTTP 404", "redirect", "text/html"):
            assert raw not in text, (url, raw)
        errors.add(text.replace(url, "URL"))
    assert len(errors) == 1, "the page must not tell one failure from another"


async def test_network_failures_are_described_in_words_not_library_messages() -> None:
    port = free_port()
    async with aiohttp.ClientSession() as session:
        try:
            await session.get(f"http://127.0.0.1:{port}/")
        except aiohttp.ClientError as e:
            refused = e
    assert reason_for(refused) == "nothing answered at that address"
    assert reason_for(aiohttp.ServerDisconnectedError()) == "the connection broke before the answer was complete"
    assert reason_for(aiohttp.ClientPayloadError("Response payload is not completed")) == (
        "the connection broke before the answer was complete"
    )
    for error in (refused, aiohttp.ClientPayloadError("x"), aiohttp.ClientResponseError(None, ())):  # type: ignore[arg-type]
        text = reason_for(error)
        assert "Error" not in text and "Errno" not in text and "Cannot" not in text


def test_signpost_follow_refuses_a_private_address_from_the_command_line(tmp_path: Path) -> None:
    """The CLI follows peers through the same address check as the console (one path: peers.follow)."""
    import subprocess
    import sys

    handle = console_node(tmp_path / "node")
    update_config(handle.directory, "node", "url", "https://signpost.example.org")
    for extra in ([], ["--yes"], ["--publisher", "sp1:aaaaaaaaaaaaaaaaaaaaaaaaaa"]):
        done = subprocess.run(
            [sys.executable, "-m", "node", "follow", "https://10.0.0.5", "--dir", str(handle.directory), *extra],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0, done.stdout
        assert "private or local network" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
