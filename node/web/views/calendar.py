"""``/listing/{publisher}/{id}.ics`` ("Add to calendar") and ``/calendar.ics?<slice>`` (subscribe).

The calendar text is built by :mod:`node.exports.calendar`; a slice calendar holds
every listing in the slice (:mod:`node.directory.slices`, so the same filters as the
slice feed, ``when`` refused) that has dates, up to :data:`MAX_LISTINGS`.
"""

from __future__ import annotations

import sqlite3
from typing import Final

from aiohttp import web

from node.core.context import NODE
from node.directory.filters import to_params
from node.directory.listings import slice_records
from node.directory.search import network_names
from node.directory.slices import SLICE_PARAMS, parse_slice
from node.exports.calendar import NoDates, build_calendar, listing_events
from node.web.views.common import allowed_params
from node.web.views.shared import CORS_HEADERS, api_view, read_listing
from protocol.records import Record

__all__ = ["routes", "MAX_LISTINGS"]

routes = web.RouteTableDef()
MAX_LISTINGS: Final = 1000


def _calendar_response(body: bytes, *, filename: str, cache: str) -> web.Response:
    response = web.Response(body=body, content_type="text/calendar", charset="utf-8")
    response.headers.update(CORS_HEADERS)
    response.headers["Cache-Control"] = cache
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _listing_url(base: str, record: Record) -> str:
    return f"{base}/listing/{record.publisher}/{record.id}"


@routes.get("/listing/{publisher}/{id}.ics")
@api_view
async def listing_calendar(request: web.Request) -> web.StreamResponse:
    allowed_params(request, set())
    record, network = await read_listing(request)
    if record.status == "closed":
        raise web.HTTPNotFound(reason="This listing has closed")
    node = request.app[NODE]
    try:
        events = listing_events(record, url=_listing_url(node.config.base_url, record), network=network)
    except NoDates as e:
        raise web.HTTPNotFound(reason=f"{e}; see its page for when it happens") from e
    body = build_calendar([events], name=record.name)
    return _calendar_response(body, filename=f"{record.id}.ics", cache="public, max-age=300")


@routes.get("/calendar.ics")
@api_view
async def slice_calendar(request: web.Request) -> web.StreamResponse:
    allowed_params(request, set(SLICE_PARAMS) | {"when"})
    sl = parse_slice(request.query)
    node = request.app[NODE]

    def read(conn: sqlite3.Connection) -> tuple[list[Record], dict[str, str]]:
        records = slice_records(conn, sl, MAX_LISTINGS)
        names = network_names(
            conn, [r.publisher for r in records], own_publisher=node.publisher, own_name=node.config.node.name
        )
        return records, names

    records, names = await node.store.read(read)
    base = node.config.base_url
    events = []
    for record in records:
        try:
            events.append(listing_events(record, url=_listing_url(base, record), network=names[record.publisher]))
        except NoDates:
            continue
    params = to_params(sl.filters)
    label = ", ".join(params.values()) or "all listings"
    body = build_calendar(
        events,
        name=f"{node.config.node.name}: {label}",
        description=f"Peer support listings from {node.config.node.name} ({label}).",
        refresh=True,
    )
    return _calendar_response(body, filename="signpost.ics", cache="public, max-age=900")
