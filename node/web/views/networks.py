"""The networks in public: ``/networks``, ``/networks/{publisher}`` and their JSON twins.

Every publisher this node carries, described in its own words (its signed
``organisation`` record) with what the node works out locally: counts by kind,
commonest topics, when it last published and which peer it came through
(:mod:`node.directory.networks`).  Searchable by words (``q``) and place
(``near``, ``within``), with the same place names as the search page.  The JSON
routes are described in ``/api/openapi.json`` (:mod:`node.exports.openapi`).
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any

import msgspec
from aiohttp import web

from node.core.context import NODE
from node.directory.filters import FilterError, parse_filters
from node.directory.geo import Place
from node.directory.networks import NEAR_KM, Network, network, networks
from node.directory.schedule import format_date
from node.directory.search import UnknownPlace, peer_names, resolve_place
from node.web.templating import TEMPLATES
from node.web.views.common import allowed_params
from node.web.views.shared import KIND_LABELS, WITHIN_CHOICES, api_view, cached_json, now_for
from protocol.records import PUBLISHER_PATTERN, TOPICS, AreaLocation, PublicLocation

__all__ = ["routes", "network_item"]

routes = web.RouteTableDef()
_PARAMS = {"q", "near", "within"}
JOIN_WORDS = {
    "drop_in": "Just turn up",
    "booking": "Book a place first",
    "referral": "You need a referral",
    "contact_first": "Get in touch first",
}


def _area(n: Network) -> str | None:
    loc = n.about.location if n.about is not None else None
    if isinstance(loc, (PublicLocation, AreaLocation)) and loc.area:
        return loc.area
    if n.about is not None and n.about.delivery in ("online", "phone"):
        return "Across the UK, online and by phone"
    return None


def _offers(n: Network) -> list[str]:
    return [
        f"{count} {KIND_LABELS[kind][0 if count == 1 else 1].lower()}"
        for kind, count in sorted(n.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def _view(n: Network, vias: dict[str, str]) -> dict[str, Any]:
    about = n.about
    return {
        "n": n,
        "url": f"/networks/{n.publisher}",
        "area": _area(n),
        "offers": _offers(n),
        "topics": [TOPICS.get(t, t.replace("-", " ")) for t in n.topics],
        "contact": about.contact if about is not None else None,
        "join": about.join if about is not None else None,
        "join_words": JOIN_WORDS[about.join.method] if about is not None and about.join else None,
        "website": about.website if about is not None else None,
        "last": format_date(dt.date.fromisoformat(n.last_published[:10])),
        "via": vias.get(n.via) if n.via else None,
        "distance": f"{n.distance_km:.0f} km away" if n.distance_km is not None and n.distance_km >= 1 else None,
    }


def network_item(n: Network, *, base: str, via_name: str | None) -> dict[str, Any]:
    """One network as the JSON API shows it: its own record as signed, and what the node counted."""
    return {
        "publisher": n.publisher,
        "name": n.name,
        "url": f"{base}/networks/{n.publisher}",
        "area": _area(n),
        "counts": n.counts,
        "total": n.total,
        "topics": n.topics,
        "areas": n.areas,
        "last_published": n.last_published,
        "via": n.via,
        "via_name": via_name,
        "distance_km": round(n.distance_km, 2) if n.distance_km is not None else None,
        "organisation": msgspec.to_builtins(n.about) if n.about is not None else None,
    }


def _query(request: web.Request) -> tuple[str, str, float, Place | None]:
    filters = parse_filters({k: v for k, v in request.query.items() if k in ("near", "within")})
    q = request.query.get("q", "")[:200]
    place = resolve_place(filters)
    return q, filters.near, filters.within_km or NEAR_KM, place


async def _list(
    request: web.Request, q: str, place: Place | None, within: float
) -> tuple[list[Network], dict[str, str]]:
    node = request.app[NODE]
    now = now_for(request)

    def read(conn: sqlite3.Connection) -> tuple[list[Network], dict[str, str]]:
        found = networks(
            conn,
            own_publisher=node.publisher,
            own_name=node.config.node.name,
            now=now,
            q=q,
            place=place,
            within_km=within,
        )
        return found, peer_names(conn, [n.via for n in found if n.via])

    return await node.store.read(read)


@routes.get("/networks")
async def networks_page(request: web.Request) -> web.Response:
    node = request.app[NODE]
    templates = request.app[TEMPLATES]
    ctx: dict[str, Any] = {
        "site_name": node.config.node.name,
        "title": "Peer support networks",
        "q": request.query.get("q", "")[:200],
        "near": request.query.get("near", "")[:100],
        "within_choices": WITHIN_CHOICES,
        "within": request.query.get("within", ""),
        "error": None,
        "suggestions": [],
        "items": [],
    }
    try:
        q, near, within, place = _query(request)
    except UnknownPlace as e:
        ctx.update(error=e, suggestions=e.suggestions)
        return templates.render("networks.html", ctx, status=400)
    except FilterError as e:
        ctx.update(error=e)
        return templates.render("networks.html", ctx, status=400)
    found, vias = await _list(request, q, place, within)
    ctx.update(items=[_view(n, vias) for n in found], place=place.label if place else None, searched=bool(q or near))
    return templates.render("networks.html", ctx)


async def _one(request: web.Request) -> tuple[Network, dict[str, str]]:
    publisher = request.match_info["publisher"]
    if not re.match(PUBLISHER_PATTERN, publisher):
        raise web.HTTPNotFound(reason="No such network")
    node = request.app[NODE]
    now = now_for(request)

    def read(conn: sqlite3.Connection) -> tuple[Network | None, dict[str, str]]:
        n = network(conn, publisher, own_publisher=node.publisher, own_name=node.config.node.name, now=now)
        return n, peer_names(conn, [n.via]) if n is not None and n.via else {}

    n, vias = await node.store.read(read)
    if n is None:
        raise web.HTTPNotFound(reason="No such network")
    return n, vias


@routes.get("/networks/{publisher}")
async def network_page(request: web.Request) -> web.Response:
    node = request.app[NODE]
    n, vias = await _one(request)
    by_kind: dict[str, list[Any]] = {}
    for item in n.listings:
        by_kind.setdefault(item.kind, []).append(item)
    ctx = {
        "site_name": node.config.node.name,
        "title": n.name,
        **_view(n, vias),
        "groups": [(KIND_LABELS[k][1], items) for k, items in by_kind.items()],
    }
    return request.app[TEMPLATES].render("network.html", ctx)


@routes.get("/api/v1/networks")
@api_view
async def networks_api(request: web.Request) -> web.Response:
    node = request.app[NODE]
    allowed_params(request, _PARAMS)
    q, _, within, place = _query(request)
    found, vias = await _list(request, q, place, within)
    base = node.config.base_url
    return cached_json(
        request,
        {
            "ok": True,
            "total": len(found),
            "near": place.label if place else None,
            "items": [network_item(n, base=base, via_name=vias.get(n.via) if n.via else None) for n in found],
        },
    )


@routes.get("/api/v1/networks/{publisher}")
@api_view
async def network_api(request: web.Request) -> web.Response:
    node = request.app[NODE]
    n, vias = await _one(request)
    base = node.config.base_url
    item = network_item(n, base=base, via_name=vias.get(n.via) if n.via else None)
    item["listings"] = [
        {
            "id": f"{n.publisher}/{x.id}",
            "record_id": x.id,
            "kind": x.kind,
            "name": x.name,
            "summary": x.summary,
            "url": f"{base}/listing/{n.publisher}/{x.id}",
            "api": f"{base}/api/v1/listings/{n.publisher}/{x.id}",
        }
        for x in n.listings
    ]
    return cached_json(request, {"ok": True, "network": item})
