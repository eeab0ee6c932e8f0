"""Signing in and out of the console, the guard every other console page sits behind, and the
middleware that marks every ``/admin`` response ``no-store``, ``noindex`` and unframeable.

Every page needs a signed-in session (see :mod:`node.web.auth`) except the
login page; every POST checks the session's CSRF token and the ``Origin``
header.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from node.storage.sessions import end_session, new_session, purge_sessions
from node.web.auth import (
    VISITOR_PREFIX,
    RateLimited,
    Session,
    check_csrf,
    check_origin,
    clear_session_cookie,
    current_password_hash,
    new_visitor,
    set_session_cookie,
)
from node.web.passwords import check_password
from node.web.views.admin.shared import ADMIN, ADMIN_HEADERS, current_session, node_of, redirect, render

__all__ = ["routes", "signed_in", "admin_middleware", "Handler"]

routes = web.RouteTableDef()
Handler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]


def signed_in(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Require a signed-in session; POSTs also need the CSRF token and a same-site Origin."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        session = await current_session(request)
        if request.method == "POST":
            check_origin(request, node_of(request).config)
            form = await request.post()
            csrf = form.get("csrf")
            check_csrf(session, csrf if isinstance(csrf, str) else None)
        if session is None or not session.authed:
            if request.method == "GET":
                raise redirect("/admin/login?next=" + quote(request.path_qs, safe=""))
            raise web.HTTPForbidden(reason="You are signed out. Sign in again and repeat what you were doing.")
        return await handler(request, session)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


@web.middleware
async def admin_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """No caching, no indexing, no framing on anything under /admin; errors as a console page."""
    if not request.path.startswith("/admin"):
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if e.status < 400:
            for key, value in ADMIN_HEADERS.items():
                e.headers[key] = value
            raise
        title = e.reason if e.status != 404 else "Page not found"
        response = render(
            request,
            "admin_error.html",
            {"title": title, "status": e.status, "message": e.reason},
            session=None,
            status=e.status,
        )
    for key, value in ADMIN_HEADERS.items():
        response.headers[key] = value
    return response


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value and "\n" not in value:
        return value
    return "/admin"


async def _login_page(
    request: web.Request, session: Session | None, *, status: int = 200, error: str | None = None
) -> web.Response:
    """The login page.  A visitor without a session gets a visitor cookie, which writes nothing (docs/security.md
    §6); the page never names the server's directory, which a stranger has no business knowing."""
    node = node_of(request)
    fresh = session if session is not None else new_visitor(request.app[ADMIN].secret)
    ctx = {
        "title": "Sign in to the console",
        "error": error,
        "next": _safe_next(request.query.get("next")),
        "password_set": current_password_hash(node.config) is not None,
    }
    response = render(request, "admin_login.html", ctx, session=fresh, status=status)
    if fresh is not session:
        set_session_cookie(response, fresh, node.config)
    return response


@routes.get("/admin/login")
async def login_form(request: web.Request) -> web.StreamResponse:
    session = await current_session(request)
    if session is not None and session.authed:
        raise redirect("/admin")
    return await _login_page(request, session)


@routes.post("/admin/login")
async def login(request: web.Request) -> web.StreamResponse:
    node = node_of(request)
    check_origin(request, node.config)
    session = await current_session(request)
    form = await request.post()
    csrf = form.get("csrf")
    check_csrf(session, csrf if isinstance(csrf, str) else None)
    assert session is not None
    stored = current_password_hash(node.config)
    if stored is None:
        return await _login_page(request, session, status=403, error="No console password is set yet: see below.")
    # request.remote is the proxy-aware client address (node.web.limits.request_limits).
    address = request.remote or "unknown"
    limiter = request.app[ADMIN].limiter
    try:
        # Counted now, before the password is hashed in a thread, in the node's database inside one BEGIN IMMEDIATE
        # transaction: parallel attempts each take a slot, whichever --workers process answers them.
        await node.store.write(limiter.reserve_in, address)
    except RateLimited as e:
        response = await _login_page(request, session, status=429, error=e.message)
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    password = form.get("password")
    ok = isinstance(password, str) and bool(password) and await asyncio.to_thread(check_password, password, stored)
    if not ok:
        return await _login_page(
            request, session, status=401, error="That password is not right. Check it and try again."
        )

    def rotate(conn: sqlite3.Connection) -> Session:
        limiter.succeeded_in(conn, address)
        if not session.id.startswith(VISITOR_PREFIX):
            end_session(conn, session.id)
        purge_sessions(conn)
        return new_session(conn, authed=True)

    fresh = await node.store.write(rotate)
    nxt = form.get("next")
    response = redirect(_safe_next(nxt if isinstance(nxt, str) else None))
    set_session_cookie(response, fresh, node.config)
    raise response


@routes.post("/admin/logout")
@signed_in
async def logout(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    await node.store.write(end_session, session.id)
    response = redirect("/admin/login?signed_out=1")
    clear_session_cookie(response, node.config)
    raise response
