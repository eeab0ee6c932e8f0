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
from typing import Any, Final
from urllib.parse import quote, urlencode

import msgspec
from aiohttp import web

from node.core.context import NODE
from node.directory.filters import FILTER_PARAMS, is_stale, parse_filters, to_params
from node.directory.geo import Place
from node.directory.schedule import Occurrence, describe, format_occurrence, next_occurrence
from node.directory.search import resolve_place
from node.exports.openapi import openapi_document
from node.web.views.common import allowed_params, int_param
from node.web.views.shared import (
    CORS_HEADERS,
    api_view,
    cached_json,
    node_geo,
    now_for,
    read_listing,
    search_with_names,
)
from protocol.records import Record

__all__ = ["routes", "MAX_PER_PAGE", "MAX_PAGE", "listing_item"]

routes = web.RouteTableDef()
MAX_PER_PAGE: Final = 100
DEFAULT_PER_PAGE: Final = 20
MAX_PAGE: Final = 500


def listing_item(
    record: Record,
    *,
    base: str,
    network: str,
    now: dt.datetime,
    nxt: Occurrence | None,
    distance_km: float | None = None,
) -> dict[str, Any]:
    """One listing as the API shows it: stable id, links, what the node works out, and the record itself.

    ``nxt`` is its next date from ``now`` (a search hit carries it already).
    """
    today = now.date()
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
    return {
        "label": place.label,
        "kind": place.kind,
        "lat": round(place.lat, 5),
        "lon": round(place.lon, 5),
        "district": place.district_name,
    }


@routes.get("/api/v1/search")
@api_view
async def api_search(request: web.Request) -> web.StreamResponse:
    allowed_params(request, set(FILTER_PARAMS) | {"page", "per_page"})
    page = int_param(request, "page", default=1, minimum=1, maximum=MAX_PAGE)
    per_page = int_param(request, "per_page", default=DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE)
    assert page is not None and per_page is not None
    filters = parse_filters(request.query)
    place = resolve_place(filters, await node_geo(request))
    node = request.app[NODE]
    now = now_for(request)

    results, names = await search_with_names(
        request, filters, place=place, limit=per_page, offset=(page - 1) * per_page
    )
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
            listing_item(
                h.record, base=base, network=names[h.publisher], now=now, nxt=h.next, distance_km=h.distance_km
            )
            for h in results.items
        ],
    }
    return cached_json(request, body)


@routes.get("/api/v1/listings/{publisher}/{id}")
@api_view
async def api_listing(request: web.Request) -> web.StreamResponse:
    allowed_params(request, set())
    record, network = await read_listing(request)
    node = request.app[NODE]
    now = now_for(request)
    nxt = next_occurrence(record.schedule, now) if record.schedule else None
    item = listing_item(record, base=node.config.base_url, network=network, now=now, nxt=nxt)
    body = {"ok": True, "item": item}
    return cached_json(request, body)


@routes.get("/api/openapi.json")
@api_view
async def api_description(request: web.Request) -> web.StreamResponse:
    node = request.app[NODE]
    return cached_json(
        request, openapi_document(node.config.base_url, node.config.node.name), cache="public, max-age=3600"
    )


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
