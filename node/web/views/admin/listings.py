"""The console's home page and the coordinator's own listings: the list (least recently checked first),
the edit form and its save, "still current" checks, keeping a listing visible, and pause, close, reopen
or delete behind an "are you sure?" page.

Every change publishes at once.  A saved form goes through the import
pipeline (:func:`node.importer.pipeline.save_listing`), so it is planned and
checked exactly as a spreadsheet row would be; the form itself is read by
:mod:`node.importer.listing_form`.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any, Final

import msgspec
from aiohttp import web

from node.core.context import Node, now_us
from node.directory.filters import hidden_cutoff, is_stale
from node.directory.freshness import HIDDEN_DAYS, STALE_DAYS
from node.federation.health import read_status
from node.importer.listing_form import DAYS, FormErrors, form_from_record, listing_from_form, values_from_form
from node.importer.pipeline import save_listing
from node.importer.sheet import last_runs
from node.publishing.publisher import ListingIn, delete, load_identity, publish
from node.storage.console import (
    PrivatePlace,
    kept_visible,
    list_reports,
    listing_for_edit,
    own_listing_rows,
    set_keep_visible,
)
from node.web.auth import Session
from node.web.views.admin.shared import ADMIN, listing_id, node_of, redirect, render, today
from node.web.views.admin.signin import signed_in
from protocol.records import DELIVERY, KINDS, STATUSES, TOPICS

__all__ = ["routes", "ACTIONS", "SORTS"]

routes = web.RouteTableDef()
# Status changes that ask "are you sure?" first: action → (new status or None for delete, button, explanation).
ACTIONS: Final[dict[str, tuple[str | None, str, str]]] = {
    "pause": (
        "paused",
        "Pause this listing",
        "It stays on the directory marked as paused, so people know it will be back.",
    ),
    "close": (
        "closed",
        "Close this listing",
        "It disappears from search and its page says it has closed. You can reopen it later.",
    ),
    "reopen": ("active", "Reopen this listing", "It shows as running again."),
    "delete": (
        None,
        "Delete this listing for good",
        "A deletion is sent to every node that carries it. This cannot be undone; "
        "to bring it back you would add it again.",
    ),
}
SORTS: Final[dict[str, tuple[str, Callable[[dict[str, Any]], Any]]]] = {
    "stale": ("Least recently checked first", lambda r: (-r["days"], r["name"].lower())),
    "name": ("Name", lambda r: (r["name"].lower(), r["id"])),
    "status": ("Status", lambda r: (r["status"], -r["days"], r["name"].lower())),
}
_NOTICES: Final = {
    "saved": "Saved and published.",
    "checked": "Marked as still current today, and published.",
    "paused": "Paused, and published.",
    "closed": "Closed, and published.",
    "active": "Reopened, and published.",
    "kept": "It will stay in search even when not checked for 12 months.",
    "unkept": "It will be hidden from search after 12 months without a check.",
}
_DECODE = msgspec.json.Decoder()


def _age(reviewed: str | None, on: dt.date) -> tuple[str, int]:
    """ "Last checked" in words, and the age in days for sorting (never checked sorts first)."""
    if reviewed is None:
        return "never", 10**6
    days = (on - dt.date.fromisoformat(reviewed)).days
    if days <= 0:
        return "today", 0
    if days < 60:
        return f"{days} day{'s' if days != 1 else ''} ago", days
    months = days // 30
    return (f"{months} months ago" if months < 24 else f"{days // 365} years ago"), days


def _listing_rows(conn: sqlite3.Connection, publisher: str, on: dt.date, now: dt.datetime) -> list[dict[str, Any]]:
    kept = kept_visible(conn, publisher)
    cutoff = hidden_cutoff(now)
    out = []
    for rid, name, kind, status, reviewed, private, reports in own_listing_rows(conn, publisher):
        age, days = _age(reviewed, on)
        out.append(
            {
                "id": rid,
                "name": name,
                "kind": kind,
                "status": status,
                "reviewed": reviewed,
                "age": age,
                "days": days,
                "private": bool(private),
                "reports": reports,
                "stale": is_stale(reviewed, on),
                "hidden": reviewed is not None and reviewed < cutoff and rid not in kept,
                "kept": rid in kept,
            }
        )
    return out


@routes.get("/admin")
@signed_in
async def overview(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    on = today(request)
    now = request.app[ADMIN].clock()

    def read(conn: sqlite3.Connection) -> dict[str, Any]:
        return {
            "status": read_status(conn, today=on),
            "rows": _listing_rows(conn, node.publisher, on, now),
            "reports": len(list_reports(conn, publisher=node.publisher)),
            "runs": last_runs(conn, 3),
        }

    data = await node.store.read(read)
    rows = data["rows"]
    ctx = {
        "title": "Console",
        "counts": data["status"]["counts"],
        "peers": data["status"]["peers"],
        "stale": sum(1 for r in rows if r["stale"]),
        "hidden": sum(1 for r in rows if r["hidden"]),
        "open_reports": data["reports"],
        "runs": data["runs"],
        "sheet_url": node.config.import_.sheet_url,
        "feed": f"{node.config.base_url}/feed",
        "publisher": node.publisher,
    }
    return render(request, "admin_overview.html", ctx, session=session)


@routes.get("/admin/listings")
@signed_in
async def listings(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    sort = request.query.get("sort", "stale")
    if sort not in SORTS:
        sort = "stale"
    rows = await node.store.read(_listing_rows, node.publisher, today(request), request.app[ADMIN].clock())
    rows.sort(key=SORTS[sort][1])
    published = request.query.get("published", "")
    notice = None
    if published.count(".") == 2 and published.replace(".", "").isdigit():
        a, c, d = published.split(".")
        notice = f"Published: {a} added, {c} changed, {d} deleted. They are live now."
    ctx = {
        "title": "Your listings",
        "rows": rows,
        "sort": sort,
        "sorts": {k: v[0] for k, v in SORTS.items()},
        "notice": notice,
        "stale_days": STALE_DAYS,
        "hidden_days": HIDDEN_DAYS,
    }
    return render(request, "admin_listings.html", ctx, session=session)


def _load(conn: sqlite3.Connection, publisher: str, rid: str) -> tuple[dict[str, Any], PrivatePlace | None] | None:
    found = listing_for_edit(conn, publisher, rid)
    if found is None:
        return None
    fields: dict[str, Any] = _DECODE.decode(found[0])
    for key in ("publisher", "id", "rev", "updated", "deleted"):
        fields.pop(key, None)
    return fields, found[1]


async def _load_or_404(node: Node, rid: str) -> tuple[dict[str, Any], PrivatePlace | None]:
    found = await node.store.read(_load, node.publisher, rid)
    if found is None:
        raise web.HTTPNotFound(reason="This node has no listing with that id. It may have been deleted.")
    return found


async def _publish(node: Node, listing: ListingIn) -> None:
    def write(conn: sqlite3.Connection) -> None:
        publish(conn, load_identity(node.config.directory, conn, node.publisher), [listing], now_us=now_us())

    await node.store.write(write)


async def _reports_and_kept(node: Node, rid: str) -> tuple[list[dict[str, object]], bool]:
    """A listing's reports from the public, and whether it is kept visible past a year unchecked."""

    def read(conn: sqlite3.Connection) -> tuple[list[dict[str, object]], bool]:
        return list_reports(conn, publisher=node.publisher, record_id=rid), rid in kept_visible(conn, node.publisher)

    return await node.store.read(read)


