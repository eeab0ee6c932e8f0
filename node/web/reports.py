""""Something wrong with this listing?": problem reports from the public (issue 7).

No login, no third-party service.  Spam is kept out by a honeypot field
(people never see it; form-filling bots do), a minimum fill time carried
in an HMAC-signed timestamp (a bot posting straight away fails; a form
older than a day is refused as stale), a length cap, and a per-address
rate limit.  Reports are stored locally and shown in the console with the
listing; they are never published, synced or sent anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from protocol.records import PUBLISHER_PATTERN, RECORD_ID_PATTERN

from node.web.auth import LimitRule, RateLimited, RateLimiter
from node.core.context import NODE
from node.web.templating import TEMPLATES

__all__ = [
    "routes",
    "REPORTS",
    "ReportSettings",
    "REPORT_LIMITS",
    "MAX_MESSAGE",
    "MAX_CONTACT",
    "HONEYPOT",
    "sign_stamp",
    "check_stamp",
    "add_report",
    "list_reports",
    "resolve_report",
    "SpamRefused",
]

routes = web.RouteTableDef()

MAX_MESSAGE: Final = 2000
MAX_CONTACT: Final = 200
HONEYPOT: Final = "website_url"  # a name bots like to fill
REPORT_LIMITS: Final = (LimitRule("address", 5, 3600), LimitRule("account", 200, 3600))


@dataclass
class ReportSettings:
    secret: bytes
    min_seconds: float = 3.0
    max_age: float = 24 * 3600
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(REPORT_LIMITS))


REPORTS: web.AppKey[ReportSettings] = web.AppKey("reports", ReportSettings)


class SpamRefused(Exception):
    """The submission looks automated or stale; ``message`` is what the person is told."""


def sign_stamp(secret: bytes, when: float, target: str) -> str:
    """A form timestamp bound to one listing, signed so it cannot be forged or moved."""
    ts = str(int(when))
    mac = hmac.new(secret, f"{ts}|{target}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{ts}.{mac}"


def check_stamp(secret: bytes, stamp: str, target: str, *, now: float, min_seconds: float, max_age: float) -> None:
    m = re.fullmatch(r"(\d{1,12})\.([0-9a-f]{32})", stamp or "")
    if m is None or not hmac.compare_digest(sign_stamp(secret, int(m.group(1)), target), stamp):
        raise SpamRefused("This form could not be checked. Please reload the page and send it again.")
    age = now - int(m.group(1))
    if age < min_seconds:
        raise SpamRefused("That was sent very quickly, so it looked automatic. Please check your message and send it again.")
    if age > max_age:
        raise SpamRefused("This form is more than a day old. Please reload the page and send it again.")


def add_report(conn: sqlite3.Connection, publisher: str, record_id: str, message: str, contact: str | None, *, now: int) -> int:
    cur = conn.execute(
        "INSERT INTO reports (publisher, id, message, contact, received) VALUES (?, ?, ?, ?, ?)",
        (publisher, record_id, message, contact, now),
    )
    return int(cur.lastrowid or 0)


def list_reports(conn: sqlite3.Connection, *, publisher: str | None = None, record_id: str | None = None, include_resolved: bool = False) -> list[dict[str, Any]]:
    """Reports newest first, each with the listing's current name (if it is still live)."""
    sql = ["SELECT r.rowid, r.publisher, r.id, r.message, r.contact, r.received, r.resolved, l.name FROM reports r "
           "LEFT JOIN listings l ON l.publisher = r.publisher AND l.id = r.id WHERE 1=1"]
    args: list[Any] = []
    if publisher is not None:
        sql.append("AND r.publisher = ?")
        args.append(publisher)
    if record_id is not None:
        sql.append("AND r.id = ?")
        args.append(record_id)
    if not include_resolved:
        sql.append("AND r.resolved = 0")
    sql.append("ORDER BY r.rowid DESC LIMIT 500")
    return [
        {"rowid": rowid, "publisher": pub, "id": rid, "message": message, "contact": contact,
         "received": time.strftime("%Y-%m-%d %H:%M", time.gmtime(received)), "resolved": bool(resolved), "name": name}
        for rowid, pub, rid, message, contact, received, resolved, name in conn.execute(" ".join(sql), args)
    ]


def resolve_report(conn: sqlite3.Connection, rowid: int) -> None:
    conn.execute("UPDATE reports SET resolved = 1 WHERE rowid = ?", (rowid,))


# -- the public form -----------------------------------------------------------


def _target(request: web.Request) -> tuple[str, str]:
    publisher, rid = request.match_info["publisher"], request.match_info["id"]
    if not re.match(PUBLISHER_PATTERN, publisher) or not re.match(RECORD_ID_PATTERN, rid):
        raise web.HTTPNotFound()
    return publisher, rid


async def _listing_name(request: web.Request, publisher: str, rid: str) -> str:
    def read(conn: sqlite3.Connection) -> str | None:
        row = conn.execute("SELECT name FROM listings WHERE publisher = ? AND id = ? AND status != 'closed'", (publisher, rid)).fetchone()
        return None if row is None else str(row[0])

    name = await request.app[NODE].store.read(read)
    if name is None:
        raise web.HTTPNotFound()
    return name


def _render(request: web.Request, publisher: str, rid: str, name: str, *, status: int = 200, error: str | None = None,
            message: str = "", contact: str = "", sent: bool = False) -> web.Response:
    settings = request.app[REPORTS]
    node = request.app[NODE]
    ctx = {
        "site_name": node.config.node.name, "title": f"Something wrong with {name}?", "name": name,
        "listing_url": f"/listing/{publisher}/{rid}", "action": f"/listing/{publisher}/{rid}/report",
        "stamp": sign_stamp(settings.secret, time.time(), f"{publisher}/{rid}"), "error": error, "message": message,
        "contact": contact, "sent": sent, "max_message": MAX_MESSAGE, "max_contact": MAX_CONTACT, "honeypot": HONEYPOT,
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
    from node.web.auth import check_origin

    check_origin(request, request.app[NODE].config)
    address = request.remote or "unknown"
    try:
        settings.limiter.check(address)
    except RateLimited as e:
        response = _render(request, publisher, rid, name, status=429, error=e.message)
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    form = await request.post()
    message = str(form.get("message") or "").replace("\r\n", "\n").strip()
    contact = str(form.get("contact") or "").strip()
    settings.limiter.hit(address)
    if form.get(HONEYPOT):
        # Tell a bot it worked; store nothing.
        return _render(request, publisher, rid, name, sent=True)
    try:
        check_stamp(settings.secret, str(form.get("stamp") or ""), f"{publisher}/{rid}", now=time.time(),
                    min_seconds=settings.min_seconds, max_age=settings.max_age)
    except SpamRefused as e:
        return _render(request, publisher, rid, name, status=400, error=str(e), message=message[:MAX_MESSAGE], contact=contact[:MAX_CONTACT])
    if not message:
        return _render(request, publisher, rid, name, status=400, error="Tell us what is wrong with this listing.", contact=contact[:MAX_CONTACT])
    if len(message) > MAX_MESSAGE or len(contact) > MAX_CONTACT:
        return _render(request, publisher, rid, name, status=400,
                       error=f"Please keep your message to {MAX_MESSAGE} characters and your contact details to {MAX_CONTACT}.",
                       message=message[:MAX_MESSAGE], contact=contact[:MAX_CONTACT])
    now = int(time.time())
    await request.app[NODE].store.write(lambda conn: add_report(conn, publisher, rid, message, contact or None, now=now))
    return _render(request, publisher, rid, name, sent=True)
