"""What every console page uses: its state on the app, the session lookup, rendering and redirects.

Kept apart from the page groups so that none of them reaches into another
(docs/architecture.md: views import no other view's internals).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from node.core.context import NODE, Node
from node.directory.schedule import LONDON
from node.importer import ImportBatch
from node.importer.venues import VenuesChoice
from node.publishing.publisher import ImportPlan
from node.storage.sessions import find_session
from node.web.auth import COOKIE, VISITOR_PREFIX, LoginGuard, Session, visitor_session
from node.web.templating import TEMPLATES
from protocol.records import RECORD_ID_PATTERN

__all__ = [
    "ADMIN",
    "ADMIN_HEADERS",
    "AdminState",
    "PendingUpload",
    "node_of",
    "today",
    "current_session",
    "signed_in_session",
    "render",
    "redirect",
    "listing_id",
]

ADMIN_HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    # Not "no-referrer": with it, browsers send "Origin: null" on form posts and the origin check could not tell
    # us from a stranger.
    "Referrer-Policy": "same-origin",
}


@dataclass
class PendingUpload:
    """An upload's plan, kept on the server until "Publish these changes" (or it expires)."""

    session: str
    batch: ImportBatch
    plan: ImportPlan
    replace: bool
    filename: str
    created: float
    # The uploaded bytes, so the preview can be read again with another venues choice
    # (node.importer.venues), and the choice it was read with.
    data: bytes = b""
    choice: VenuesChoice | None = None


@dataclass
class AdminState:
    """The console's in-memory state: the sign-in limits, the visitor-cookie secret, plans awaiting "Publish",
    and the clock.

    ``secret`` signs visitors' CSRF tokens (:func:`node.web.auth.new_visitor`).  ``admin_ctx`` sets it
    at start to the node's own secret (``node.storage.login_attempts.visitor_secret``, kept in
    ``meta``), so every ``--workers`` process accepts a form another served and a page view stores nothing.
    """

    limiter: LoginGuard = field(default_factory=LoginGuard)
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    pending: dict[str, PendingUpload] = field(default_factory=dict)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)


ADMIN: web.AppKey[AdminState] = web.AppKey("admin", AdminState)


def node_of(request: web.Request) -> Node:
    return request.app[NODE]


def today(request: web.Request) -> dt.date:
    """Today in London by the console's clock (tests fix it through :class:`AdminState`)."""
    return request.app[ADMIN].clock().astimezone(LONDON).date()


async def current_session(request: web.Request) -> Session | None:
    """The live session named by the cookie (a visitor's, read without the database, or a signed-in one), or
    ``None``."""
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    if sid.startswith(VISITOR_PREFIX):
        return visitor_session(request.app[ADMIN].secret, sid)
    return await node_of(request).store.read(find_session, sid)


async def signed_in_session(request: web.Request) -> bool:
    """Whether the request carries a signed-in session (used to allow larger bodies before reading them)."""
    session = await current_session(request)
    return session is not None and session.authed


def render(
    request: web.Request, template: str, ctx: Mapping[str, Any], *, session: Session | None, status: int = 200
) -> web.Response:
    """A console page: the template with the site name, the session's CSRF token and the path, never cached."""
    node = node_of(request)
    full = {
        "site_name": node.config.node.name,
        "session": session,
        "signed_in": bool(session and session.authed),
        "csrf": session.csrf if session else "",
        "path": request.path,
        **ctx,
    }
    return request.app[TEMPLATES].render(template, full, status=status, cache="no-store")


def redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def listing_id(request: web.Request) -> str:
    """The ``{id}`` in the path, or 404 when it is not a record id."""
    rid = request.match_info["id"]
    if not re.match(RECORD_ID_PATTERN, rid):
        raise web.HTTPNotFound()
    return rid
