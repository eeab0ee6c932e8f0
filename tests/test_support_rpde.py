"""OpenActive's RPDE validator, run through ``validate_rpde``, passes a correct feed and
names the rule each kind of broken feed breaks."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from support.rpde import RpdeReport, validate_rpde

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("node_tools")]

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
MAX_SAFE_INTEGER = 9007199254740991


def _items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {"state": "updated", "kind": "Listing", "id": f"listing-{n}", "modified": n, "data": {"name": f"Group {n}"}}
        for n in range(1, 7)
    ]
    items.append({"state": "deleted", "kind": "Listing", "id": "listing-0", "modified": 7})
    return items


@dataclass(frozen=True)
class Feed:
    """Knobs for one served feed; the defaults make a correct change-number feed."""

    items: tuple[dict[str, Any], ...] = tuple(_items())
    page_size: int = 3
    next_mode: str = "advance"  # "advance" | "self" | "backwards"
    last_page_next: str = "echo"  # "echo": next is the page itself; "first": next points back to the start
    content_type: str = "application/json"
    status: int = 200
    license: bool = True
    modified_as_text: bool = False


async def _serve_page(request: web.Request) -> web.Response:
    feed: Feed = request.app[FEED]
    base = f"http://127.0.0.1:{request.url.port}/feed"
    after = int(request.query.get("afterChangeNumber", "0"))
    page = [item for item in feed.items if item["modified"] > after][: feed.page_size]
    if page:
        last = page[-1]["modified"]
        next_number = {"advance": last, "self": after, "backwards": max(after - 1, 1)}[feed.next_mode]
        if feed.next_mode == "self" and "afterChangeNumber" not in request.query:
            next_url = base
        else:
            next_url = f"{base}?afterChangeNumber={next_number}"
        cache = "public, max-age=3600"
    else:
        echoed = request.query.get("afterChangeNumber")
        if feed.last_page_next == "echo":
            next_url = base if echoed is None else f"{base}?afterChangeNumber={echoed}"
        else:
            next_url = f"{base}?afterChangeNumber=1"
        cache = "public, max-age=8"
    items = (
        [dict(item, modified=f"2025-01-0{item['modified']}T00:00:00Z") for item in page]
        if feed.modified_as_text
        else page
    )
    body: dict[str, Any] = {"next": next_url, "items": items}
    if feed.license:
        body["license"] = LICENSE
    response = web.json_response(body, status=feed.status, headers={"Cache-Control": cache})
    response.content_type = feed.content_type
    return response


FEED = web.AppKey("feed", Feed)


async def _start(aiohttp_server: Any, feed: Feed) -> str:
    app = web.Application()
    app[FEED] = feed
    app.router.add_get("/feed", _serve_page)
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}/feed"


async def test_correct_feed_has_no_failures(aiohttp_server: Any) -> None:
    url = await _start(aiohttp_server, Feed())
    report = await validate_rpde(url)
    assert report.ok, report.describe()
    assert report.validator == "@openactive/rpde-validator@3.0.3571"
    # The validator walks the feed, then probes the last page itself.
    assert report.pages[:4] == [url] + [f"{url}?afterChangeNumber={n}" for n in (3, 6, 7)]
    assert f"{url}?afterChangeNumber={MAX_SAFE_INTEGER}" in report.pages
    # Warnings no small feed can avoid: pages under 500 items, and the walk's own
    # last page is held to the 3600 s max-age meant for full pages.
    assert report.rules("warning") == {"MinimumItemsRule", "HttpCacheHeaderRule"}, report.describe()


BROKEN = [
    pytest.param(Feed(next_mode="self"), {"NextPageNotCurrentPageRule"}, id="next-never-advances"),
    pytest.param(
        Feed(next_mode="backwards"), {"AfterChangeNumberRule", "DuplicateItemsRule"}, id="next-goes-backwards"
    ),
    pytest.param(
        Feed(items=tuple(sorted(_items(), key=lambda i: i["id"], reverse=True))),
        {"DuplicateItemsRule"},
        id="items-out-of-change-number-order",
    ),
    pytest.param(Feed(last_page_next="first"), {"LastPageUrlIsSelfRule"}, id="last-page-next-is-not-itself"),
    pytest.param(Feed(license=False), {"RequiredPropertiesRule"}, id="no-license"),
    pytest.param(Feed(modified_as_text=True), {"AfterChangeNumberRule"}, id="modified-is-a-timestamp-string"),
    pytest.param(Feed(content_type="text/html"), {"HttpContentTypeRule"}, id="html-content-type"),
    pytest.param(Feed(status=500), {"HttpStatusRule"}, id="server-error"),
    pytest.param(
        Feed(items=(dict(_items()[-1], data={"name": "gone"}),)),
        {"RequiredItemPropertiesRule"},
        id="deleted-item-with-data",
    ),
    pytest.param(Feed(items=()), {"LastPageCheckRule"}, id="empty-feed"),
]


@pytest.mark.parametrize(("feed", "expected_rules"), BROKEN)
async def test_broken_feed_fails_the_rule_it_breaks(aiohttp_server: Any, feed: Feed, expected_rules: set[str]) -> None:
    url = await _start(aiohttp_server, feed)
    report = await validate_rpde(url, page_limit=6)
    assert not report.ok
    assert expected_rules <= report.rules("failure"), report.describe()


async def test_unreachable_feed_is_a_failure_not_a_pass() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    report = await validate_rpde(f"http://127.0.0.1:{closed_port}/feed")
    assert report.rules("failure") == {"FetchFailed"}, report.describe()
    assert "ECONNREFUSED" in report.failures[0].message


async def test_response_without_content_type_is_a_failure_not_a_crash() -> None:
    """aiohttp always sends a Content-Type, so this page comes from a bare socket server."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        port = writer.get_extra_info("sockname")[1]
        body = json.dumps({"next": f"http://127.0.0.1:{port}/feed", "items": [], "license": LICENSE}).encode()
        head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        report = await validate_rpde(f"http://127.0.0.1:{port}/feed")
    assert "RuleCrashed" in report.rules("failure"), report.describe()
    assert any("HttpContentTypeRule threw" in issue.message for issue in report.failures)


def test_report_describe_lists_every_failure_and_warning() -> None:
    raw = {"rule": "R", "type": "t", "severity": "failure", "message": "broken", "url": "http://x/feed"}
    from support.rpde import RpdeIssue

    issue = RpdeIssue.from_json(raw)
    report = RpdeReport("http://x/feed", "v", [issue], [dataclasses.replace(issue, severity="warning")], [])
    assert report.describe().splitlines() == [
        "v on http://x/feed: 1 failures",
        "  FAIL [R] broken (http://x/feed)",
        "  warn [R] broken (http://x/feed)",
    ]
