"""``GET /keys/{publisher}``: the key log of every publisher this node carries (spec §7)."""

from __future__ import annotations

import re

from aiohttp import web

from node.core.context import NODE
from node.storage.ledger import keylog_envelopes
from node.web.views.common import json_error, json_response
from protocol.records import PUBLISHER_PATTERN

__all__ = ["routes"]

routes = web.RouteTableDef()
_PUBLISHER = re.compile(PUBLISHER_PATTERN)


@routes.get("/keys/{publisher}")
async def keylog(request: web.Request) -> web.Response:
    publisher = request.match_info["publisher"]
    if not _PUBLISHER.match(publisher):
        return json_error(
            400, "not a publisher id", hint="publisher ids look like sp1: followed by 26 letters and digits"
        )
    node = request.app[NODE]
    data = await node.store.read(keylog_envelopes, publisher)
    if data is None:
        return json_error(404, f"this node carries no publisher {publisher}")
    body = b'{"publisher":"' + publisher.encode() + b'","keylog":' + data + b"}"
    return json_response(body, headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})
