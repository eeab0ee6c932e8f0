"""The published sheet ([import] sheet_url): its last fetches and "Fetch now".

The schedule and each fetch are :mod:`node.importer.sheet`, which runs the
same import pipeline as an upload.
"""

from __future__ import annotations

from aiohttp import web

from node.importer.sheet import last_runs, run_sheet_import
from node.web.auth import Session
from node.web.views.admin.shared import node_of, redirect, render
from node.web.views.admin.signin import signed_in

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/admin/sheet")
@signed_in
async def sheet(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    runs = await node.store.read(last_runs, 20)
    ctx = {
        "title": "Published sheet",
        "sheet_url": node.config.import_.sheet_url,
        "interval": int(node.config.import_.sheet_interval),
        "runs": runs,
        "directory": str(node.config.directory.resolve()),
    }
    return render(request, "admin_sheet.html", ctx, session=session)


@routes.post("/admin/sheet/fetch")
@signed_in
async def sheet_fetch(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    if not node.config.import_.sheet_url:
        raise redirect("/admin/sheet")
    await run_sheet_import(node)
    raise redirect("/admin/sheet")
