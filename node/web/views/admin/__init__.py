"""The coordinator console under ``/admin``: server-rendered, no JavaScript needed.

One module per page group: :mod:`.signin` (login, logout, the ``signed_in``
guard and the ``/admin`` headers), :mod:`.listings` (the home page and the
coordinator's own listings), :mod:`.upload` (spreadsheet, preview, publish),
:mod:`.reports` (the public's problem reports), :mod:`.peers` (following
other nodes), :mod:`.sheet` (the published sheet) and :mod:`.places` (place names for the node's own
area); :mod:`.shared` holds
what they all use.  :func:`setup` registers every route in one place.

Nothing the console does publishes by surprise: an upload shows its plan
first and publishes only when "Publish these changes" is pressed; pause,
close and delete each ask for confirmation.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from typing import Final

from aiohttp import web

from node.core.context import NODE
from node.importer.sheet import sheet_ctx
from node.storage import console as console_store
from node.storage.login_attempts import visitor_secret
from node.storage.sessions import purge_sessions
from node.web.jobs import RUNS_JOBS
from node.web.limits import allow_larger
from node.web.views.admin import listings, peers, places, reports, retired, sheet, signin, upload
from node.web.views.admin.listings import ACTIONS
from node.web.views.admin.shared import ADMIN, ADMIN_HEADERS, AdminState, PendingUpload, signed_in_session
from node.web.views.admin.upload import MAX_UPLOAD_BYTES

# Multipart framing and the form's other fields around the file; a listing form (a listing's payload is at most
# 64 KiB, spec §3.4) with room for HTML-escaped text.
UPLOAD_OVERHEAD: Final = 64 * 1024
CONSOLE_FORM_BYTES: Final = 256 * 1024

__all__ = ["setup", "ADMIN", "AdminState", "PendingUpload", "ADMIN_HEADERS", "MAX_UPLOAD_BYTES", "ACTIONS"]


async def admin_ctx(app: web.Application) -> AsyncIterator[None]:
    """Create the console's tables, drop expired sessions and load the visitors' CSRF secret once the store is open.

    The secret is the node's (``meta``), so a login form served by one ``--workers`` process is accepted by any.
    """

    def prepare(conn: sqlite3.Connection) -> str:
        console_store.migrate(conn)
        purge_sessions(conn)
        return visitor_secret(conn)

    app[ADMIN].secret = bytes.fromhex(await app[NODE].store.write(prepare))
    yield


def setup(app: web.Application) -> None:
    """Register the console and the published-sheet schedule on ``app``.

    The order matters where paths overlap: ``/admin/listings/{id}/check`` and
    ``…/visibility`` come before ``…/{action}``, as they do within :mod:`.listings`.
    """
    app[ADMIN] = AdminState()
    # Larger bodies only for a signed-in session, decided from the cookie before anything is read
    # (node.web.limits): the upload streams to disk with its own cap; the forms hold a listing at most.
    allow_larger(app, "/admin/upload", MAX_UPLOAD_BYTES + UPLOAD_OVERHEAD, when=signed_in_session)
    allow_larger(app, "/admin/", CONSOLE_FORM_BYTES, when=signed_in_session, prefix=True)
    app.middlewares.append(signin.admin_middleware)
    app.cleanup_ctx.append(admin_ctx)
    if app[RUNS_JOBS]:  # one process imports the published sheet (node.web.workers)
        app.cleanup_ctx.append(sheet_ctx)
    for module in (signin, listings, upload, reports, peers, sheet, retired, places):
        app.add_routes(module.routes)
