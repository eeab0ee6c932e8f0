"""The console's local-only tables, created at app startup (issue 7).

Nothing here is ever published or served to peers: console sessions, the
public's problem reports, the outcome of each published-sheet fetch, and the
coordinator's choice to keep a long-unchecked listing visible in search.

The "keep visible" choice lives in the ``meta`` table (one key per listing,
``keep-visible:<publisher>/<id>``) rather than in a table of its own, because
search (``node.directory.search``) must honour it on every database, including ones
opened without the console ever having run its migration.
"""

from __future__ import annotations

import sqlite3
from typing import Final

__all__ = ["migrate", "KEEP_VISIBLE_PREFIX", "keep_visible_key", "set_keep_visible", "kept_visible", "ADMIN_SCHEMA"]

KEEP_VISIBLE_PREFIX: Final = "keep-visible:"

ADMIN_SCHEMA: Final = """
-- Console sessions: only a SHA-256 of the cookie value is stored.
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    authed INTEGER NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires);

-- "Something wrong with this listing?" reports: shown in the console, sent nowhere.
CREATE TABLE IF NOT EXISTS reports (
    rowid INTEGER PRIMARY KEY,
    publisher TEXT NOT NULL,
    id TEXT NOT NULL,
    message TEXT NOT NULL,
    contact TEXT,
    received INTEGER NOT NULL,
    resolved INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS reports_listing ON reports (publisher, id);

-- Each fetch of the published sheet ([import] sheet_url) and what it did.
CREATE TABLE IF NOT EXISTS sheet_runs (
    rowid INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    added INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    problems TEXT NOT NULL DEFAULT '[]'
);
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Create the console's tables if missing (idempotent; run inside a write transaction)."""
    for statement in ADMIN_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def keep_visible_key(publisher: str, record_id: str) -> str:
    return f"{KEEP_VISIBLE_PREFIX}{publisher}/{record_id}"


def set_keep_visible(conn: sqlite3.Connection, publisher: str, record_id: str, keep: bool) -> None:
    """Record (or withdraw) the coordinator's choice to keep a listing in search past 12 months unchecked."""
    key = keep_visible_key(publisher, record_id)
    if keep:
        conn.execute("INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO NOTHING", (key,))
    else:
        conn.execute("DELETE FROM meta WHERE key = ?", (key,))


def kept_visible(conn: sqlite3.Connection, publisher: str) -> set[str]:
    """Ids of ``publisher``'s listings the coordinator chose to keep visible."""
    prefix = f"{KEEP_VISIBLE_PREFIX}{publisher}/"
    rows = conn.execute("SELECT key FROM meta WHERE key >= ? AND key < ?", (prefix, prefix + "\uffff"))
    return {key[len(prefix):] for (key,) in rows}
