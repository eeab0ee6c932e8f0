"""The console's local-only tables (their statements are in ``node.storage.schema``).

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

from node.storage.migrations import console_tables

__all__ = ["migrate", "KEEP_VISIBLE_PREFIX", "keep_visible_key", "set_keep_visible", "kept_visible"]

KEEP_VISIBLE_PREFIX: Final = "keep-visible:"


def migrate(conn: sqlite3.Connection) -> None:
    """Make sure the console's tables are there (idempotent; run inside a write transaction).

    They are schema migration 2 (``node.storage.migrations.console_tables``), applied when
    any connection first opens the database; the app's start runs that same step again on
    its own connection, where it only creates what is missing.
    """
    console_tables(conn)


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
