"""``/credits``: the open data this node ships and the attribution its licences ask for.

The postcode centroids (OGL v3, :data:`node.directory.geo.ATTRIBUTION`) and the gazetteer of
places (CC BY 4.0, :data:`node.directory.places.PLACES_ATTRIBUTION`) must be credited wherever
they are displayed; every public page's footer links here (``node/directory/data/README.md``).
"""

from __future__ import annotations

from aiohttp import web

from node.core.context import NODE
from node.directory.geo import ATTRIBUTION
from node.directory.places import PLACES_ATTRIBUTION
from node.web.templating import TEMPLATES

__all__ = ["routes"]

routes = web.RouteTableDef()


@routes.get("/credits")
async def credits_page(request: web.Request) -> web.Response:
    context = {
        "site_name": request.app[NODE].config.node.name,
        "title": "Data credits",
        "postcodes": ATTRIBUTION,
        "places": PLACES_ATTRIBUTION,
    }
    return request.app[TEMPLATES].render("credits.html", context)
