"""The public's problem reports as the console shows them: the list (open ones, or all) and "resolved".

The reports arrive through the public form (:mod:`node.web.views.reports`)
and are stored only on this node (:mod:`node.storage.console`).
"""

from __future__ import annotations

import sqlite3

from aiohttp import web

from node.storage.console import list_reports, resolve_report
from node.web.auth import Session
from node.web.views.admin.shared import node_of, redirect, render
from node.web.views.admin.signin import signed_in

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/admin/reports")
@signed_in
async def reports(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    show_all = request.query.get("all") == "1"

    def read(conn: sqlite3.Connection) -> list[dict[str, object]]:
        return list_reports(conn, include_resolved=show_all)

    items = await node.store.read(read)
    ctx = {"title": "Reports from the public", "reports": items, "show_all": show_all, "publisher": node.publisher}
    return render(request, "admin_reports.html", ctx, session=session)


@routes.post("/admin/reports/{rowid}/resolve")
@signed_in
async def report_resolve(request: web.Request, session: Session) -> web.StreamResponse:
    raw = request.match_info["rowid"]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    await node_of(request).store.write(resolve_report, int(raw))
    raise redirect("/admin/reports")