def _edit_ctx(
    request: web.Request,
    rid: str,
    values: dict[str, Any],
    errors: dict[str, str],
    reports: list[dict[str, object]],
    *,
    kept: bool,
    notice: str | None = None,
) -> dict[str, Any]:
    node = node_of(request)
    return {
        "title": f"Edit {values.get('name') or rid}",
        "rid": rid,
        "v": values,
        "errors": errors,
        "kinds": KINDS,
        "topics": TOPICS,
        "days": DAYS,
        "deliveries": DELIVERY,
        "statuses": STATUSES,
        "reports": reports,
        "kept": kept,
        "notice": notice,
        "public_url": f"/listing/{node.publisher}/{rid}",
    }


@routes.get("/admin/listings/{id}")
@signed_in
async def edit_form(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    rid = listing_id(request)
    fields, place = await _load_or_404(node, rid)
    reports, kept = await _reports_and_kept(node, rid)
    notice = _NOTICES.get(request.query.get("done", ""))
    ctx = _edit_ctx(request, rid, form_from_record(fields, place), {}, reports, kept=kept, notice=notice)
    return render(request, "admin_edit.html", ctx, session=session)


@routes.post("/admin/listings/{id}")
@signed_in
async def edit_save(request: web.Request, session: Session) -> web.StreamResponse:
    from node.directory.geo import Geo

    node = node_of(request)
    rid = listing_id(request)
    base, _ = await _load_or_404(node, rid)
    form = await request.post()
    try:
        listing = listing_from_form(form, geo=Geo.load(), base=base, record_id=rid)
    except FormErrors as e:
        reports, kept = await _reports_and_kept(node, rid)
        ctx = _edit_ctx(request, rid, values_from_form(form), e.errors, reports, kept=kept)
        return render(request, "admin_edit.html", ctx, session=session, status=400)

    def write(conn: sqlite3.Connection) -> None:
        save_listing(conn, node.config.directory, node.publisher, listing)

    await node.store.write(write)
    raise redirect(f"/admin/listings/{rid}?done=saved")


@routes.post("/admin/listings/{id}/check")
@signed_in
async def mark_checked(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    rid = listing_id(request)
    fields, place = await _load_or_404(node, rid)
    fields["reviewed"] = today(request).isoformat()
    await _publish(node, ListingIn(id=rid, fields=fields, private_place=place))
    if (await request.post()).get("back") == "list":
        raise redirect("/admin/listings")
    raise redirect(f"/admin/listings/{rid}?done=checked")


@routes.post("/admin/listings/{id}/visibility")
@signed_in
async def visibility(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    rid = listing_id(request)
    await _load_or_404(node, rid)
    keep = (await request.post()).get("keep") == "yes"
    await node.store.write(set_keep_visible, node.publisher, rid, keep)
    raise redirect(f"/admin/listings/{rid}?done={'kept' if keep else 'unkept'}")


@routes.get("/admin/listings/{id}/{action}")
@signed_in
async def confirm_action(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    rid = listing_id(request)
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    fields, _ = await _load_or_404(node, rid)
    _, button, explanation = ACTIONS[action]
    ctx = {
        "title": f"{button}?",
        "rid": rid,
        "name": fields.get("name", rid),
        "action": action,
        "button": button,
        "explanation": explanation,
    }
    return render(request, "admin_confirm.html", ctx, session=session)


@routes.post("/admin/listings/{id}/{action}")
@signed_in
async def do_action(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    rid = listing_id(request)
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    if (await request.post()).get("confirm") != "yes":
        raise redirect(f"/admin/listings/{rid}/{action}")
    fields, place = await _load_or_404(node, rid)
    status = ACTIONS[action][0]
    if status is None:

        def write(conn: sqlite3.Connection) -> None:
            delete(conn, load_identity(node.config.directory, conn, node.publisher), rid, now_us=now_us())
            set_keep_visible(conn, node.publisher, rid, False)

        await node.store.write(write)
        raise redirect("/admin/listings?deleted=1")
    fields["status"] = status
    await _publish(node, ListingIn(id=rid, fields=fields, private_place=place))
    raise redirect(f"/admin/listings/{rid}?done={status}")
