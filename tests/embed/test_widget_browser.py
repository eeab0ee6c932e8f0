"""In headless Chromium: a charity's page on another origin shows a Leeds groups slice both ways.

A Leeds node publishes; a national node follows it and serves the embed; the
example host page (``examples/embed/index.html``) is served by a third server
on another port with the node's address written in.  Both the iframe and the
script form render the slice, nothing sets a cookie or storage, nothing is
fetched from anywhere else, axe finds nothing, and a listing deleted at Leeds
is gone after the national node's next sync.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from node.federation.peers import follow
from node.federation.sync import sync_once
from node.web.app import create_app, open_node
from nodeutil import EXAMPLES, NodeHandle, example_listings, free_port, make_node
from support.browser import BrowserError, Page

HOST_PAGE = EXAMPLES / "embed" / "index.html"
GONE = "Headingley Hearing Voices Group"


async def _until(check: Any, what: str, timeout: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def _frame_texts(page: Page, prefix: str) -> list[str]:
    async def loaded() -> list[str] | None:
        frames = page.frames(prefix)  # sandboxed iframes run out of process; the driver follows them
        if len(frames) < 2:
            return None
        try:
            ready = "document.readyState === 'complete' ? document.body.innerText : ''"
            texts = [await f.evaluate(ready) for f in frames]
        except BrowserError:  # a frame still navigating has no document to ask yet
            return None
        return texts if all(texts) else None

    return await _until(loaded, "both embeds to load")


@pytest.mark.slow
@pytest.mark.browser
async def test_host_page_shows_the_slice_both_ways_without_cookies_and_follows_deletions(
    browser: Any,
    tmp_path: Path,
    aiohttp_server: Any,
) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds Peer Support Network")
    leeds.publish(example_listings("leeds"))
    national: NodeHandle = make_node(tmp_path / "national", "Peer Support Together UK")
    await aiohttp_server(create_app(leeds.config, sync=False), host="127.0.0.1", port=leeds.port)
    puller = open_node(national.config)
    puller.session = aiohttp.ClientSession()
    try:
        await follow(puller, leeds.url)
        await sync_once(puller)
        await aiohttp_server(create_app(national.config, sync=False), host="127.0.0.1", port=national.port)

        host_port = free_port()
        page_html = HOST_PAGE.read_text("utf-8").replace("https://NODE", national.url)

        async def host(request: web.Request) -> web.Response:
            return web.Response(text=page_html, content_type="text/html")

        host_app = web.Application()
        host_app.router.add_get("/", host)
        await aiohttp_server(host_app, host="127.0.0.1", port=host_port)
        host_url = f"http://127.0.0.1:{host_port}/"

        page = await browser.new_page(javascript=True, width=360, height=2400)
        assert await page.goto(host_url) == 200
        texts = await _frame_texts(page, f"{national.url}/embed")
        for text in texts:
            assert GONE in text and "Need help now?" in text and "Samaritans" in text
        # the script form sized its iframe from the embed's height message
        height = await _until(
            lambda: page.evaluate(
                "(() => { const f = document.querySelector('#script-form iframe'); return f && f.style.height !== '640px' ? f.style.height : null })()"
            ),
            "the widget to resize its iframe",
        )
        assert height.endswith("px") and int(height[:-2]) > 200
        assert await page.cookies() == []
        assert await page.evaluate("localStorage.length + sessionStorage.length") == 0
        for frame in page.frames(f"{national.url}/embed"):
            storage = await frame.evaluate(
                "(() => { try { return String(localStorage.length + sessionStorage.length) } catch (e) { return 'blocked' } })()"
            )
            assert storage in ("0", "blocked")
            assert await frame.evaluate("(() => { try { return document.cookie } catch (e) { return '' } })()") == ""
        origins = {u.split("/")[2] for u in page.requests if u.startswith("http")}
        assert origins <= {f"127.0.0.1:{host_port}", f"127.0.0.1:{national.port}"}, origins
        assert await page.axe() == []
        await page.close()

        embed = await browser.new_page(javascript=True, width=320, height=700)
        assert await embed.goto(f"{national.url}/embed?kind=group&near=LS6") == 200
        assert await embed.axe() == []
        assert await embed.evaluate("localStorage.length + sessionStorage.length") == 0
        assert await embed.cookies() == []
        assert await embed.evaluate("document.documentElement.scrollWidth <= 320")
        await embed.close()

        leeds.delete("headingley-hearing-voices")
        await sync_once(puller)
        again = await browser.new_page(javascript=True, width=360, height=2400)
        assert await again.goto(host_url) == 200
        texts = await _frame_texts(again, f"{national.url}/embed")
        assert all(GONE not in t for t in texts) and all("Need help now?" in t for t in texts)
        await again.close()
    finally:
        await puller.session.close()
        puller.store.close()
