"""``GET /feed``: the RPDE 1.0 feed, change-number ordering (spec §6).

Envelopes are stored as the bytes their publishers' envelopes arrived in and
spliced into the page with ``msgspec.Raw``: the feed never decodes or
re-encodes a record to serve it.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

import msgspec
from aiohttp import web
from msgspec import Raw, Struct

from node.core.context import NODE
from node.directory.slices import SLICE_PARAMS, SliceRow, parse_slice, slice_rows
from node.storage.ledger import FeedRow, feed_rows
from node.storage.store import get_meta
from node.web.views.common import allowed_params, int_param, json_response
from protocol.feed import PAGE_SIZE

__all__ = ["routes", "RawItem", "RawPage", "render_page"]

routes = web.RouteTableDef()


class RawItem(Struct, kw_only=True, omit_defaults=True):
    state: str
    kind: str
    id: str
    modified: int
    data: Raw | None = None
    tombstone: Raw | None = None


class RawPage(Struct, kw_only=True):
    next: str
    items: list[RawItem]
    license: str
    epoch: str


_ENCODE = msgspec.json.Encoder()


def item_for(row: FeedRow) -> RawItem:
    rid = f"{row.publisher}/{row.id}"
    if row.deleted:
        return RawItem(state="deleted", kind=row.kind, id=rid, modified=row.change, tombstone=Raw(row.envelope))
    return RawItem(state="updated", kind=row.kind, id=rid, modified=row.change, data=Raw(row.envelope))


def render_page(base: str, after: int, items: list[RawItem], *, license: str, epoch: str, query: str = "") -> bytes:
    last = items[-1].modified if items else after
    page = RawPage(next=f"{base}/feed?{query}afterChangeNumber={last}", items=items, license=license, epoch=epoch)
    return _ENCODE.encode(page)


def slice_item_for(row: SliceRow) -> RawItem:
    """A slice's item: updated with data, deleted with a tombstone, or deleted bare ("left this slice")."""
    rid = f"{row.publisher}/{row.id}"
    if row.data is not None:
        return RawItem(state="updated", kind=row.kind, id=rid, modified=row.change, data=Raw(row.data))
    tombstone = Raw(row.tombstone) if row.tombstone is not None else None
    return RawItem(state="deleted", kind=row.kind, id=rid, modified=row.change, tombstone=tombstone)


async def slice_feed(request: web.Request, after: int) -> web.StreamResponse:
    """``/feed?kind=group&near=LS6…``: the feed through a filter (spec §6.5; see :mod:`node.directory.slices`)."""
    sl = parse_slice(request.query)
    node = request.app[NODE]
    kept = [(k, v) for k, v in request.query.items() if k != "afterChangeNumber"]
    query = urlencode(kept) + "&"

    def read(conn):  # type: ignore[no-untyped-def]
        return slice_rows(conn, sl, after, PAGE_SIZE), get_meta(conn, "epoch") or ""

    rows, epoch = await node.store.read(read)
    last = rows[-1].change if rows else after
    digest = hashlib.sha256(query.encode()).hexdigest()[:12]
    etag = f'W/"{epoch}-{digest}-{after}-{last}-{len(rows)}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=3600" if len(rows) == PAGE_SIZE else "public, max-age=8",
        "Access-Control-Allow-Origin": "*",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    body = render_page(
        node.config.base_url,
        after,
        [slice_item_for(r) for r in rows],
        license=node.config.node.license,
        epoch=epoch,
        query=query,
    )
    return json_response(body, headers=headers)


@routes.get("/feed")
async def feed(request: web.Request) -> web.StreamResponse:
    allowed_params(request, {"afterChangeNumber", "when", *SLICE_PARAMS})
    after = int_param(request, "afterChangeNumber", default=0)
    assert after is not None
    if len(request.query) > ("afterChangeNumber" in request.query):
        return await slice_feed(request, after)
    node = request.app[NODE]

    def read(conn):  # type: ignore[no-untyped-def]
        return feed_rows(conn, after, PAGE_SIZE), get_meta(conn, "epoch") or ""

    rows, epoch = await node.store.read(read)
    last = rows[-1].change if rows else after
    etag = f'W/"{epoch}-{after}-{last}-{len(rows)}"'
    full = len(rows) == PAGE_SIZE
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=3600" if full else "public, max-age=8",
        "Access-Control-Allow-Origin": "*",
    }
    if etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    body = render_page(
        node.config.base_url, after, [item_for(r) for r in rows], license=node.config.node.license, epoch=epoch
    )
    return json_response(body, headers=headers)
