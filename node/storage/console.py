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
    return {key[len(prefix) :] for (key,) in rows}


# -- problem reports from the public, and the console's reads of its own listings ------------


def add_report(
    conn: sqlite3.Connection, publisher: str, record_id: str, message: str, contact: str | None, *, now: int
) -> int:
    """Store one "Something wrong with this listing?" report; return its row id."""
    cur = conn.execute(
        "INSERT INTO reports (publisher, id, message, contact, received) VALUES (?, ?, ?, ?, ?)",
        (publisher, record_id, message, contact, now),
    )
    return int(cur.lastrowid or 0)


def list_reports(
    conn: sqlite3.Connection,
    *,
    publisher: str | None = None,
    record_id: str | None = None,
    include_resolved: bool = False,
) -> list[dict[str, object]]:
    """Reports newest first, each with the listing's current name (if it is still live)."""
    import time

    sql = [
        "SELECT r.rowid, r.publisher, r.id, r.message, r.contact, r.received, r.resolved, l.name FROM reports r "
        "LEFT JOIN listings l ON l.publisher = r.publisher AND l.id = r.id WHERE 1=1"
    ]
    args: list[object] = []
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
        {
            "rowid": rowid,
            "publisher": pub,
            "id": rid,
            "message": message,
            "contact": contact,
            "received": time.strftime("%Y-%m-%d %H:%M", time.gmtime(received)),
            "resolved": bool(resolved),
            "name": name,
        }
        for rowid, pub, rid, message, contact, received, resolved, name in conn.execute(" ".join(sql), args)
    ]


def resolve_report(conn: sqlite3.Connection, rowid: int) -> None:
    conn.execute("UPDATE reports SET resolved = 1 WHERE rowid = ?", (rowid,))


def report_secret(conn: sqlite3.Connection) -> str:
    """The report form's HMAC secret (hex), made once per node and kept in ``meta`` (run in a write transaction)."""
    import secrets

    from node.storage.store import get_meta, set_meta

    secret = get_meta(conn, "report_secret")
    if secret is None:
        secret = secrets.token_hex(32)
        set_meta(conn, "report_secret", secret)
    return secret


OwnRow = tuple[str, str, str, str, str | None, int, int]
PrivatePlace = tuple[str | None, str | None, str | None]


def own_listing_rows(conn: sqlite3.Connection, publisher: str) -> list[OwnRow]:
    """The console's listing table: id, name, kind, status, reviewed, private, and open reports, for one publisher."""
    return conn.execute(
        "SELECT l.id, l.name, l.kind, l.status, l.reviewed, l.private, "
        "(SELECT count(*) FROM reports r WHERE r.publisher = l.publisher AND r.id = l.id AND r.resolved = 0) "
        "FROM listings l WHERE l.publisher = ?",
        (publisher,),
    ).fetchall()


def listing_for_edit(
    conn: sqlite3.Connection, publisher: str, record_id: str
) -> tuple[bytes | str, PrivatePlace | None] | None:
    """A listing's signed payload and, for a private group, the place kept off the feed; ``None`` if there is none."""
    row = conn.execute("SELECT payload FROM listings WHERE publisher = ? AND id = ?", (publisher, record_id)).fetchone()
    if row is None:
        return None
    place = conn.execute("SELECT venue, address, postcode FROM private_places WHERE id = ?", (record_id,)).fetchone()
    return row[0], (tuple(place) if place is not None else None)


__all__ += [
    "add_report",
    "list_reports",
    "resolve_report",
    "report_secret",
    "own_listing_rows",
    "listing_for_edit",
    "OwnRow",
    "PrivatePlace",
]
