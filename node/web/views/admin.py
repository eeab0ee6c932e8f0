"""The coordinator console under ``/admin`` (issue 7): server-rendered, no JavaScript needed.

Register with :func:`setup`.  Every page needs a signed-in session (see
:mod:`node.web.auth`) except the login page; every POST checks the session's
CSRF token and the ``Origin`` header.  Every ``/admin`` response is marked
``no-store`` and ``noindex`` and may not be framed.

Nothing the console does publishes by surprise: an upload shows its plan
first and publishes only when "Publish these changes" is pressed (the button
carries a token for the plan kept on the server, not the data); pause,
close and delete each ask for confirmation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable, Final, Mapping
from urllib.parse import quote

import msgspec
from aiohttp import BodyPartReader, web

from protocol.errors import SignpostError
from protocol.records import DELIVERY, KINDS, RECORD_ID_PATTERN, STATUSES, TOPICS

from node.storage import console as admin_store
from node.importer.listing_form import (
    DAYS,
    FormErrors,
    fields_from_form,
    form_from_record,
    values_from_form,
)
from node.web.auth import (
    COOKIE,
    LOGIN_LIMITS,
    RateLimited,
    RateLimiter,
    Session,
    check_csrf,
    check_origin,
    clear_session_cookie,
    current_password_hash,
    end_session,
    find_session,
    new_session,
    purge_sessions,
    set_session_cookie,
)
from node.core.context import NODE, Node, now_us
from node.directory.filters import hidden_cutoff, is_stale
from node.importer import ImportBatch, UnreadableFile, read_listings
from node.importer.pipeline import plan_batch
from node.web.passwords import check_password
from node.publishing.publisher import (
    ImportPlan,
    ListingIn,
    apply_plan,
    delete,
    load_identity,
    publish,
)
from node.web.reports import REPORTS, ReportSettings, list_reports, resolve_report
from node.web.reports import routes as report_routes
from node.directory.schedule import LONDON
from node.importer.sheet import last_runs, run_sheet_import, sheet_ctx
from node.federation.health import HIDDEN_DAYS, STALE_DAYS, read_status
from node.web.templating import TEMPLATES

__all__ = ["routes", "setup", "ADMIN", "AdminState", "PendingUpload", "ADMIN_HEADERS", "MAX_UPLOAD_BYTES", "ACTIONS"]

routes = web.RouteTableDef()
MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
PENDING_SECONDS: Final = 3600
MAX_PENDING: Final = 20
ADMIN_HEADERS: Final = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Frame-Options": "DENY",
    # Not "no-referrer": with it, browsers send "Origin: null" on form posts and the origin check could not tell us from a stranger.
    "Referrer-Policy": "same-origin",
}
# Status changes that ask "are you sure?" first: action → (new status or None for delete, button, explanation).
ACTIONS: Final[dict[str, tuple[str | None, str, str]]] = {
    "pause": ("paused", "Pause this listing", "It stays on the directory marked as paused, so people know it will be back."),
    "close": ("closed", "Close this listing", "It disappears from search and its page says it has closed. You can reopen it later."),
    "reopen": ("active", "Reopen this listing", "It shows as running again."),
    "delete": (None, "Delete this listing for good", "A deletion is sent to every node that carries it. This cannot be undone; to bring it back you would add it again."),
}
_DECODE = msgspec.json.Decoder()


@dataclass
class PendingUpload:
    """An upload's plan, kept on the server until "Publish these changes" (or it expires)."""

    session: str
    batch: ImportBatch
    plan: ImportPlan
    replace: bool
    filename: str
    created: float


@dataclass
class AdminState:
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(LOGIN_LIMITS))
    pending: dict[str, PendingUpload] = field(default_factory=dict)
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)


ADMIN: web.AppKey[AdminState] = web.AppKey("admin", AdminState)


# -- plumbing ------------------------------------------------------------------


def _node(request: web.Request) -> Node:
    return request.app[NODE]


def _today(request: web.Request) -> dt.date:
    return request.app[ADMIN].clock().astimezone(LONDON).date()


async def _session(request: web.Request) -> Session | None:
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    return await _node(request).store.read(find_session, sid)


