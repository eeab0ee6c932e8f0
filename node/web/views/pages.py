"""The public pages: home, search results, one listing, and the HTML error page.

Server-rendered, no JavaScript, every page headed by where to get urgent
help.  Register with :func:`setup` (routes, templates and the HTML error
renderer).  The clock is an AppKey (:data:`node.web.views.shared.CLOCK`) so tests
can fix "now".
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final
from urllib.parse import urlencode

import msgspec
from aiohttp import web
from multidict import MultiDict

from node.core.context import NODE
from node.directory.ending import has_ended
from node.directory.filters import (
    DELIVERY_FILTERS,
    WHENS,
    FilterError,
    Filters,
    is_stale,
    parse_filters,
    to_params,
)
from node.directory.geo import Geo
from node.directory.listings import listing_and_via, network_contact
from node.directory.schedule import (
    describe,
    format_date,
    format_occurrence,
    next_occurrence,
)
from node.directory.search import (
    Hit,
    SearchResults,
    UnknownPlace,
    network_names,
    peer_names,
    prepare,
    resolve_near,
    search,
)
from node.web.templating import TEMPLATES, Templates, json_ld
from node.web.views.common import HTML_ERROR
from node.web.views.shared import DELIVERY_LABELS, KIND_LABELS, WITHIN_CHOICES, join_label, node_geo, now_for
from protocol.records import PUBLISHER_PATTERN, RECORD_ID_PATTERN, TOPICS, AreaLocation, PublicLocation, Record

__all__ = ["routes", "setup", "PAGE_SIZE"]

log = logging.getLogger(__name__)
routes = web.RouteTableDef()
PAGE_SIZE: Final = 20
MAX_PAGE: Final = 500
_RECORD = msgspec.json.Decoder(Record)

LANGUAGE_NAMES: Final = {
    "en": "English",
    "cy": "Welsh (Cymraeg)",
    "gd": "Scottish Gaelic",
    "pl": "Polish",
    "pt": "Portuguese",
    "ur": "Urdu",
    "pa": "Punjabi",
    "bn": "Bengali",
    "ar": "Arabic",
    "so": "Somali",
    "ro": "Romanian",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "zh": "Chinese",
    "yue": "Cantonese",
    "gu": "Gujarati",
    "ta": "Tamil",
    "tr": "Turkish",
    "ku": "Kurdish",
    "fa": "Persian",
    "bsl": "British Sign Language",
    "sgn-gb": "British Sign Language",
}


def _templates(request: web.Request) -> Templates:
    return request.app[TEMPLATES]


def _base_context(request: web.Request) -> dict[str, Any]:
    node = request.app[NODE]
    return {
        "site_name": node.config.node.name,
        "kinds": KIND_LABELS,
        "whens": WHENS,
        "deliveries": DELIVERY_FILTERS,
        "topics": TOPICS,
        "within_choices": WITHIN_CHOICES,
    }


def _form_context(filters: Filters) -> dict[str, Any]:
    return {
        "f": filters,
        "f_kind": filters.kind[0] if len(filters.kind) == 1 else "",
        "f_topic": filters.topic[0] if len(filters.topic) == 1 else "",
    }


# -- what a listing looks like on a page -------------------------------------


def _where(record: Record) -> dict[str, Any]:
    """Where, as people need it; for a private group only its area (there is nothing else to show)."""
    loc = record.location
    out: dict[str, Any] = {
        "delivery": DELIVERY_LABELS[record.delivery],
        "private": record.private,
        "lines": [],
        "area": None,
    }
    if isinstance(loc, PublicLocation) and not record.private:
        out["lines"] = [p for p in (loc.name, loc.address, loc.postcode) if p]
        out["area"] = loc.area
    elif isinstance(loc, (AreaLocation, PublicLocation)):
        out["area"] = loc.area if isinstance(loc, AreaLocation) else None
        if isinstance(loc, AreaLocation) and loc.postcode_area:
            out["area"] = f"{loc.area} ({loc.postcode_area})"
    return out


def _cost(record: Record) -> str | None:
    if record.cost is None:
        return None
    if record.cost.free:
        return f"Free. {record.cost.details}" if record.cost.details else "Free"
    return record.cost.details or "There is a cost: ask for details"


def _distance(km: float | None) -> str | None:
    if km is None:
        return None
    if km < 1:
        return "less than 1 km away"
    return f"{km:.1f} km away" if km < 10 else f"{round(km)} km away"


def _card(hit: Hit, names: dict[str, str], vias: dict[str, str], today: dt.date) -> dict[str, Any]:
    r = hit.record
    sched = r.schedule
    lines = describe(sched, today=today, include_text=False, max_dates=2)
    if not lines and sched is not None and sched.text:
        lines = [sched.text]
    return {
        "r": r,
        "url": f"/listing/{r.publisher}/{r.id}",
        "kind": KIND_LABELS[r.kind][0],
        "when": lines,
        "next": format_occurrence(hit.next, today=today) if hit.next else None,
        "where": _where(r),
        "distance": _distance(hit.distance_km) if not hit.remote else None,
        "remote": hit.remote,
        "cost": _cost(r),
        "stale": hit.stale,
        "reviewed": format_date(dt.date.fromisoformat(r.reviewed)) if r.reviewed else None,
        "network": names[r.publisher],
        "via": vias.get(hit.via) if hit.via else None,
    }


def _page_links(filters: Filters, page: int, total: int) -> dict[str, Any]:
    pages = max(1, math.ceil(total / PAGE_SIZE))
    params = to_params(filters)

    def link(n: int) -> str:
        return "/search?" + urlencode({**params, **({"page": str(n)} if n > 1 else {})})

    return {
        "page": page,
        "pages": pages,
        "prev": link(page - 1) if page > 1 else None,
        "next": link(page + 1) if page < pages else None,
    }


def _summary(filters: Filters, results: SearchResults | None) -> str:
    parts = []
    if filters.q:
        parts.append(f"matching “{results.corrected_q if results and results.corrected_q else filters.q}”")
    if filters.kind:
        parts.append("of kind " + ", ".join(KIND_LABELS[k][1].lower() for k in filters.kind))
    if filters.topic:
        parts.append("about " + ", ".join(TOPICS[t] for t in filters.topic))
    if filters.near and results and results.place:
        parts.append(f"near {results.place.label}")
    if filters.delivery:
        parts.append(", ".join(DELIVERY_FILTERS[d].lower() for d in filters.delivery))
    if filters.when:
        parts.append(WHENS[filters.when].split(" (")[0].lower())
    if filters.free:
        parts.append("free")
    text = ", ".join(parts)
    return text[:1].upper() + text[1:]


# -- views -------------------------------------------------------------------


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    ctx = {**_base_context(request), **_form_context(Filters()), "title": "Find peer support"}
    return _templates(request).render("home.html", ctx)


def _within_without_place(query: Mapping[str, str]) -> tuple[Mapping[str, str], str]:
    """A distance chosen with no place: the query without it, and the distance to keep in the form.

    The page then asks for a place in plain words with every other choice kept,
    rather than refusing the search (the JSON API still answers 400).
    """
    within = query.get("within", "").strip()
    if not within or query.get("near", "").strip():
        return query, ""
    return MultiDict((k, v) for k, v in query.items() if k != "within"), within


def _page_number(request: web.Request) -> int:
    raw = request.query.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw[:6]) <= MAX_PAGE:
        raise FilterError("page", f"must be a page number from 1 to {MAX_PAGE}")
    return int(raw)


def _last_place(request: web.Request, geo: Geo) -> tuple[float, float] | None:
    """Where the searcher searched last (the form's hidden ``from``), to read a shared name near it.

    Only ever a hint: a missing, unknown or over-long value is ignored (node.directory.geo, rule 3).
    """
    text = request.query.get("from", "").strip()
    if not text or len(text) > 100:
        return None
    found = geo.resolve(text)
    return (found.place.lat, found.place.lon) if found else None


@routes.get("/search")
async def search_page(request: web.Request) -> web.Response:
    node = request.app[NODE]
    ctx = {**_base_context(request), "title": "Search results", "results": None, "error": None, "place_suggestions": []}
    now = now_for(request)
    query, unplaced = _within_without_place(request.query)
    try:
        filters = parse_filters(query)
        page = _page_number(request)
        geo = await node_geo(request)
        resolution = resolve_near(filters, geo, hint=_last_place(request, geo))
        place = resolution.place if resolution else None
        # The words box may name the place ("hearing voices LS6"), and says what is wanted (node.directory.vocabulary).
        prepared = prepare(filters, geo, place=place)
        filters, place = prepared.filters, prepared.place
        form = filters
        if unplaced:
            km = parse_filters({"within": unplaced, "near": "-"}).within_km
            if place is not None:
                filters = form = replace(filters, within_km=km)
            else:
                form = replace(filters, within_km=km)  # kept in the form, asked for a place
    except UnknownPlace as e:
        filters = parse_filters({k: v for k, v in request.query.items() if k != "page"})
        ctx.update(
            _form_context(filters),
            error=e,
            place_suggestions=[
                (name, "/search?" + urlencode({**to_params(filters), "near": name})) for name in e.suggestions
            ],
        )
        return _templates(request).render("search.html", ctx, status=400)
    except FilterError as e:
        ctx.update(_form_context(Filters()), error=e)
        return _templates(request).render("search.html", ctx, status=400)

    def read(conn: sqlite3.Connection) -> tuple[SearchResults, dict[str, str], dict[str, str]]:
        results = search(
            conn,
            filters,
            place=place,
            now=now,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
            intent=prepared.intent,
        )
        names = network_names(
            conn, [h.publisher for h in results.items], own_publisher=node.publisher, own_name=node.config.node.name
        )
        vias = peer_names(conn, [h.via for h in results.items if h.via])
        return results, names, vias

    results, names, vias = await node.store.read(read)
    today = now.date()
    ctx.update(
        _form_context(form),
        within_needs_place=form.within_km if form.within_km != filters.within_km else None,
        results=results,
        cards=[_card(h, names, vias, today) for h in results.items],
        summary=_summary(filters, results),
        paging=_page_links(filters, page, results.total),
        first=(page - 1) * PAGE_SIZE + 1,
        suggestions=[(s.label, s.count, "/search?" + urlencode(s.params)) for s in results.suggestions],
        print_url="/search/print?" + urlencode(to_params(filters)),  # the handout (views/handout.py)
        last_place=place.label if place is not None else None,  # the next search's hint (_last_place)
        # Other places of the same name, one click each (node.directory.geo, rule 3).
        place_alternatives=[
            (p.label, "/search?" + urlencode({**to_params(filters), "near": p.label}))
            for p in (resolution.alternatives if resolution else prepared.alternatives)
        ],
    )
    return _templates(request).render("search.html", ctx)


def _schema_org(record: Record, network: str, nxt: Any, url: str) -> dict[str, Any]:
    """schema.org ``Event`` for dated events and trainings, ``Service`` for everything else."""
    org = {"@type": "Organization", "name": record.organisation.name if record.organisation else network}
    place: dict[str, Any] | None = None
    loc = record.location
    if isinstance(loc, PublicLocation) and not record.private:
        address = {"@type": "PostalAddress", "addressCountry": "GB"}
        if loc.address:
            address["streetAddress"] = loc.address
        if loc.postcode:
            address["postalCode"] = loc.postcode
        place = {"@type": "Place", "name": loc.name or loc.area or record.name, "address": address}
    elif loc is not None and loc.area:
        place = {
            "@type": "Place",
            "name": loc.area,
            "address": {"@type": "PostalAddress", "addressLocality": loc.area, "addressCountry": "GB"},
        }
    data: dict[str, Any] = {"@context": "https://schema.org", "name": record.name, "url": url}
    if record.summary or record.description:
        data["description"] = record.summary or record.description
    dated = record.schedule is not None and bool(record.schedule.dates)
    if record.kind in ("event", "training") and dated and nxt is not None:
        mode = {"online": "Online", "hybrid": "Mixed"}.get(record.delivery, "Offline")
        data.update(
            {
                "@type": "Event",
                "startDate": nxt.start.isoformat(),
                "organizer": org,
                "eventAttendanceMode": f"https://schema.org/{mode}EventAttendanceMode",
                "eventStatus": "https://schema.org/EventScheduled",
            }
        )
        if nxt.end is not None:
            data["endDate"] = nxt.end.isoformat()
        if record.delivery == "online":
            data["location"] = {"@type": "VirtualLocation", "url": record.website or url}
        elif place is not None:
            data["location"] = place
        if record.cost is not None:
            data["isAccessibleForFree"] = record.cost.free
    else:
        data.update({"@type": "Service", "provider": org, "serviceType": KIND_LABELS[record.kind][0]})
        if place is not None:
            data["areaServed"] = place
    return data


@routes.get("/listing/{publisher}/{id}")
async def listing_page(request: web.Request) -> web.Response:
    node = request.app[NODE]
    publisher, rid = request.match_info["publisher"], request.match_info["id"]
    if not re.match(PUBLISHER_PATTERN, publisher) or not re.match(RECORD_ID_PATTERN, rid):
        raise web.HTTPNotFound()

    def read(conn: sqlite3.Connection) -> Any:
        row = listing_and_via(conn, publisher, rid)
        if row is None:
            return None
        names = network_names(conn, [publisher], own_publisher=node.publisher, own_name=node.config.node.name)
        vias = peer_names(conn, [row[1]]) if row[1] else {}
        contact, website = network_contact(conn, publisher)
        return row[0], row[1], names[publisher], vias.get(row[1]) if row[1] else None, contact, website

    found = await node.store.read(read)
    if found is None:
        raise web.HTTPNotFound()
    payload, via, network, via_name, net_contact, net_website = found
    record = _RECORD.decode(payload)
    now = now_for(request)
    if record.status == "closed" or has_ended(record.schedule, now.date()):  # node.directory.ending
        raise web.HTTPGone()
    today = now.date()
    nxt = next_occurrence(record.schedule, now) if record.schedule else None
    url = f"{node.config.base_url}/listing/{publisher}/{rid}"
    sched = record.schedule
    own_contact = None
    if publisher == node.publisher and node.config.node.contact:
        own_contact = node.config.node.contact
    ctx = {
        **_base_context(request),
        "title": record.name,
        "r": record,
        "kind": KIND_LABELS[record.kind][0],
        "when": describe(sched, today=today, include_text=False),
        "their_words": sched.text if sched is not None else None,
        "next": format_occurrence(nxt, today=today) if nxt else None,
        "where": _where(record),
        "join": join_label(record),
        "cost": _cost(record),
        "topics": [TOPICS.get(t, t.replace("-", " ").capitalize()) for t in record.topics],
        "languages": [LANGUAGE_NAMES.get(code.lower(), code) for code in record.languages],
        "network": network,
        "network_contact": net_contact if record.contact is None and record.kind != "organisation" else None,
        "network_website": net_website,
        "own_contact": own_contact if record.contact is None and net_contact is None else None,
        "via": via,
        "via_name": via_name,
        "stale": is_stale(record.reviewed, today),
        "reviewed": format_date(dt.date.fromisoformat(record.reviewed)) if record.reviewed else None,
        "updated": record.updated[:10],
        "json_ld": json_ld(_schema_org(record, network, nxt, url)),
        "role_closes": format_date(dt.date.fromisoformat(record.role.closes))
        if record.role and record.role.closes
        else None,
    }
    return _templates(request).render("listing.html", ctx)


@routes.get("/static/{name}")
async def static_file(request: web.Request) -> web.Response:
    return _templates(request).serve_static(request, request.match_info["name"])


@routes.get("/favicon.ico")
async def favicon(request: web.Request) -> web.Response:
    return _templates(request).serve_static(request, "favicon.svg")


_ERRORS: Final = {
    400: ("Something in that address wasn't right", "The link may have been cut short or changed."),
    404: ("We couldn't find that page", "The listing may have been removed, or the link may be wrong."),
    405: ("That didn't work", "This page can only be looked at, not sent to."),
    410: ("This listing has closed", "It is no longer running. You can search for something similar."),
    413: ("That was too much to send", "Please make your message shorter and send it again."),
}


async def render_error(request: web.Request, status: int, reason: str) -> web.Response:
    """The HTML error page (set as ``app[HTML_ERROR]``): plain words, the search form, urgent help."""
    title, detail = _ERRORS.get(status, ("Something went wrong on our side", "Please try again in a little while."))
    ctx = {**_base_context(request), **_form_context(Filters()), "title": title, "detail": detail, "status": status}
    return _templates(request).render("error.html", ctx, status=status)


@web.middleware
async def _page_errors(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """An unexpected failure on a public page shows the error page (and is logged), not a bare 500."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException:
        raise
    except Exception:
        if not (request.path == "/" or request.path.startswith(("/search", "/listing/"))):
            raise
        log.exception("error rendering %s", request.path)
        return await render_error(request, 500, "Internal Server Error")


def setup(app: web.Application) -> None:
    """Register the public pages on ``app``: routes, templates, the HTML error page."""
    app[TEMPLATES] = Templates()
    app[HTML_ERROR] = render_error
    app.middlewares.append(_page_errors)
    app.add_routes(routes)
