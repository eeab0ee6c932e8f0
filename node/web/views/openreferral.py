"""Read-only Open Referral UK API: ``/openreferral/``, ``/openreferral/services``, ``/openreferral/services/{id}``.

Searching uses the node's own search (:func:`node.directory.search.search`): ``text``
(or ``search``) is the words, ``postcode`` the place, ``proximity`` (metres)
the radius, ``taxonomy_term_id`` a topic.  Organisation records are the
publishers behind services, so they are not listed as services.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, Final

import msgspec
from aiohttp import web

from node.core.context import NODE
from node.directory.filters import FilterError, Filters, parse_filters
from node.directory.listings import listing_keys, listings_version, service_payload
from node.directory.search import network_names, resolve_place
from node.exports.openreferral import service_uuid, to_service, topic_for_term
from node.web.views.common import allowed_params, int_param
from node.web.views.shared import CORS_HEADERS, api_view, cached_json, search_with_names
from protocol.records import KINDS, Record

__all__ = ["routes", "SERVICE_KINDS", "MAX_PER_PAGE"]

routes = web.RouteTableDef()
SERVICE_KINDS: Final = tuple(k for k in KINDS if k != "organisation")
MAX_PER_PAGE: Final = 100
DEFAULT_PER_PAGE: Final = 50
_RECORD = msgspec.json.Decoder(Record)
_PARAMS: Final = {"page", "per_page", "text", "search", "postcode", "proximity", "taxonomy_term_id"}


class _IdIndex:
    """Service UUID → (publisher, id), rebuilt when the feed's last change number moves."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.key: tuple[str, str] | None = None
        self.ids: dict[str, tuple[str, str]] = {}

    def lookup(self, conn: sqlite3.Connection, sid: str) -> tuple[str, str] | None:
        key = listings_version(conn)
        with self.lock:
            if key != self.key:
                self.ids = {service_uuid(p, i): (p, i) for p, i in listing_keys(conn)}
                self.key = key
            return self.ids.get(sid)


_INDEX = _IdIndex()


def _filters(request: web.Request) -> Filters | None:
    """Filters for the query, or ``None`` when a ``taxonomy_term_id`` names no topic (nothing can match)."""
    text = request.query.get("text") or request.query.get("search") or ""
    params: dict[str, str] = {"q": text, "kind": ",".join(SERVICE_KINDS)}
    postcode = request.query.get("postcode", "")
    proximity = int_param(request, "proximity", default=None, minimum=500, maximum=200_000)
    if proximity is not None and not postcode:
        raise FilterError("proximity", "needs a postcode to measure from")
    if postcode:
        params["near"] = postcode
        if proximity is not None:
            params["within"] = f"{proximity / 1000:.2f}"
    term = request.query.get("taxonomy_term_id")
    if term:
        topic = topic_for_term(term)
        if topic is None:
            return None
        params["topic"] = topic
    return parse_filters(params)


@routes.get("/openreferral/")
@routes.get("/openreferral")
@api_view
async def root(request: web.Request) -> web.StreamResponse:
    base = request.app[NODE].config.base_url
    return cached_json(
        request, {"version": "3.0", "profile": "https://openreferraluk.org/", "openapi_url": f"{base}/api/openapi.json"}
    )


@routes.get("/openreferral/services")
@api_view
async def services(request: web.Request) -> web.StreamResponse:
    allowed_params(request, _PARAMS)
    page = int_param(request, "page", default=1, minimum=1, maximum=10_000)
    per_page = int_param(request, "per_page", default=DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE)
    assert page is not None and per_page is not None
    filters = _filters(request)
    node = request.app[NODE]
    base = node.config.base_url
    contents: list[dict[str, Any]] = []
    total = 0
    if filters is not None:
        place = resolve_place(filters)

        results, names = await search_with_names(
            request, filters, place=place, limit=per_page, offset=(page - 1) * per_page
        )
        total, records = results.total, [h.record for h in results.items]
        contents = [
            to_service(r, network=names[r.publisher], listing_url=f"{base}/listing/{r.publisher}/{r.id}", full=False)
            for r in records
        ]
    pages = max(1, -(-total // per_page))
    body = {
        "total_items": total,
        "total_pages": pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= pages,
        "empty": not contents,
        "contents": contents,
    }
    return cached_json(request, body)


@routes.get("/openreferral/services/{id}")
@api_view
async def service(request: web.Request) -> web.StreamResponse:
    allowed_params(request, set())
    sid = request.match_info["id"].lower()
    node = request.app[NODE]

    def read(conn: sqlite3.Connection) -> tuple[str, str] | None:
        found = _INDEX.lookup(conn, sid)
        if found is None:
            return None
        payload = service_payload(conn, *found)
        if payload is None:
            return None
        names = network_names(conn, [found[0]], own_publisher=node.publisher, own_name=node.config.node.name)
        return payload, names[found[0]]

    found = await node.store.read(read)
    if found is None:
        raise web.HTTPNotFound(reason="No such service")
    record = _RECORD.decode(found[0])
    url = f"{node.config.base_url}/listing/{record.publisher}/{record.id}"
    return cached_json(request, to_service(record, network=found[1], listing_url=url))


@routes.route("OPTIONS", "/openreferral/{tail:.*}")
async def preflight(request: web.Request) -> web.Response:
    return web.Response(
        status=204,
        headers={
            **CORS_HEADERS,
            "Access-Control-Allow-Methods": "GET, OPTIONS",
            "Access-Control-Allow-Headers": "If-None-Match",
            "Access-Control-Max-Age": "86400",
        },
    )