def _render(request: web.Request, template: str, ctx: Mapping[str, Any], *, session: Session | None, status: int = 200) -> web.Response:
    node = _node(request)
    full = {
        "site_name": node.config.node.name, "session": session, "signed_in": bool(session and session.authed),
        "csrf": session.csrf if session else "", "path": request.path, **ctx,
    }
    response = request.app[TEMPLATES].render(template, full, status=status, cache="no-store")
    return response


def _redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


Handler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]


def signed_in(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Require a signed-in session; POSTs also need the CSRF token and a same-site Origin."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        session = await _session(request)
        if request.method == "POST":
            check_origin(request, _node(request).config)
            form = await request.post()
            check_csrf(session, form.get("csrf") if isinstance(form.get("csrf"), str) else None)  # type: ignore[arg-type]
        if session is None or not session.authed:
            if request.method == "GET":
                raise _redirect("/admin/login?next=" + quote(request.path_qs, safe=""))
            raise web.HTTPForbidden(reason="You are signed out. Sign in again and repeat what you were doing.")
        return await handler(request, session)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


@web.middleware
async def admin_middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
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
        response = _render(request, "admin_error.html", {"title": e.reason if e.status != 404 else "Page not found", "status": e.status,
                                                         "message": e.reason}, session=None, status=e.status)
    for key, value in ADMIN_HEADERS.items():
        response.headers[key] = value
    return response


# -- signing in ----------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/admin") and not value.startswith("//") and "\\" not in value and "\n" not in value:
        return value
    return "/admin"


async def _login_page(request: web.Request, session: Session | None, *, status: int = 200, error: str | None = None) -> web.Response:
    node = _node(request)
    fresh = session
    if fresh is None:
        fresh = await node.store.write(lambda conn: new_session(conn, authed=False))
    ctx = {
        "title": "Sign in to the console", "error": error, "next": _safe_next(request.query.get("next")),
        "password_set": current_password_hash(node.config) is not None, "directory": str(node.config.directory.resolve()),
    }
    response = _render(request, "admin_login.html", ctx, session=fresh, status=status)
    if fresh is not session:
        set_session_cookie(response, fresh, node.config)
    return response


@routes.get("/admin/login")
async def login_form(request: web.Request) -> web.StreamResponse:
    session = await _session(request)
    if session is not None and session.authed:
        raise _redirect("/admin")
    return await _login_page(request, session)


@routes.post("/admin/login")
async def login(request: web.Request) -> web.StreamResponse:
    node = _node(request)
    check_origin(request, node.config)
    session = await _session(request)
    form = await request.post()
    csrf = form.get("csrf")
    check_csrf(session, csrf if isinstance(csrf, str) else None)
    assert session is not None
    address = request.remote or "unknown"
    limiter = request.app[ADMIN].limiter
    try:
        limiter.check(address)
    except RateLimited as e:
        response = await _login_page(request, session, status=429, error=e.message)
        response.headers["Retry-After"] = str(e.retry_after)
        return response
    stored = current_password_hash(node.config)
    password = form.get("password")
    if stored is None:
        return await _login_page(request, session, status=403, error="No console password is set yet: see below.")
    ok = isinstance(password, str) and bool(password) and await asyncio.to_thread(check_password, password, stored)
    if not ok:
        limiter.hit(address)
        return await _login_page(request, session, status=401, error="That password is not right. Check it and try again.")
    limiter.reset(address)

    def rotate(conn: sqlite3.Connection) -> Session:
        end_session(conn, session.id)
        purge_sessions(conn)
        return new_session(conn, authed=True)

    fresh = await node.store.write(rotate)
    nxt = form.get("next")
    response = _redirect(_safe_next(nxt if isinstance(nxt, str) else None))
    set_session_cookie(response, fresh, node.config)
    raise response


@routes.post("/admin/logout")
@signed_in
async def logout(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    await node.store.write(end_session, session.id)
    response = _redirect("/admin/login?signed_out=1")
    clear_session_cookie(response, node.config)
    raise response


# -- overview --------------------------------------------------------------------


def _own_rows(conn: sqlite3.Connection, publisher: str) -> list[tuple[Any, ...]]:
    return conn.execute(
        "SELECT l.id, l.name, l.kind, l.status, l.reviewed, l.private, "
        "(SELECT count(*) FROM reports r WHERE r.publisher = l.publisher AND r.id = l.id AND r.resolved = 0) "
        "FROM listings l WHERE l.publisher = ?",
        (publisher,),
    ).fetchall()


def _age(reviewed: str | None, today: dt.date) -> tuple[str, int]:
    """"Last checked" in words, and the age in days for sorting (never checked sorts first)."""
    if reviewed is None:
        return "never", 10**6
    days = (today - dt.date.fromisoformat(reviewed)).days
    if days <= 0:
        return "today", 0
    if days < 60:
        return f"{days} day{'s' if days != 1 else ''} ago", days
    months = days // 30
    return (f"{months} months ago" if months < 24 else f"{days // 365} years ago"), days


def _listing_rows(conn: sqlite3.Connection, publisher: str, today: dt.date, now: dt.datetime) -> list[dict[str, Any]]:
    kept = admin_store.kept_visible(conn, publisher)
    cutoff = hidden_cutoff(now)
    out = []
    for rid, name, kind, status, reviewed, private, reports in _own_rows(conn, publisher):
        age, days = _age(reviewed, today)
        out.append({
            "id": rid, "name": name, "kind": kind, "status": status, "reviewed": reviewed, "age": age, "days": days,
            "private": bool(private), "reports": reports, "stale": is_stale(reviewed, today),
            "hidden": reviewed is not None and reviewed < cutoff and rid not in kept, "kept": rid in kept,
        })
    return out


SORTS: Final[dict[str, tuple[str, Callable[[dict[str, Any]], Any]]]] = {
    "stale": ("Least recently checked first", lambda r: (-r["days"], r["name"].lower())),
    "name": ("Name", lambda r: (r["name"].lower(), r["id"])),
    "status": ("Status", lambda r: (r["status"], -r["days"], r["name"].lower())),
}


@routes.get("/admin")
@signed_in
async def overview(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    today = _today(request)
    now = request.app[ADMIN].clock()

    def read(conn: sqlite3.Connection) -> dict[str, Any]:
        rows = _listing_rows(conn, node.publisher, today, now)
        return {
            "status": read_status(conn, today=today), "rows": rows, "reports": len(list_reports(conn, publisher=node.publisher)),
            "runs": last_runs(conn, 3),
        }

    data = await node.store.read(read)
    rows = data["rows"]
    ctx = {
        "title": "Console", "counts": data["status"]["counts"], "peers": data["status"]["peers"],
        "stale": sum(1 for r in rows if r["stale"]), "hidden": sum(1 for r in rows if r["hidden"]),
        "open_reports": data["reports"], "runs": data["runs"], "sheet_url": node.config.import_.sheet_url,
        "feed": f"{node.config.base_url}/feed", "publisher": node.publisher,
    }
    return _render(request, "admin_overview.html", ctx, session=session)


# -- upload ------------------------------------------------------------------------


@routes.get("/admin/upload")
@signed_in
async def upload_form(request: web.Request, session: Session) -> web.StreamResponse:
    return _render(request, "admin_upload.html", {"title": "Upload a spreadsheet", "error": None}, session=session)


async def _save_upload(request: web.Request, dest_dir: Path) -> tuple[Path, str, bool, str | None]:
    """Stream the multipart upload to a temporary file; return it, its name, the replace choice and the CSRF field."""
    reader = await request.multipart()
    path: Path | None = None
    filename = ""
    replace = False
    csrf: str | None = None
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            continue
        name = part.name
        if name == "file":
            filename = (part.filename or "upload").replace("/", "_").replace("\\", "_")[-100:]
            suffix = Path(filename).suffix.lower()
            path = dest_dir / ("upload" + (suffix if suffix in (".csv", ".xlsx", ".ods", ".jsonl", ".txt") else ".csv"))
            size = 0
            with path.open("wb") as out:
                while chunk := await part.read_chunk(65536):
                    size += len(chunk)
                    if size > MAX_UPLOAD_BYTES:
                        raise web.HTTPRequestEntityTooLarge(max_size=MAX_UPLOAD_BYTES, actual_size=size)
                    out.write(chunk)
        elif name == "replace":
            replace = (await part.text()) == "yes"
        elif name == "csrf":
            csrf = (await part.text())[:200]
    if path is None or not filename:
        raise web.HTTPBadRequest(reason="Choose a spreadsheet file to upload.")
    return path, filename, replace, csrf


def _prune_pending(state: AdminState) -> None:
    cutoff = time.monotonic() - PENDING_SECONDS
    for token in [t for t, p in state.pending.items() if p.created < cutoff]:
        del state.pending[token]
    while len(state.pending) >= MAX_PENDING:
        del state.pending[next(iter(state.pending))]


def _preview_ctx(pending: PendingUpload, token: str) -> dict[str, Any]:
    plan, batch = pending.plan, pending.batch
    return {
        "title": "Check the changes before publishing", "token": token, "filename": pending.filename, "replace": pending.replace,
        "added": plan.of("add"), "changed": plan.of("change"), "deleted": plan.of("delete"), "unchanged": len(plan.of("unchanged")),
        "rejected": batch.errors, "warnings": batch.warnings, "unknown_columns": batch.unknown_columns,
        "publishable": bool(plan.of("add") or plan.of("change") or plan.of("delete")), "notice": None,
    }


@routes.post("/admin/upload")
async def upload(request: web.Request) -> web.StreamResponse:
    from node.directory.geo import Geo

    node = _node(request)
    check_origin(request, node.config)
    session = await _session(request)
    with tempfile.TemporaryDirectory(prefix="signpost-upload-") as tmp:
        path, filename, replace, csrf = await _save_upload(request, Path(tmp))
        check_csrf(session, csrf)
        assert session is not None
        if not session.authed:
            raise web.HTTPForbidden(reason="You are signed out. Sign in again and repeat what you were doing.")
        try:
            batch = await asyncio.to_thread(read_listings, path, geo=Geo.load())
        except UnreadableFile as e:
            return _render(request, "admin_upload.html", {"title": "Upload a spreadsheet", "error": str(e).replace(path.name, filename)},
                           session=session, status=400)
    batch.source = filename
    plan = await node.store.read(lambda conn: plan_batch(conn, node.publisher, batch, replace=replace))
    state = request.app[ADMIN]
    _prune_pending(state)
    token = secrets.token_urlsafe(24)
    state.pending[token] = PendingUpload(session.id, batch, plan, replace, filename, time.monotonic())
    return _render(request, "admin_preview.html", _preview_ctx(state.pending[token], token), session=session)


def _plan_shape(plan: ImportPlan) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(p.id, p.action, tuple(p.changed_fields)) for p in plan.items]


@routes.post("/admin/upload/publish")
@signed_in
async def upload_publish(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    form = await request.post()
    token = form.get("plan")
    state = request.app[ADMIN]
    pending = state.pending.get(token) if isinstance(token, str) else None
    if pending is None or pending.session != session.id:
        return _render(request, "admin_upload.html", {"title": "Upload a spreadsheet",
                       "error": "That preview has expired (previews last an hour). Upload the file again to see its changes."},
                       session=session, status=409)

    def write(conn: sqlite3.Connection) -> ImportPlan | None:
        plan = plan_batch(conn, node.publisher, pending.batch, replace=pending.replace)
        if _plan_shape(plan) != _plan_shape(pending.plan):
            return plan
        apply_plan(conn, load_identity(node.config.directory, conn, node.publisher), plan, now_us=now_us())
        return None

    changed = await node.store.write(write)
    if changed is not None:
        pending.plan = changed
        ctx = _preview_ctx(pending, token)  # type: ignore[arg-type]
        ctx["notice"] = "The listings changed since this preview was made, so nothing was published. Here is the new preview."
        return _render(request, "admin_preview.html", ctx, session=session, status=409)
    del state.pending[token]  # type: ignore[arg-type]
    c = pending.plan.counts()
    raise _redirect(f"/admin/listings?published={c['add']}.{c['change']}.{c['delete']}")


# -- listings ------------------------------------------------------------------------


@routes.get("/admin/listings")
@signed_in
async def listings(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    sort = request.query.get("sort", "stale")
    if sort not in SORTS:
        sort = "stale"
    today = _today(request)
    now = request.app[ADMIN].clock()
    rows = await node.store.read(_listing_rows, node.publisher, today, now)
    rows.sort(key=SORTS[sort][1])
    published = request.query.get("published", "")
    notice = None
    if published.count(".") == 2 and published.replace(".", "").isdigit():
        a, c, d = published.split(".")
        notice = f"Published: {a} added, {c} changed, {d} deleted. They are live now."
    ctx = {"title": "Your listings", "rows": rows, "sort": sort, "sorts": {k: v[0] for k, v in SORTS.items()}, "notice": notice,
           "stale_days": STALE_DAYS, "hidden_days": HIDDEN_DAYS}
    return _render(request, "admin_listings.html", ctx, session=session)


def _listing_id(request: web.Request) -> str:
    import re

    rid = request.match_info["id"]
    if not re.match(RECORD_ID_PATTERN, rid):
        raise web.HTTPNotFound()
    return rid


def _load(conn: sqlite3.Connection, publisher: str, rid: str) -> tuple[dict[str, Any], tuple[str | None, str | None, str | None] | None] | None:
    row = conn.execute("SELECT payload FROM listings WHERE publisher = ? AND id = ?", (publisher, rid)).fetchone()
    if row is None:
        return None
    fields: dict[str, Any] = _DECODE.decode(row[0])
    for key in ("publisher", "id", "rev", "updated", "deleted"):
        fields.pop(key, None)
    place = conn.execute("SELECT venue, address, postcode FROM private_places WHERE id = ?", (rid,)).fetchone()
    return fields, (tuple(place) if place is not None else None)


async def _load_or_404(node: Node, rid: str) -> tuple[dict[str, Any], tuple[str | None, str | None, str | None] | None]:
    found = await node.store.read(_load, node.publisher, rid)
    if found is None:
        raise web.HTTPNotFound(reason="This node has no listing with that id. It may have been deleted.")
    return found


async def _publish(node: Node, listing: ListingIn) -> None:
    def write(conn: sqlite3.Connection) -> None:
        publish(conn, load_identity(node.config.directory, conn, node.publisher), [listing], now_us=now_us())

    await node.store.write(write)


def _edit_ctx(request: web.Request, rid: str, values: dict[str, Any], errors: dict[str, str], reports: list[dict[str, Any]],
              *, kept: bool, notice: str | None = None) -> dict[str, Any]:
    node = _node(request)
    return {
        "title": f"Edit {values.get('name') or rid}", "rid": rid, "v": values, "errors": errors, "kinds": KINDS, "topics": TOPICS,
        "days": DAYS, "deliveries": DELIVERY, "statuses": STATUSES, "reports": reports, "kept": kept, "notice": notice,
        "public_url": f"/listing/{node.publisher}/{rid}",
    }


_NOTICES: Final = {
    "saved": "Saved and published.", "checked": "Marked as still current today, and published.",
    "paused": "Paused, and published.", "closed": "Closed, and published.", "active": "Reopened, and published.",
    "kept": "It will stay in search even when not checked for 12 months.", "unkept": "It will be hidden from search after 12 months without a check.",
}


@routes.get("/admin/listings/{id}")
@signed_in
async def edit_form(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    rid = _listing_id(request)
    fields, place = await _load_or_404(node, rid)

    reports, kept = await _reports_and_kept(node, rid)
    notice = _NOTICES.get(request.query.get("done", ""))
    return _render(request, "admin_edit.html", _edit_ctx(request, rid, form_from_record(fields, place), {}, reports, kept=kept, notice=notice),
                   session=session)


async def _reports_and_kept(node: Node, rid: str) -> tuple[list[dict[str, Any]], bool]:
    """A listing's reports from the public, and whether it is kept visible past a year unchecked."""

    def read(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], bool]:
        return list_reports(conn, publisher=node.publisher, record_id=rid), rid in admin_store.kept_visible(conn, node.publisher)

    return await node.store.read(read)


@routes.post("/admin/listings/{id}")
@signed_in
async def edit_save(request: web.Request, session: Session) -> web.StreamResponse:
    from node.directory.geo import Geo

    node = _node(request)
    rid = _listing_id(request)
    base, _ = await _load_or_404(node, rid)
    form = await request.post()
    try:
        fields, place = fields_from_form(form, geo=Geo.load(), base=base, record_id=rid)
    except FormErrors as e:
        reports, kept = await _reports_and_kept(node, rid)
        ctx = _edit_ctx(request, rid, values_from_form(form), e.errors, reports, kept=kept)
        return _render(request, "admin_edit.html", ctx, session=session, status=400)
    await _publish(node, ListingIn(id=rid, fields=fields, private_place=place))
    raise _redirect(f"/admin/listings/{rid}?done=saved")


@routes.post("/admin/listings/{id}/check")
@signed_in
async def mark_checked(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    rid = _listing_id(request)
    fields, place = await _load_or_404(node, rid)
    fields["reviewed"] = _today(request).isoformat()
    await _publish(node, ListingIn(id=rid, fields=fields, private_place=place))
    back = (await request.post()).get("back")
    if back == "list":
        raise _redirect("/admin/listings")
    raise _redirect(f"/admin/listings/{rid}?done=checked")


@routes.post("/admin/listings/{id}/visibility")
@signed_in
async def visibility(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    rid = _listing_id(request)
    await _load_or_404(node, rid)
    keep = (await request.post()).get("keep") == "yes"
    await node.store.write(admin_store.set_keep_visible, node.publisher, rid, keep)
    raise _redirect(f"/admin/listings/{rid}?done={'kept' if keep else 'unkept'}")


@routes.get("/admin/listings/{id}/{action}")
@signed_in
async def confirm_action(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    rid = _listing_id(request)
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    fields, _ = await _load_or_404(node, rid)
    _, button, explanation = ACTIONS[action]
    ctx = {"title": f"{button}?", "rid": rid, "name": fields.get("name", rid), "action": action, "button": button, "explanation": explanation}
    return _render(request, "admin_confirm.html", ctx, session=session)


@routes.post("/admin/listings/{id}/{action}")
@signed_in
async def do_action(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    rid = _listing_id(request)
    action = request.match_info["action"]
    if action not in ACTIONS:
        raise web.HTTPNotFound()
    if (await request.post()).get("confirm") != "yes":
        raise _redirect(f"/admin/listings/{rid}/{action}")
    fields, place = await _load_or_404(node, rid)
    status = ACTIONS[action][0]
    if status is None:
        def write(conn: sqlite3.Connection) -> None:
            delete(conn, load_identity(node.config.directory, conn, node.publisher), rid, now_us=now_us())
            admin_store.set_keep_visible(conn, node.publisher, rid, False)

        await node.store.write(write)
        raise _redirect("/admin/listings?deleted=1")
    fields["status"] = status
    await _publish(node, ListingIn(id=rid, fields=fields, private_place=place))
    raise _redirect(f"/admin/listings/{rid}?done={status}")


# -- reports ------------------------------------------------------------------------


@routes.get("/admin/reports")
@signed_in
async def reports(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    show_all = request.query.get("all") == "1"
    items = await node.store.read(lambda conn: list_reports(conn, include_resolved=show_all))
    return _render(request, "admin_reports.html", {"title": "Reports from the public", "reports": items, "show_all": show_all,
                                                   "publisher": node.publisher}, session=session)


@routes.post("/admin/reports/{rowid}/resolve")
@signed_in
async def report_resolve(request: web.Request, session: Session) -> web.StreamResponse:
    raw = request.match_info["rowid"]
    if not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    await _node(request).store.write(resolve_report, int(raw))
    raise _redirect("/admin/reports")


# -- peers ---------------------------------------------------------------------------


async def _peers_page(request: web.Request, session: Session, *, status: int = 200, error: str | None = None,
                      notice: str | None = None, url: str = "") -> web.Response:
    node = _node(request)
    peers = (await node.store.read(read_status))["peers"]
    from node.federation.sync import fingerprint

    for p in peers:
        p["fingerprint"] = fingerprint(p["publisher"])
    ctx = {"title": "Peers you follow", "peers": peers, "error": error, "notice": notice, "url": url}
    return _render(request, "admin_peers.html", ctx, session=session, status=status)


@routes.get("/admin/peers")
@signed_in
async def peers(request: web.Request, session: Session) -> web.StreamResponse:
    followed = request.query.get("followed")
    return await _peers_page(request, session, notice=f"Now following {followed}. Its listings arrive within a few minutes." if followed else None)


@routes.post("/admin/peers/check")
@signed_in
async def peer_check(request: web.Request, session: Session) -> web.StreamResponse:
    from node.federation.sync import check_peer_url, fetch_node_document, fingerprint

    node = _node(request)
    url = str((await request.post()).get("url") or "").strip()
    try:
        url = check_peer_url(url, allow_insecure_http=node.config.sync.allow_insecure_http)
        doc, log = await fetch_node_document(node, url)
    except SignpostError as e:
        return await _peers_page(request, session, status=400, error=f"{e.message}{' (' + e.hint + ')' if e.hint else ''}", url=url)
    if log.publisher == node.publisher:
        return await _peers_page(request, session, status=400, error="That address is this node itself.", url=url)
    ctx = {"title": "Confirm the peer", "url": url, "name": doc.name, "publisher": log.publisher, "fingerprint": fingerprint(log.publisher)}
    return _render(request, "admin_peer_confirm.html", ctx, session=session)


@routes.post("/admin/peers/follow")
@signed_in
async def peer_follow(request: web.Request, session: Session) -> web.StreamResponse:
    from node.federation.sync import follow

    node = _node(request)
    form = await request.post()
    url, publisher = str(form.get("url") or ""), str(form.get("publisher") or "")
    try:
        _, name = await follow(node, url, publisher=publisher)
    except SignpostError as e:
        return await _peers_page(request, session, status=400, error=f"Nothing was followed: {e.message}", url=url)
    raise _redirect("/admin/peers?followed=" + quote(name or url))


# -- the published sheet ----------------------------------------------------------------


@routes.get("/admin/sheet")
@signed_in
async def sheet(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    runs = await node.store.read(last_runs, 20)
    ctx = {"title": "Published sheet", "sheet_url": node.config.import_.sheet_url, "interval": int(node.config.import_.sheet_interval),
           "runs": runs, "directory": str(node.config.directory.resolve())}
    return _render(request, "admin_sheet.html", ctx, session=session)


@routes.post("/admin/sheet/fetch")
@signed_in
async def sheet_fetch(request: web.Request, session: Session) -> web.StreamResponse:
    node = _node(request)
    if not node.config.import_.sheet_url:
        raise _redirect("/admin/sheet")
    await run_sheet_import(node)
    raise _redirect("/admin/sheet")


# -- registration -------------------------------------------------------------------------


async def admin_ctx(app: web.Application) -> AsyncIterator[None]:
    """Create the console's tables and the report-form signing secret once the store is open."""
    node = app[NODE]

    def prepare(conn: sqlite3.Connection) -> str:
        from node.storage.store import get_meta, set_meta

        admin_store.migrate(conn)
        purge_sessions(conn)
        secret = get_meta(conn, "report_secret")
        if secret is None:
            secret = secrets.token_hex(32)
            set_meta(conn, "report_secret", secret)
        return secret

    app[REPORTS].secret = bytes.fromhex(await node.store.write(prepare))
    yield


def setup(app: web.Application) -> None:
    """Register the console, the public report form, and the published-sheet schedule on ``app``."""
    app[ADMIN] = AdminState()
    app[REPORTS] = ReportSettings(secret=b"")
    app.middlewares.append(admin_middleware)
    app.cleanup_ctx.append(admin_ctx)
    app.cleanup_ctx.append(sheet_ctx)
    app.add_routes(routes)
    app.add_routes(report_routes)
