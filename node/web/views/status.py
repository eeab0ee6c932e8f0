"""``/status`` (HTML) and ``/status.json``: the node's health at a glance.

Peers with their last success and last error, what was rejected and why,
counts, and this network's listings that may be out of date.  The same
report ``signpost status`` prints, from the same function.
"""

from __future__ import annotations

from aiohttp import web

from node.core.context import NODE
from node.federation.health import read_status
from node.web.templating import TEMPLATES
from node.web.views.common import json_response

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/status.json")
async def status_json(request: web.Request) -> web.Response:
    report = await request.app[NODE].store.read(read_status)
    return json_response(report, headers={"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"})


@routes.get("/status")
async def status_page(request: web.Request) -> web.Response:
    node = request.app[NODE]
    report = await node.store.read(read_status)
    context = {
        "site_name": node.config.node.name,
        "title": "Node status",
        "report": report,
        "node_url": node.config.base_url,
    }
    return request.app[TEMPLATES].render("status.html", context, cache="no-store")
