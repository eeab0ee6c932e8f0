"""The peers this node follows, and following a new one: check its address, show its fingerprint,
follow only after the coordinator confirms.

The address is checked before anything is fetched (https only, http on loopback for development; no
private, link-local or loopback address unless configured: :func:`node.federation.fetch.check_peer_address`),
and a failed fetch, whatever its cause, is one sentence, so the console cannot map the network around
the server (docs/security.md §6).

Fetching and checking the peer's node document is :mod:`node.federation.fetch`,
following is :mod:`node.federation.peers`;
its health is :mod:`node.federation.health`.
"""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from node.core.errors import PeerRejected, PeerUnavailable
from node.federation.fetch import PEER_NOT_REACHED, check_peer_address, check_peer_url, fetch_node_document
from node.federation.health import read_status
from node.federation.peers import fingerprint, follow
from node.web.auth import Session
from node.web.views.admin.shared import node_of, redirect, render
from node.web.views.admin.signin import signed_in
from protocol.errors import SignpostError

__all__ = ["routes"]

routes = web.RouteTableDef()


async def _peers_page(
    request: web.Request,
    session: Session,
    *,
    status: int = 200,
    error: str | None = None,
    notice: str | None = None,
    url: str = "",
) -> web.Response:
    node = node_of(request)
    peers = (await node.store.read(read_status))["peers"]
    for p in peers:
        p["fingerprint"] = fingerprint(p["publisher"])
    ctx = {"title": "Peers you follow", "peers": peers, "error": error, "notice": notice, "url": url}
    return render(request, "admin_peers.html", ctx, session=session, status=status)


@routes.get("/admin/peers")
@signed_in
async def peers(request: web.Request, session: Session) -> web.StreamResponse:
    followed = request.query.get("followed")
    notice = f"Now following {followed}. Its listings arrive within a few minutes." if followed else None
    return await _peers_page(request, session, notice=notice)


@routes.post("/admin/peers/check")
@signed_in
async def peer_check(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    url = str((await request.post()).get("url") or "").strip()
    try:
        url = check_peer_url(url, allow_insecure_http=node.config.sync.allow_insecure_http)
        await check_peer_address(url, node.config)
        doc, log = await fetch_node_document(node, url)
    except (PeerUnavailable, PeerRejected):
        return await _peers_page(request, session, status=400, error=PEER_NOT_REACHED, url=url)
    except SignpostError as e:
        error = f"{e.message}{' (' + e.hint + ')' if e.hint else ''}"
        return await _peers_page(request, session, status=400, error=error, url=url)
    if log.publisher == node.publisher:
        return await _peers_page(request, session, status=400, error="That address is this node itself.", url=url)
    ctx = {
        "title": "Confirm the peer",
        "url": url,
        "name": doc.name,
        "publisher": log.publisher,
        "fingerprint": fingerprint(log.publisher),
    }
    return render(request, "admin_peer_confirm.html", ctx, session=session)


@routes.post("/admin/peers/follow")
@signed_in
async def peer_follow(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    form = await request.post()
    url, publisher = str(form.get("url") or ""), str(form.get("publisher") or "")
    try:
        await check_peer_address(
            check_peer_url(url, allow_insecure_http=node.config.sync.allow_insecure_http), node.config
        )
        _, name = await follow(node, url, publisher=publisher)
    except (PeerUnavailable, PeerRejected):
        return await _peers_page(
            request, session, status=400, error=f"Nothing was followed: {PEER_NOT_REACHED}", url=url
        )
    except SignpostError as e:
        return await _peers_page(request, session, status=400, error=f"Nothing was followed: {e.message}", url=url)
    raise redirect("/admin/peers?followed=" + quote(name or url))
