"""The public pages over real HTTP (in-process server on 127.0.0.1)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from example_network import NOW, Network, example_records

from node.core.config import load_config
from node.web.app import create_app
from node.web.views.shared import CLOCK

Client = TestClient[Any, web.Application]
HTML = {"Accept": "text/html"}
URGENT = ['href="tel:999"', 'href="tel:111"', "option 2", 'href="tel:116123"', "116 123", 'href="sms:85258?body=SHOUT"']


@pytest.fixture
async def client(network: Network, aiohttp_client: Callable[..., Awaitable[Client]]) -> Client:
    app = create_app(load_config(network.national), sync=False)
    app[CLOCK] = lambda: NOW
    return await aiohttp_client(app, server_kwargs={"host": "127.0.0.1"})


def pages(network: Network) -> list[tuple[str, int]]:
    leeds, national = network.publishers["leeds"], network.publishers["national"]
    return [
        ("/", 200),
        ("/search?near=LS6", 200),
        ("/search?q=walking&near=Leeds&when=this-weekend", 200),
        ("/search?q=nothingmatchesthis&near=LS6", 200),
        ("/search?near=Leds", 400),
        ("/search?kind=spaceship", 400),
        ("/search?page=2", 200),
        (f"/listing/{leeds}/headingley-hearing-voices", 200),
        (f"/listing/{leeds}/the-lantern-evening-crisis-space", 200),
        (f"/listing/{national}/grwp-cymorth-cymheiriaid-ar-lein", 200),
        (f"/listing/{leeds}/no-such-listing", 404),
        ("/no/such/page", 404),
    ]


async def test_every_page_has_urgent_help_csp_and_stays_small(client: Client, network: Network) -> None:
    css = await client.get("/static/signpost.css")
    css_size = len(await css.read())
    for path, status in pages(network):
        r = await client.get(path, headers=HTML)
        body = await r.read()
        text = body.decode("utf-8")
        assert r.status == status, path
        assert r.content_type == "text/html" and r.charset == "utf-8"
        for needle in URGENT:
            assert needle in text, (path, needle)
        # The urgent help comes before anything else on the page.
        assert text.index("Need help now?") < text.index("<main")
        csp = r.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'none'" in csp and "style-src 'self'" in csp
        assert '<html lang="en-GB">' in text
        assert len(body) + css_size < 40 * 1024, (path, len(body), css_size)
        head = text.split("<main", 1)[0]
        # oEmbed discovery must be an absolute URL (WordPress fetches it as written); it names this node
        # and a browser never fetches rel="alternate". Any other absolute URL in the head would be third-party.
        head = re.sub(r'<link rel="alternate" type="application/json\+oembed" href="[^"]*"', "", head)
        assert not re.search(r'(src|href)="(https?:)?//', head), "no third-party requests in the head"
        assert "<script" not in text.replace('<script type="application/ld+json">', "")


async def test_private_group_page_shows_only_its_area(client: Client, network: Network) -> None:
    leeds = network.publishers["leeds"]
    r = await client.get(f"/listing/{leeds}/headingley-hearing-voices", headers=HTML)
    text = await r.text()
    assert "Headingley, Leeds (LS6 3)" in text and "exact place is shared when you get in touch" in text
    assert not re.search(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b", text), "no full postcode on a private group's page"
    assert "Every Tuesday, 6:30pm to 8pm" in text and "Tomorrow, 6:30pm to 8pm" in text
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]
    assert ld["@type"] == "Service" and "streetAddress" not in json.dumps(ld) and "geo" not in ld


async def test_public_listing_has_address_contact_provenance_and_json_ld(client: Client, network: Network) -> None:
    leeds = network.publishers["leeds"]
    text = await (await client.get(f"/listing/{leeds}/the-lantern-evening-crisis-space", headers=HTML)).text()
    assert "Fridays, Saturdays and Sundays, 6pm to 2am (overnight)" in text
    assert "Friday 27 November, 6pm to 2am (overnight)" in text
    assert "Published by Leeds Peer Support Network" in text
    assert "Arrived via Leeds peer support node" in text and network.urls["leeds"] in text
    assert "Last checked" in text


async def test_event_listing_is_a_schema_org_event(client: Client, network: Network) -> None:
    leeds = network.publishers["leeds"]
    text = await (await client.get(f"/listing/{leeds}/winter-wellbeing-fair-2026", headers=HTML)).text()
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]
    assert (
        ld["@type"] == "Event"
        and ld["startDate"] == "2026-12-05T10:00:00+00:00"
        and ld["location"]["address"]["postalCode"]
    )


async def test_welsh_and_emoji_render_as_utf8(client: Client, network: Network) -> None:
    national = network.publishers["national"]
    r = await client.get(f"/listing/{national}/grwp-cymorth-cymheiriaid-ar-lein", headers=HTML)
    text = await r.text()
    welsh = next(rec for rec in example_records("national") if rec["id"] == "grwp-cymorth-cymheiriaid-ar-lein")
    assert str(welsh["name"]) in text and "Bob yn ail nos Fawrth" in text
    r = await client.get("/search", params={"q": "🌈 ŵ"}, headers=HTML)
    assert r.status == 200 and "🌈 ŵ" in await r.text()


async def test_results_show_schedule_next_date_distance_and_publisher(client: Client) -> None:
    text = await (await client.get("/search", params={"near": "LS6", "kind": "group"}, headers=HTML)).text()
    assert "Every Tuesday, 6:30pm to 8pm" in text and "Next:</strong> Tomorrow, 6:30pm to 8pm" in text
    assert "km away" in text and "Published by Leeds Peer Support Network, via Leeds peer support node" in text
    assert "Published by Peer Support Together UK" in text  # national's own online groups
    assert "Offered online, wherever you are." in text


async def test_stale_listings_are_flagged(client: Client) -> None:
    text = await (await client.get("/search", params={"topic": "carers"}, headers=HTML)).text()
    assert "May be out of date: last checked Wednesday 10 December 2025" in text


async def test_empty_results_suggest_what_to_widen(client: Client) -> None:
    text = await (
        await client.get(
            "/search", params={"q": "hearing voices", "near": "Lambeth", "when": "this-weekend"}, headers=HTML
        )
    ).text()
    assert (
        "Nothing found" in text
        and "Any day or time" in text
        and 'href="/search?q=hearing+voices&amp;near=Lambeth"' in text
    )


async def test_unknown_place_says_so_and_suggests(client: Client) -> None:
    r = await client.get("/search", params={"near": "Leds", "q": "walk"}, headers=HTML)
    text = await r.text()
    assert (
        r.status == 400
        and "We don’t recognise".replace("’", "'") in text
        and 'href="/search?q=walk&amp;near=Leeds"' in text
    )


async def test_pagination_links_keep_the_filters(client: Client) -> None:
    text = await (await client.get("/search", params={"near": "Leeds"}, headers=HTML)).text()
    assert "Page 1 of" in text and 'href="/search?near=Leeds&amp;page=2"' in text
    text = await (await client.get("/search", params={"near": "Leeds", "page": "2"}, headers=HTML)).text()
    assert 'href="/search?near=Leeds" rel="prev"' in text


@pytest.mark.parametrize(
    "path", ["/search?page=0", "/search?page=x", "/search?when=someday", "/search?q=%22&kind=group&kind=spaceship"]
)
async def test_bad_parameters_get_a_readable_page(client: Client, path: str) -> None:
    r = await client.get(path, headers=HTML)
    assert r.status == 400 and "We couldn't do that search" in await r.text()


async def test_html_is_escaped(client: Client) -> None:
    text = await (await client.get("/search", params={"q": "<script>alert(1)</script>"}, headers=HTML)).text()
    assert "<script>alert" not in text and "&lt;script&gt;" in text


async def test_static_css_is_cached_with_an_etag(client: Client) -> None:
    r = await client.get("/static/signpost.css")
    assert r.status == 200 and "max-age" in r.headers["Cache-Control"]
    again = await client.get("/static/signpost.css", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status == 304


class _Labels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.fors: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select") and a.get("type") not in ("checkbox", "hidden"):
            self.ids.add(str(a.get("id")))
        if tag == "label" and a.get("for"):
            self.fors.add(str(a["for"]))


async def test_every_form_field_has_a_label(client: Client) -> None:
    parser = _Labels()
    parser.feed(await (await client.get("/", headers=HTML)).text())
    assert parser.ids and parser.ids <= parser.fors


async def test_a_shared_place_name_leans_towards_the_searchers_last_place(client: Client) -> None:
    """The results page carries the place it searched ("from"), so the next search's shared name
    is read near it: Beeston after Nottingham is Beeston, Broxtowe; after Leeds, Beeston, Leeds."""
    first = await (await client.get("/search", params={"near": "Nottingham"})).text()
    last = re.search(r'name="from" value="([^"]+)"', first)
    assert last is not None and "Nottingham" in last.group(1)
    after = await (await client.get("/search", params={"near": "Beeston", "from": last.group(1)})).text()
    assert 'name="from" value="Beeston, Broxtowe"' in after
    assert "Beeston, Leeds</a>" in after  # the other Beeston, one click away
    after_leeds = await (await client.get("/search", params={"near": "Beeston", "from": "Leeds"})).text()
    assert 'name="from" value="Beeston, Leeds"' in after_leeds
    # An unknown or hostile "from" is ignored, never an error.
    odd = await client.get("/search", params={"near": "Beeston", "from": "<script>nowhere" * 20})
    assert odd.status == 200
