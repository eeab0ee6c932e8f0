"""What the public views share beyond :mod:`node.web.views.common`: the clock, the listing labels,
and the JSON API's wrapper, caching and listing lookup.

The pages, the API, the embed, the calendars and the Open Referral API all
use these, so they live here rather than in one view that the others would
have to reach into (docs/architecture.md: views import no other view).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import msgspec
from aiohttp import web

from node.core.context import NODE
from node.directory.filters import Filters
from node.directory.geo import Geo, Place
from node.directory.listings import listing_payload
from node.directory.places import own_centroid
from node.directory.schedule import LONDON
from node.directory.search import SearchResults, network_names, search
from node.web.views.common import json_error, json_response
from protocol.errors import SignpostError
from protocol.records import PUBLISHER_PATTERN, RECORD_ID_PATTERN, Record

__all__ = [
    "CLOCK",
    "now_for",
    "KIND_LABELS",
    "JOIN_LABELS",
    "DELIVERY_LABELS",
    "join_label",
    "search_with_names",
    "WITHIN_CHOICES",
    "API_CACHE",
    "CORS_HEADERS",
    "api_view",
    "cached_json",
    "read_listing",
    "node_geo",
]

CLOCK: web.AppKey[Callable[[], dt.datetime]] = web.AppKey("clock")
API_CACHE: Final = "public, max-age=60"
CORS_HEADERS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag",
}
# kind → (singular, plural, one-line explanation for the home page)
KIND_LABELS: Final[dict[str, tuple[str, str, str]]] = {
    "group": ("Group", "Groups", "people with shared experience meeting to support each other"),
    "service": ("Service", "Services", "peer support lines, crisis spaces and one-to-one support"),
    "event": ("Event", "Events", "one-off days, fairs and gatherings"),
    "training": ("Training", "Training", "courses for peer supporters and group facilitators"),
    "role": ("Role", "Volunteer and paid roles", "ways to give peer support yourself"),
    "resource": ("Resource", "Resources", "guides, templates and toolkits"),
    "organisation": ("Organisation", "Organisations", "the networks and charities behind the listings"),
}
WITHIN_CHOICES: Final = (2, 5, 10, 25, 50)
_RECORD = msgspec.json.Decoder(Record)
_ENCODE = msgspec.json.Encoder()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# The node's own area (its listings' centroid) is read again after this many seconds.
NODE_AREA_TTL: Final = 600.0


async def node_geo(request: web.Request) -> Geo:
    """The node's geography: the gazetteer plus its coordinator's ``[places]`` and its own area.

    Shared names are read as the one nearest the node's own listings (node.directory.geo, rule 3);
    kept on the node for :data:`NODE_AREA_TTL` seconds, and rebuilt at once when ``[places]`` changes.
    """
    node = request.app[NODE]
    key = tuple(sorted((name, repr(value)) for name, value in node.config.places.items()))
    cached = node.extras.get("geo")
    if isinstance(cached, tuple) and cached[0] == key and cached[1] > time.monotonic():
        geo: Geo = cached[2]
        return geo
    home = await node.store.read(own_centroid, node.publisher)
    geo = Geo.load().for_node(node.config.places, home)
    node.extras["geo"] = (key, time.monotonic() + NODE_AREA_TTL, geo)
    return geo


def now_for(request: web.Request) -> dt.datetime:
    """The node's clock (fixed by tests through the ``CLOCK`` key), in London time."""
    clock = request.app.get(CLOCK)
    return (clock() if clock is not None else dt.datetime.now(dt.UTC)).astimezone(LONDON)


def api_view(handler: Handler) -> Handler:
    """Every answer, errors included, is readable cross-origin and in the one JSON error shape."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as e:
            if e.status < 400:
                raise
            if e.content_type == "application/json" and e.text:
                response = web.Response(status=e.status, text=e.text, content_type="application/json")
                response.headers["Cache-Control"] = "no-store"
            else:
                response = json_error(e.status, e.reason)
        except SignpostError as e:
            response = json_error(e.http_status, e.message, hint=e.hint, reason=e.reason)
        response.headers.update(CORS_HEADERS)
        return response

    return wrapped


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): ``W/"x"`` matches ``"x"``; ``*`` matches anything."""
    tags = [t.strip() for t in header.split(",")]
    bare = etag.removeprefix("W/")
    return "*" in tags or any(t.removeprefix("W/") == bare for t in tags)


def cached_json(request: web.Request, body: Any, *, cache: str = API_CACHE) -> web.Response:
    """A 200 JSON answer with a weak ETag over its bytes, or a 304 when the client already has them."""
    data = body if isinstance(body, bytes) else _ENCODE.encode(body)
    etag = 'W/"' + hashlib.sha256(data).hexdigest()[:24] + '"'
    headers = {"ETag": etag, "Cache-Control": cache, **CORS_HEADERS}
    if _etag_matches(request.headers.get("If-None-Match", ""), etag):
        return web.Response(status=304, headers=headers)
    return json_response(data, headers=headers)


async def read_listing(request: web.Request) -> tuple[Record, str]:
    """The live record named by the path, and its network's name; 404 when missing, malformed or deleted."""
    publisher, rid = request.match_info["publisher"], request.match_info["id"]
    if not re.match(PUBLISHER_PATTERN, publisher) or not re.match(RECORD_ID_PATTERN, rid):
        raise web.HTTPNotFound(reason="No such listing")
    node = request.app[NODE]

    def read(conn: sqlite3.Connection) -> tuple[str, str] | None:
        payload = listing_payload(conn, publisher, rid)
        if payload is None:
            return None
        names = network_names(conn, [publisher], own_publisher=node.publisher, own_name=node.config.node.name)
        return payload, names[publisher]

    found = await node.store.read(read)
    if found is None:
        raise web.HTTPNotFound(reason="No such listing")
    return _RECORD.decode(found[0]), found[1]


JOIN_LABELS: Final = {
    "drop_in": "Just turn up",
    "booking": "Book a place first",
    "referral": "You need a referral",
    "contact_first": "Get in touch before your first visit",
}
# "Just turn up" is for a place; a drop-in line or online group is joined another way.
DROP_IN_BY_DELIVERY: Final = {
    "phone": "Just call: there is no need to book",
    "online": "Just join online: there is no need to book",
    "hybrid": "Just turn up, or join online: there is no need to book",
}
DELIVERY_LABELS: Final = {
    "in_person": "In person",
    "online": "Online",
    "phone": "By phone",
    "hybrid": "In person and online",
}


def join_label(record: Record) -> str | None:
    """How to join, in words that fit how the listing is delivered (the page, the card and the handout say the same)."""
    if record.join is None:
        return None
    if record.join.method == "drop_in":
        return DROP_IN_BY_DELIVERY.get(record.delivery, JOIN_LABELS["drop_in"])
    return JOIN_LABELS[record.join.method]


async def search_with_names(
    request: web.Request, filters: Filters, *, place: Place | None, limit: int, offset: int = 0
) -> tuple[SearchResults, dict[str, str]]:
    """A page of search results and the display names of its publishers, read together (one reader turn).

    The API, the embed, the handout and the Open Referral API all show results "published by" a
    network; they ask here, so every one names networks the same way (``network_names``).
    """
    node = request.app[NODE]
    now = now_for(request)

    def read(conn: sqlite3.Connection) -> tuple[SearchResults, dict[str, str]]:
        results = search(conn, filters, place=place, now=now, limit=limit, offset=offset)
        names = network_names(
            conn, [h.publisher for h in results.items], own_publisher=node.publisher, own_name=node.config.node.name
        )
        return results, names

    return await node.store.read(read)
