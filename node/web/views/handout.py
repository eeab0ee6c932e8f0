"""The handout for the ward: any search, or one listing, laid out for an A4 page.

``/search/print?…`` takes the search page's parameters; ``/listing/{publisher}/{id}/print``
prints one listing.  Large clear type, each listing's name, what it is, when (in plain
words) and its next date, where (only the area for a private group: its place never
leaves the node), how to join, a phone number only where its publisher recorded consent
(a ``contact`` exists only then, spec §8), and a QR code to its page.  Urgent-help
numbers at the top, the date printed and "check before you go" on every page.

No JavaScript: the stylesheet (``print.css``) does the layout, and the QR codes are
inline SVG drawn here by segno, so the page prints the same from any browser with
nothing fetched.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from typing import Any, Final
from urllib.parse import urlencode

import msgspec
import segno
from aiohttp import web
from markupsafe import Markup

from node.core.context import NODE
from node.directory.ending import has_ended
from node.directory.filters import FilterError, Filters, parse_filters, to_params
from node.directory.listings import listing_payload, network_contact
from node.directory.schedule import describe, format_date, format_occurrence, next_occurrence
from node.directory.search import UnknownPlace, network_names, resolve_place
from node.web.templating import TEMPLATES
from node.web.views.shared import DELIVERY_LABELS, KIND_LABELS, join_label, now_for, search_with_names
from protocol.records import PUBLISHER_PATTERN, RECORD_ID_PATTERN, AreaLocation, PublicLocation, Record

__all__ = ["routes", "PRINT_LIMIT", "qr_svg", "print_card"]

routes = web.RouteTableDef()
PRINT_LIMIT: Final = 10  # what fits on one or two A4 pages at a size people can read
_RECORD = msgspec.json.Decoder(Record)


def qr_svg(url: str, label: str) -> Markup:
    """A QR code for ``url`` as inline SVG (segno), labelled for screen readers."""
    svg = segno.make(url, error="m", micro=False).svg_inline(scale=4, svgclass="qr", lineclass=None, omitsize=True)
    label = label.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1))


def _where(record: Record) -> str | None:
    """Where, for paper: the address of a public place, only the area of a private group."""
    loc = record.location
    if record.private or isinstance(loc, AreaLocation):
        if isinstance(loc, AreaLocation):
            area = f"{loc.area} ({loc.postcode_area})" if loc.postcode_area else loc.area
            return f"{area} (private group: the place is shared when you get in touch)"
        return "Private group: the place is shared when you get in touch"
    if isinstance(loc, PublicLocation):
        return ", ".join(p for p in (loc.name, loc.address, loc.postcode) if p) or loc.area
    return None


def _first_sentence(text: str, limit: int = 140) -> str:
    """The first sentence of ``text`` (paper has room for one; the QR code leads to the rest)."""
    m = re.match(r"(.+?[.!?])(\s|$)", text)
    first = m.group(1) if m else text
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"


def print_card(record: Record, *, network: str, base: str, now: dt.datetime) -> dict[str, Any]:
    """What the handout prints for one listing."""
    today = now.date()
    sched = record.schedule
    when = describe(sched, today=today, include_text=False, max_dates=3) if sched else []
    if not when and sched is not None and sched.text:
        when = [sched.text]
    nxt = next_occurrence(sched, now) if sched else None
    url = f"{base}/listing/{record.publisher}/{record.id}"
    join = None
    if record.join:
        join = (
            (join_label(record) or "")
            + "."
            + (f" {_first_sentence(record.join.details)}" if record.join.details else "")
        )
    phone = record.contact.phone if record.contact is not None else None  # a contact exists only with consent
    return {
        "r": record,
        "kind": KIND_LABELS[record.kind][0],
        "delivery": DELIVERY_LABELS[record.delivery],
        "what": _first_sentence(record.summary or record.description or "", 200) or None,
        "when": when,
        "next": format_occurrence(nxt, today=today) if nxt else None,
        "where": _where(record),
        "join": join,
        "phone": phone,
        "network": network,
        "url": url,
        "qr": qr_svg(url, f"QR code: the page for {record.name}"),
    }


def _page_context(request: web.Request, title: str) -> dict[str, Any]:
    node = request.app[NODE]
    now = now_for(request)
    return {
        "site_name": node.config.node.name,
        "title": title,
        "printed": format_date(now.date()),
        "base": node.config.base_url,
    }


@routes.get("/search/print")
async def search_print(request: web.Request) -> web.Response:
    node = request.app[NODE]
    templates = request.app[TEMPLATES]
    now = now_for(request)
    ctx = _page_context(request, "Peer support to take home")
    try:
        filters = parse_filters({k: v for k, v in request.query.items() if k != "page"})
        place = resolve_place(filters)
    except (UnknownPlace, FilterError) as e:
        ctx.update(error=e, cards=[], total=0, query="", search_url="/search")
        return templates.render("print_search.html", ctx, status=400)

    results, names = await search_with_names(request, filters, place=place, limit=PRINT_LIMIT)
    base = node.config.base_url
    params = to_params(filters)
    ctx.update(
        error=None,
        total=results.total,
        place=results.place.label if results.place else None,
        query=_describe(filters, results.place.label if results.place else None),
        cards=[print_card(h.record, network=names[h.publisher], base=base, now=now) for h in results.items],
        search_url=base + "/search" + ("?" + urlencode(params) if params else ""),
    )
    return templates.render("print_search.html", ctx)


def _describe(filters: Filters, place: str | None) -> str:
    parts = []
    if filters.q:
        parts.append(f"“{filters.q}”")
    if filters.kind:
        parts.append(", ".join(KIND_LABELS[k][1].lower() for k in filters.kind))
    if place:
        parts.append(f"near {place}")
    return " ".join(parts)


@routes.get("/listing/{publisher}/{id}/print")
async def listing_print(request: web.Request) -> web.Response:
    node = request.app[NODE]
    publisher, rid = request.match_info["publisher"], request.match_info["id"]
    if not re.match(PUBLISHER_PATTERN, publisher) or not re.match(RECORD_ID_PATTERN, rid):
        raise web.HTTPNotFound()
    now = now_for(request)

    def read(conn: sqlite3.Connection) -> tuple[str, str, Any] | None:
        payload = listing_payload(conn, publisher, rid)
        if payload is None:
            return None
        names = network_names(conn, [publisher], own_publisher=node.publisher, own_name=node.config.node.name)
        return payload, names[publisher], network_contact(conn, publisher)[0]

    found = await node.store.read(read)
    if found is None:
        raise web.HTTPNotFound()
    record = _RECORD.decode(found[0])
    if record.status == "closed" or has_ended(record.schedule, now.date()):
        raise web.HTTPGone()
    ctx = _page_context(request, record.name)
    card = print_card(record, network=found[1], base=node.config.base_url, now=now)
    ctx.update(c=card, network_contact=found[2] if record.contact is None else None)
    return request.app[TEMPLATES].render("print_listing.html", ctx)
