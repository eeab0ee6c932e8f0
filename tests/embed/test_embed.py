"""The embed page, oEmbed, the snippet builder and the widget script (without a browser)."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from nodeutil import NodeHandle


async def test_embed_page_is_a_compact_cookieless_list_that_opens_links_on_the_node(
    client: Any, leeds: NodeHandle
) -> None:
    resp = await client.get("/embed?kind=group&near=LS6")
    assert resp.status == 200
    text = await resp.text()
    assert "Set-Cookie" not in resp.headers
    csp = resp.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert "X-Frame-Options" not in resp.headers
    assert '<base target="_blank">' in text
    assert "Samaritans on 116 123" in text and "tel:999" in text
    assert "Headingley Hearing Voices Group" in text
    assert f"/listing/{leeds.publisher}/headingley-hearing-voices" in text
    # nothing from anywhere else: every src/href for a resource is this node's own
    resources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', text)
    assert resources and all(r.startswith("/") for r in resources)


async def test_embed_refuses_time_filters_with_a_readable_page(client: Any) -> None:
    resp = await client.get("/embed?when=today")
    assert resp.status == 400 and "cannot be limited to a time" in await resp.text()


async def test_oembed_returns_a_sandboxed_resizing_iframe(client: Any) -> None:
    base = f"http://127.0.0.1:{client.server.port}"
    resp = await client.get(
        "/oembed", params={"url": f"{base}/search?kind=group&near=LS6&page=2", "format": "json", "maxwidth": "400"}
    )
    assert resp.status == 200
    body = await resp.json()
    assert (body["type"], body["version"], body["width"]) == ("rich", "1.0", 400)
    frame = body["html"]
    assert frame.startswith("<iframe ") and 'class="wp-embedded-content"' in frame
    assert 'sandbox="allow-scripts allow-popups allow-popups-to-escape-sandbox"' in frame
    src = html.unescape(re.search(r'src="([^"]+)"', frame).group(1))
    assert src.startswith(f"{base}/embed?")
    assert parse_qs(urlsplit(src).query) == {"near": ["LS6"], "kind": ["group"]}
    assert resp.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("https://elsewhere.example/search?kind=group", 404),
        ("{base}/listing/x/y", 404),
        ("{base}/api/v1/search", 404),
        ("{base}/search?when=today", 400),
        ("", 400),
    ],
)
async def test_oembed_only_for_this_nodes_search_and_embed_pages(client: Any, url: str, status: int) -> None:
    base = f"http://127.0.0.1:{client.server.port}"
    resp = await client.get("/oembed", params={"url": url.format(base=base)})
    assert resp.status == status
    assert (await resp.json())["ok"] is False


async def test_oembed_xml_is_not_implemented(client: Any) -> None:
    base = f"http://127.0.0.1:{client.server.port}"
    assert (await client.get("/oembed", params={"url": f"{base}/search", "format": "xml"})).status == 501


async def test_search_page_has_oembed_discovery_and_a_builder_link(client: Any) -> None:
    text = await (await client.get("/search?kind=group&near=LS6")).text()
    link = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', text)
    assert link is not None
    href = html.unescape(link.group(1))
    assert href.startswith(f"http://127.0.0.1:{client.server.port}/oembed?")
    oembed = await client.get(href.split(str(client.server.port), 1)[1])
    assert oembed.status == 200
    assert 'href="/embed/build?near=LS6&amp;kind=group"' in text


async def test_builder_works_without_javascript_and_shows_the_snippets(client: Any) -> None:
    empty = await (await client.get("/embed/build")).text()
    assert "<form" in empty and "Make my snippet" in empty
    resp = await client.get("/embed/build?kind=group&near=LS6&delivery=in_person&delivery=online")
    text = html.unescape(await resp.text())
    assert resp.status == 200
    base = f"http://127.0.0.1:{client.server.port}"
    assert f'<script src="{base}/static/widget.js" async></script>' in text
    assert '<signpost-directory filters="near=LS6&kind=group&delivery=in_person%2Conline"></signpost-directory>' in text
    assert f"{base}/search?near=LS6&kind=group&delivery=in_person%2Conline" in text
    assert "<script" not in (await resp.text()).split("<main")[1].replace("&lt;script", "")
    bad = await client.get("/embed/build?kind=nonsense")
    assert bad.status == 400 and "is not one we know" in await bad.text()


@pytest.mark.parametrize("path", ["/static/widget.js", "/embed.js"])
async def test_scripts_use_no_storage_cookies_or_other_hosts(client: Any, path: str) -> None:
    resp = await client.get(path)
    assert resp.status == 200 and resp.content_type == "text/javascript"
    js = await resp.text()
    for forbidden in (
        "localStorage",
        "sessionStorage",
        "document.cookie",
        "indexedDB",
        "fetch(",
        "XMLHttpRequest",
        "http://",
        "https://",
    ):
        assert forbidden not in js
    assert '"height"' in js
