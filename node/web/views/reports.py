""" "Something wrong with this listing?": the public's problem reports (``/listing/{publisher}/{id}/report``).

No login, no third-party service: spam is kept out by :mod:`node.web.antispam`
(a honeypot, a signed minimum fill time, a length cap and a per-address rate
limit).  Reports are stored locally (:func:`node.storage.console.add_report`)
and shown in the console with the listing; they are never published, synced
or sent anywhere.  Register with :func:`setup`.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from node.core.context import NODE
from node.directory.listings import open_listing_name
from node.storage.console import add_report, report_secret
from node.web.antispam import HONEYPOT, REPORTS, ReportSettings, SpamRefused, check_stamp, sign_stamp
from node.web.auth import RateLimited, check_origin
from node.web.templating import TEMPLATES
from protocol.records import PUBLISHER_PATTERN, RECORD_ID_PATTERN

__all__ = ["routes", "setup", "MAX_MESSAGE", "MAX_CONTACT"]

routes = web.RouteTableDef()
MAX_MESSAGE: Final = 2000
MAX_CONTACT: Final = 200


def _target(request: web.Request) -> tuple[str, str]:
    publisher, rid = request.match_info["publisher"], request.match_info["id"]
    if not re.match(PUBLISHER_PATTERN, publisher) or not re.match(RECORD_ID_PATTERN, rid):
        raise web.HTTPNotFound()
    return publisher, rid


async def _listing_name(request: web.Request, publisher: str, rid: str) -> str:
    name = await request.app[NODE].store.read(open_listing_name, publisher, rid)
    if name is None:
        raise web.HTTPNotFound()
    return name


def _render(
    request: web.Request,
    publisher: str,
    rid: str,
    name: str,
    *,
    status: int = 200,
    error: str | None = None,
    message: str = "",
    contact: str = "",
    sent: bool = False,
) -> web.Response:
    settings = request.app[REPORTS]
    node = request.app[NODE]
    ctx = {
        "site_name": node.config.node.name,
        "title": f"Something wrong with {name}?",
        "name": name,
        "listing_url": f"/listing/{publisher}/{rid}",
        "action": f"/listing/{publisher}/{rid}/report",
        "stamp": sign_stamp(settings.secret, time.time(), f"{publisher}/{rid}"),
        "error": error,
        "message": message,
        "contact": contact,
        "sent": sent,
        "max_message": MAX_MESSAGE,
        "max_contact": MAX_CONTACT,
        "honeypot": HONEYPOT,
    }
    response = request.app[TEMPLATES].render("report.html", ctx, status=status, cache="no-store")
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "same-origin"  # so the form's POST carries a real Origin, not "null"
    return response


@routes.get("/listing/{publisher}/{id}/report")
async def report_form(request: web.Request) -> web.Response:
    publisher, rid = _target(request)
    return _render(request, publisher, rid, await _listing_name(request, publisher, rid))


@routes.post("/listing/{publisher}/{id}/report")
async def report_submit(request: web.Request) -> web.Response:
    publisher, rid = _target(request)
    name = await _listing_name(request, publisher, rid)
    settings = request.app[REPORTS]
    check_origin(request, request.app[NODE].config)
    address = request.remote or "unknown"  # proxy-aware (node.web.limits.request_limits)
    try:
        settings.limiter.take(address)  # counted before the body is read, so parallel posts cannot all pass
    except RateLimited as e:
        response = _render(request, publisher, rid, name, status=429, error=e.message)
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    form = await request.post()
    message = str(form.get("message") or "").replace("\r\n", "\n").strip()
    contact = str(form.get("contact") or "").strip()
    if form.get(HONEYPOT):
        # Tell a bot it worked; store nothing.
        return _render(request, publisher, rid, name, sent=True)
    try:
        check_stamp(
            settings.secret,
            str(form.get("stamp") or ""),
            f"{publisher}/{rid}",
            now=time.time(),
            min_seconds=settings.min_seconds,
            max_age=settings.max_age,
        )
    except SpamRefused as e:
        return _render(
            request,
            publisher,
            rid,
            name,
            status=400,
            error=str(e),
            message=message[:MAX_MESSAGE],
            contact=contact[:MAX_CONTACT],
        )
    problem = _length_problem(message, contact)
    if problem is not None:
        return _render(
            request,
            publisher,
            rid,
            name,
            status=400,
            error=problem,
            message=message[:MAX_MESSAGE],
            contact=contact[:MAX_CONTACT],
        )
    now = int(time.time())

    def write(conn: sqlite3.Connection) -> int:
        return add_report(conn, publisher, rid, message, contact or None, now=now)

    await request.app[NODE].store.write(write)
    return _render(request, publisher, rid, name, sent=True)


def _length_problem(message: str, contact: str) -> str | None:
    """What to tell the person when the message is empty or either field is too long."""
    if not message:
        return "Tell us what is wrong with this listing."
    if len(message) > MAX_MESSAGE or len(contact) > MAX_CONTACT:
        return f"Please keep your message to {MAX_MESSAGE} characters and your contact details to {MAX_CONTACT}."
    return None


async def reports_ctx(app: web.Application) -> AsyncIterator[None]:
    """Load (or make, the first time) the secret that signs the form's timestamp, once the store is open."""
    app[REPORTS].secret = bytes.fromhex(await app[NODE].store.write(report_secret))
    yield


def setup(app: web.Application) -> None:
    """Register the public report form on ``app`` with its spam-guard settings."""
    app[REPORTS] = ReportSettings(secret=b"")
    app.cleanup_ctx.append(reports_ctx)
    app.add_routes(routes)
