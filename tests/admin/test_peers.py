"""Following a peer from the console: fetch its node document, show the fingerprint, follow only on confirm."""

from __future__ import annotations

import re
from typing import Any

from node.core.config import load_config
from node.federation.peers import fingerprint
from node.web.app import create_app
from nodeutil import make_node


async def _peer(aiohttp_server: Any, tmp_path: Any) -> tuple[str, str]:
    handle = make_node(tmp_path / "peer", "Lambeth Peers")
    server = await aiohttp_server(
        create_app(load_config(handle.directory), sync=False), host="127.0.0.1", port=handle.port
    )
    return f"http://127.0.0.1:{server.port}", handle.publisher


async def test_follow_shows_the_fingerprint_first_and_pins_the_publisher(
    signed_in: Any, aiohttp_server: Any, tmp_path: Any
) -> None:
    client, csrf = signed_in
    url, publisher = await _peer(aiohttp_server, tmp_path)
    resp = await client.post("/admin/peers/check", data={"csrf": csrf, "url": url})
    html = await resp.text()
    assert resp.status == 200
    assert fingerprint(publisher) in html and publisher in html and "Lambeth Peers" in html
    assert "Not following any peers yet" in await (await client.get("/admin/peers")).text(), "checking follows nothing"
    resp = await client.post(
        "/admin/peers/follow", data={"csrf": csrf, "url": url, "publisher": publisher}, allow_redirects=False
    )
    assert resp.status == 303
    page = await (await client.get(resp.headers["Location"])).text()
    assert "Now following Lambeth Peers" in page
    assert re.search(rf"<code>{fingerprint(publisher)}</code>", page)
    assert "never" in page, "no pull has succeeded yet"


async def test_follow_refuses_a_different_publisher_than_confirmed(
    signed_in: Any, aiohttp_server: Any, tmp_path: Any
) -> None:
    client, csrf = signed_in
    url, _ = await _peer(aiohttp_server, tmp_path)
    resp = await client.post("/admin/peers/follow", data={"csrf": csrf, "url": url, "publisher": "sp1:" + "b" * 26})
    assert resp.status == 400
    html = await resp.text()
    assert "Nothing was followed" in html
    assert "Not following any peers yet" in html


async def test_unreachable_or_bad_peer_addresses_are_explained(signed_in: Any) -> None:
    client, csrf = signed_in
    for url, words in [
        ("ftp://x.example", "not an http(s) URL"),
        ("http://peer.example.org", "plain HTTP"),
        ("http://127.0.0.1:9", ""),
    ]:
        resp = await client.post("/admin/peers/check", data={"csrf": csrf, "url": url})
        assert resp.status == 400, url
        assert words in await resp.text()
