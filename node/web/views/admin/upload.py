"""Uploading a spreadsheet in the console: the form, the preview of what would change, and "Publish
these changes".

Nothing publishes by surprise: the upload shows its plan first, and the
publish button carries a token for the plan kept on the server (not the
data).  If the listings changed since the preview, nothing is published and
the new preview is shown instead.  Reading and planning are the one import
pipeline (:mod:`node.importer.pipeline`) that ``signpost import`` uses too.

The preview puts privacy first: the reader's notice about meeting places the sheet
does not mark (fail-closed, area only), the choice "all venues are public" / "show
only areas" that reads the kept upload again and re-plans (remembered for the file's
name when published, :mod:`node.importer.venues`), and which meeting places and
contact details become public or stop being public, above "Publish".
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any, Final

from aiohttp import BodyPartReader, web

from node.importer import ImportBatch, UnreadableFile
from node.importer.pipeline import plan_batch, preview, publish_previewed, read
from node.importer.venues import CHOICE_WORDS, PrivacyChange, VenuesChoice, choose_venues, keep_choice, privacy_changes
from node.publishing.publisher import ImportPlan
from node.web.auth import Session, check_csrf, check_origin
from node.web.views.admin.shared import ADMIN, AdminState, PendingUpload, current_session, node_of, redirect, render
from node.web.views.admin.signin import signed_in

__all__ = ["routes", "MAX_UPLOAD_BYTES", "PENDING_SECONDS", "MAX_PENDING"]

routes = web.RouteTableDef()
MAX_UPLOAD_BYTES: Final = 20 * 1024 * 1024
PENDING_SECONDS: Final = 3600
MAX_PENDING: Final = 20
_SUFFIXES: Final = (".csv", ".xlsx", ".ods", ".jsonl", ".txt")


@routes.get("/admin/upload")
@signed_in
async def upload_form(request: web.Request, session: Session) -> web.StreamResponse:
    return render(request, "admin_upload.html", {"title": "Upload a spreadsheet", "error": None}, session=session)


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
            path = dest_dir / ("upload" + (suffix if suffix in _SUFFIXES else ".csv"))
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


def _preview_ctx(pending: PendingUpload, token: str, changes: list[PrivacyChange]) -> dict[str, Any]:
    shown = preview(pending.batch, pending.plan)
    choice = pending.choice
    batch = pending.batch
    notices = [line for line in (choice.line() if choice else None, batch.venue_notice) if line]
    return {
        "notices": notices,
        "privacy_changes": changes,
        "venues": choice.venues if choice else None,
        "venue_choices": CHOICE_WORDS,
        "ask_venues": bool(batch.undeclared_venues) or (choice is not None and choice.venues is not None),
        "title": "Check the changes before publishing",
        "token": token,
        "filename": pending.filename,
        "replace": pending.replace,
        "added": shown.added,
        "changed": shown.changed,
        "deleted": shown.deleted,
        "unchanged": shown.unchanged,
        "rejected": shown.rejected,
        "warnings": shown.warnings,
        "unknown_columns": shown.unknown_columns,
        "publishable": shown.publishable,
        "notice": None,
    }


@routes.post("/admin/upload")
async def upload(request: web.Request) -> web.StreamResponse:
    """Not behind :func:`signed_in`, which reads the whole form: the file is streamed to disk with a cap.

    The session and the CSRF token (in the form's address, ``?csrf=``) are checked before a byte of the body
    is read, so nobody without a signed-in session can make the node write anything (docs/security.md §6).
    A token sent only as a form field is still accepted from a signed-in session, checked after streaming.
    """
    node = node_of(request)
    check_origin(request, node.config)
    session = await current_session(request)
    if session is None or not session.authed:
        raise web.HTTPForbidden(reason="You are signed out. Sign in again and repeat what you were doing.")
    early = request.query.get("csrf")
    if early is not None:
        check_csrf(session, early)
    with tempfile.TemporaryDirectory(prefix="signpost-upload-") as tmp:
        path, filename, replace, csrf = await _save_upload(request, Path(tmp))
        check_csrf(session, early if early is not None else csrf)
        choice = await node.store.read(lambda conn: choose_venues(conn, filename, None))
        try:
            batch = await asyncio.to_thread(lambda: read(path, venues=choice.venues))
        except UnreadableFile as e:
            ctx = {"title": "Upload a spreadsheet", "error": str(e).replace(path.name, filename)}
            return render(request, "admin_upload.html", ctx, session=session, status=400)
        data = path.read_bytes()
    batch.source = filename
    plan, changes = await node.store.read(_plan, node.publisher, batch, replace)
    state = request.app[ADMIN]
    _prune_pending(state)
    token = secrets.token_urlsafe(24)
    state.pending[token] = PendingUpload(
        session.id, batch, plan, replace, filename, time.monotonic(), data=data, choice=choice
    )
    return render(request, "admin_preview.html", _preview_ctx(state.pending[token], token, changes), session=session)


def _plan(
    conn: sqlite3.Connection, publisher: str, batch: ImportBatch, replace: bool
) -> tuple[ImportPlan, list[PrivacyChange]]:
    planned = plan_batch(conn, publisher, batch, replace=replace)
    return planned, privacy_changes(conn, publisher, planned)


def _expired(request: web.Request, session: Session) -> web.StreamResponse:
    ctx = {
        "title": "Upload a spreadsheet",
        "error": "That preview has expired (previews last an hour). Upload the file again to see its changes.",
    }
    return render(request, "admin_upload.html", ctx, session=session, status=409)


@routes.post("/admin/upload/venues")
@signed_in
async def upload_venues(request: web.Request, session: Session) -> web.StreamResponse:
    """The preview's choice for meeting places the sheet does not mark: read the kept upload again and re-plan."""
    node = node_of(request)
    form = await request.post()
    token, venues = form.get("plan"), form.get("venues")
    state = request.app[ADMIN]
    pending = state.pending.get(token) if isinstance(token, str) else None
    if pending is None or pending.session != session.id or not isinstance(token, str):
        return _expired(request, session)
    if venues != "public" and venues != "private":
        raise web.HTTPBadRequest(reason="Choose whether all venues are public or only areas are shown.")
    choice = VenuesChoice(pending.filename, "public" if venues == "public" else "private", "given")
    suffix = Path(pending.filename).suffix.lower()
    with tempfile.TemporaryDirectory(prefix="signpost-upload-") as tmp:
        path = Path(tmp) / ("upload" + (suffix if suffix in _SUFFIXES else ".csv"))
        path.write_bytes(pending.data)
        batch = await asyncio.to_thread(lambda: read(path, venues=choice.venues))
    batch.source = pending.filename
    pending.batch, pending.choice = batch, choice
    pending.plan, changes = await node.store.read(_plan, node.publisher, batch, pending.replace)
    return render(request, "admin_preview.html", _preview_ctx(pending, token, changes), session=session)


@routes.post("/admin/upload/publish")
@signed_in
async def upload_publish(request: web.Request, session: Session) -> web.StreamResponse:
    node = node_of(request)
    token = (await request.post()).get("plan")
    state = request.app[ADMIN]
    pending = state.pending.get(token) if isinstance(token, str) else None
    if pending is None or pending.session != session.id or not isinstance(token, str):
        return _expired(request, session)

    def write(conn: sqlite3.Connection) -> tuple[ImportPlan, list[PrivacyChange]] | None:
        changed = publish_previewed(
            conn, node.config.directory, node.publisher, pending.batch, replace=pending.replace, previewed=pending.plan
        )
        if changed is not None:
            return changed, privacy_changes(conn, node.publisher, changed)
        if pending.choice is not None:
            keep_choice(conn, pending.choice, at=int(time.time()))
        return None

    replanned = await node.store.write(write)
    if replanned is not None:
        pending.plan, changes = replanned
        ctx = _preview_ctx(pending, token, changes)
        ctx["notice"] = (
            "The listings changed since this preview was made, so nothing was published. Here is the new preview."
        )
        return render(request, "admin_preview.html", ctx, session=session, status=409)
    del state.pending[token]
    c = pending.plan.counts()
    raise redirect(f"/admin/listings?published={c['add']}.{c['change']}.{c['delete']}")
