"""The JSON API for developers: ``/api/v1/search`` and ``/api/v1/listings/{publisher}/{id}``.

Same filters as the public search page (:func:`node.directory.filters.parse_filters`),
stable ids (``"{publisher}/{id}"``), the record's own fields as its publisher
signed them, and what the node works out for people: plain-language schedule
lines, the next date, distance, the publishing network's name.  Any origin may
read it (CORS ``*``, with a preflight answer), responses carry a weak ``ETag``
and answer ``304`` to a matching ``If-None-Match``, and every error is the one
JSON shape ``{"ok": false, "error": ...}``.  Described by ``/api/openapi.json``
(:mod:`node.exports.openapi`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import sqlite3
from typing import Any, Awaitable, Callable, Final
from urllib.parse import quote, urlencode

import msgspec
from aiohttp import web

from protocol.errors import SignpostError
from protocol.records import PUBLISHER_PATTERN, RECORD_ID_PATTERN, Record

from node.core.context import NODE
from node.directory.filters import FILTER_PARAMS, is_stale, parse_filters, to_params
from node.directory.geo import Place
from node.exports.openapi import openapi_document
from node.directory.schedule import LONDON, describe, format_occurrence, next_occurrence
from node.directory.search import SearchResults, network_names, resolve_place, search
from node.web.views.common import allowed_params, int_param, json_error, json_response
from node.web.views.pages import CLOCK

__all__ = [
    "routes",
    "API_CACHE",
    "CORS_HEADERS",
    "MAX_PER_PAGE",
    "MAX_PAGE",
    "api_view",
    "cached_json",
    "listing_item",
    "now_for",
    "read_listing",
]

routes = web.RouteTableDef()
API_CACHE: Final = "public, max-age=60"
CORS_HEADERS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag",
}
MAX_PER_PAGE: Final = 100
DEFAULT_PER_PAGE: Final = 20
MAX_PAGE: Final = 500
_RECORD = msgspec.json.Decoder(Record)
_ENCODE = msgspec.json.Encoder()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def now_for(request: web.Request) -> dt.datetime:
    """The node's clock (fixed by tests through the pages' ``CLOCK`` key), in London time."""
    clock = request.app.get(CLOCK)
    return (clock() if clock is not None else dt.datetime.now(dt.timezone.utc)).astimezone(LONDON)


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


def listing_item(
    record: Record,
    *,
    base: str,
    network: str,
    now: dt.datetime,
    distance_km: float | None = None,
) -> dict[str, Any]:
    """One listing as the API shows it: stable id, links, what the node works out, and the record itself."""
    today = now.date()
    nxt = next_occurrence(record.schedule, now) if record.schedule else None
    path = f"{quote(record.publisher, safe=':')}/{quote(record.id)}"
    return {
        "id": f"{record.publisher}/{record.id}",
        "publisher": record.publisher,
        "record_id": record.id,
        "kind": record.kind,
        "name": record.name,
        "summary": record.summary,
        "network": network,
        "url": f"{base}/listing/{path}",
        "calendar": f"{base}/listing/{path}.ics",
        "schedule": describe(record.schedule, today=today),
        "next": None
        if nxt is None
        else {
            "start": nxt.start.isoformat(),
            "end": nxt.end.isoformat() if nxt.end else None,
            "all_day": nxt.all_day,
            "text": format_occurrence(nxt, today=today),
        },
        "distance_km": None if distance_km is None else round(distance_km, 2),
        "updated": record.updated,
        "reviewed": record.reviewed,
        "stale": is_stale(record.reviewed, today),
        "record": msgspec.to_builtins(record),
    }


def _place_json(place: Place | None) -> dict[str, Any] | None:
    if place is None:
        return None
    return {"label": place.label, "kind": place.kind, "lat": round(place.lat, 5), "lon": round(place.lon, 5), "district": place.district_name}


@routes.get("/api/v1/search")
@api_view
async def api_search(request: web.Request) -> web.StreamResponse:
    allowed_params(request, set(FILTER_PARAMS) | {"page", "per_page"})
    page = int_param(request, "page", default=1, minimum=1, maximum=MAX_PAGE)
    per_page = int_param(request, "per_page", default=DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE)
    assert page is not None and per_page is not None
    filters = parse_filters(request.query)
    place = resolve_place(filters)
    node = request.app[NODE]
    now = now_for(request)

    def read(conn: sqlite3.Connection) -> tuple[SearchResults, dict[str, str]]:
        results = search(conn, filters, place=place, now=now, limit=per_page, offset=(page - 1) * per_page)
        names = network_names(conn, [h.publisher for h in results.items], own_publisher=node.publisher, own_name=node.config.node.name)
        return results, names

    results, names = await node.store.read(read)
    base = node.config.base_url
    params = to_params(filters)
    pages = max(1, -(-results.total // per_page))

    def link(n: int) -> str | None:
        if not 1 <= n <= min(pages, MAX_PAGE):
            return None
        return f"{base}/api/v1/search?" + urlencode({**params, "page": str(n), "per_page": str(per_page)})

    body = {
        "ok": True,
        "total": results.total,
        "page": page,
        "per_page": per_page,
        "pages": pages,
        "next": link(page + 1),
        "prev": link(page - 1) if page <= pages else None,
        "filters": params,
        "place": _place_json(place),
        "corrected_q": results.corrected_q,
        "license": node.config.node.license,
        "items": [
            listing_item(h.record, base=base, network=names[h.publisher], now=now, distance_km=h.distance_km)
            for h in results.items
        ],
    }
    return cached_json(request, body)


async def read_listing(request: web.Request) -> tuple[Record, str]:
    """The live record named by the path, and its network's name; 404 when missing, malformed or deleted."""
    publisher, rid = request.match_info["publisher"], request.match_info["id"]
    if not re.match(PUBLISHER_PATTERN, publisher) or not re.match(RECORD_ID_PATTERN, rid):
        raise web.HTTPNotFound(reason="No such listing")
    node = request.app[NODE]

    def read(conn: sqlite3.Connection) -> tuple[str, str] | None:
        row = conn.execute("SELECT payload FROM listings WHERE publisher = ? AND id = ?", (publisher, rid)).fetchone()
        if row is None:
            return None
        names = network_names(conn, [publisher], own_publisher=node.publisher, own_name=node.config.node.name)
        return str(row[0]), names[publisher]

    found = await node.store.read(read)
    if found is None:
        raise web.HTTPNotFound(reason="No such listing")
    return _RECORD.decode(found[0]), found[1]


@routes.get("/api/v1/listings/{publisher}/{id}")
@api_view
async def api_listing(request: web.Request) -> web.StreamResponse:
    allowed_params(request, set())
    record, network = await read_listing(request)
    node = request.app[NODE]
    body = {"ok": True, "item": listing_item(record, base=node.config.base_url, network=network, now=now_for(request))}
    return cached_json(request, body)


@routes.get("/api/openapi.json")
@api_view
async def api_description(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    return cached_json(request, openapi_document(node.config.base_url, node.config.node.name), cache="public, max-age=3600")


@routes.route("OPTIONS", "/api/{tail:.*}")
async def preflight(request: web.Request) -> web.Response:
    """CORS preflight: any origin may GET, sending ``If-None-Match``."""
    return web.Response(
        status=204,
        headers={
            **CORS_HEADERS,
            "Access-Control-Allow-Methods": "GET, OPTIONS",
            "Access-Control-Allow-Headers": "If-None-Match, Content-Type",
            "Access-Control-Max-Age": "86400",
        },
    )
