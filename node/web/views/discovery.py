"""``GET /.well-known/signpost``: the node document (spec §7)."""

from __future__ import annotations

import sqlite3

import msgspec
from aiohttp import web

from node import SOFTWARE
from node.core.context import NODE
from node.directory.listings import followed_urls
from node.storage.ledger import keylog_envelopes
from node.web.views.common import json_response
from protocol import envelope as dsse
from protocol.feed import PROTOCOL, NodeDocument

__all__ = ["routes"]

routes = web.RouteTableDef()
_ENVELOPES = msgspec.json.Decoder(list[dsse.Envelope])


@routes.get("/.well-known/signpost")
async def node_document(request: web.Request) -> web.Response:
    node = request.app[NODE]

    def read(conn: sqlite3.Connection) -> tuple[bytes | None, list[str]]:
        return keylog_envelopes(conn, node.publisher), followed_urls(conn)

    log, follows = await node.store.read(read)
    base = node.config.base_url
    doc = NodeDocument(
        protocol=PROTOCOL,
        name=node.config.node.name,
        url=base,
        publisher=node.publisher,
        keylog=_ENVELOPES.decode(log) if log else [],
        feed=f"{base}/feed",
        follows=follows,
        license=node.config.node.license,
        software=SOFTWARE,
    )
    return json_response(doc, headers={"Cache-Control": "public, max-age=60", "Access-Control-Allow-Origin": "*"})
