"""What retired on its own, and "Bring it back" (``node.publishing.retirement``).

An event or training of this node's that ended more than ``[publishing]
retire_after_days`` days ago was tombstoned by the node itself; this page lists
them, with their last dates, and can publish one again as a new version (a new
``rev``), for instance to correct its dates.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from aiohttp import web

from node.core.errors import NotFound
from node.directory.schedule import LONDON, format_date
from node.publishing.retirement import restore
from node.storage.retired import retired_rows
from node.web.auth import Session
from node.web.views.admin.shared import ADMIN, listing_id, node_of, redirect, render
from node.web.views.admin.signin import signed_in

__all__ = ["routes"]

routes = web.RouteTableDef()


def _when(us: int) -> str:
    return format_date(dt.datetime.fromtimestamp(us / 1_000_000, tz=dt.UTC).astimezone(LONDON).date())


@routes.get("/admin/retired")
@signed_in
async def retired(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    rows = await node.store.read(retired_rows)
    items: list[dict[str, Any]] = [
        {
            "id": r.id,
            "name": r.name,
            "kind": r.kind,
            "last_day": format_date(dt.date.fromisoformat(r.last_day)),
            "retired": _when(r.retired_at),
            "restored": _when(r.restored_at) if r.restored_at is not None else None,
        }
        for r in rows
    ]
    ctx = {
        "title": "Retired listings",
        "items": items,
        "days": node.config.publishing.retire_after_days,
        "restored_name": request.query.get("restored", "")[:200],
    }
    return render(request, "admin_retired.html", ctx, session=session)


@routes.post("/admin/retired/{id}/restore")
@signed_in
async def retired_restore(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    rid = listing_id(request)
    now = request.app[ADMIN].clock()

    def write(conn: sqlite3.Connection) -> str:
        return restore(conn, node.config.directory, node.publisher, rid, now=now)

    try:
        name = await node.store.write(write)
    except NotFound as e:
        raise web.HTTPNotFound() from e
    raise redirect(f"/admin/retired?restored={rid}" if name else "/admin/retired")
