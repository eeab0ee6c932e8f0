"""The listings search does not show as of a London day, so a search by words counts with two index counts.

A common word ("support") matches most of the directory, and checking each match's row
(closed? unchecked for a year and not kept visible? ended?) was most of its search.  The
``listing_unshown_fts`` table (``node.storage.schema.UNSHOWN_SCHEMA``, migration 10) holds the
words of exactly the listings not shown on the day in meta ``unshown_day`` (with the hidden
cutoff of that day in ``unshown_cutoff``), so the matches shown are the matches in
``listings_fts`` less the matches there (:func:`count_shown`).

Writes keep the set exact at once (triggers on listings, listing_ends and the keep-visible
meta keys).  The day moves with :func:`advance` (at the day's turn, on the serve job of
``node.web.jobs``), which marks every listing to be looked at again; :func:`fill` does that in
bounded batches, a transaction each, and until the last one a search counts the exact, slower
way, as it does whenever the stored day or cutoff is not its own.  So a total never depends on
whether the job has run, only how fast it comes.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Final

from node.directory.filters import hidden_cutoff
from node.directory.schedule import LONDON
from node.storage.schema import UNSHOWN_COLUMNS, UNSHOWN_SQL
from node.storage.store import get_meta, in_batches, set_meta, transaction

__all__ = ["FILL_BATCH", "as_of", "advance", "fill", "refresh", "count_shown", "count_all_shown"]

FILL_BATCH: Final = 20000  # listings a transaction looks at again, so the writer is never held long
_END: Final = 2**63 - 1


def as_of(now: dt.datetime) -> tuple[str, str]:
    """The London day (ISO) of ``now`` and the hidden cutoff of that day: what the set is kept for."""
    return now.astimezone(LONDON).date().isoformat(), hidden_cutoff(now)


def advance(conn: sqlite3.Connection, now: dt.datetime) -> bool:
    """Make the set be for ``now``'s day if it is for another; inside a transaction.

    Writes from here on keep the set for the new day; every listing already there is looked
    at again by :func:`fill` (meta ``unshown_from``: the rowid it has reached), and until it is
    done no search reads the set.
    """
    day, cutoff = as_of(now)
    if get_meta(conn, "unshown_day") == day and get_meta(conn, "unshown_cutoff") == cutoff:
        return False
    set_meta(conn, "unshown_day", day)
    set_meta(conn, "unshown_cutoff", cutoff)
    set_meta(conn, "unshown_from", 0)
    return True


def fill(conn: sqlite3.Connection, limit: int = FILL_BATCH) -> int:
    """Look again at up to ``limit`` listings since the last :func:`advance`; returns how many (0: done).

    Runs inside the caller's transaction.  Only the listings whose place changed are written:
    those now not shown are added, those now shown removed.
    """
    start = get_meta(conn, "unshown_from")
    if start is None:
        return 0
    first = int(start)
    row = conn.execute(
        "SELECT rowid FROM listings WHERE rowid >= ? ORDER BY rowid LIMIT 1 OFFSET ?", (first, limit)
    ).fetchone()
    end = _END if row is None else int(row[0])
    unshown = f"SELECT l.rowid FROM listings l WHERE l.rowid >= ? AND l.rowid < ? AND {UNSHOWN_SQL}"
    conn.execute(
        f"DELETE FROM listing_unshown_fts WHERE rowid >= ? AND rowid < ? AND rowid NOT IN ({unshown})",
        (first, end, first, end),
    )
    columns = ", ".join(f"l.{c}" for c in UNSHOWN_COLUMNS.split(", "))
    conn.execute(
        f"INSERT INTO listing_unshown_fts (rowid, {UNSHOWN_COLUMNS}) SELECT l.rowid, {columns} FROM listings l "
        f"WHERE l.rowid >= ? AND l.rowid < ? AND {UNSHOWN_SQL} "
        "AND l.rowid NOT IN (SELECT rowid FROM listing_unshown_fts WHERE rowid >= ? AND rowid < ?)",
        (first, end, first, end),
    )
    looked = int(
        conn.execute("SELECT count(*) FROM listings WHERE rowid >= ? AND rowid < ?", (first, end)).fetchone()[0]
    )
    if row is None:
        conn.execute("DELETE FROM meta WHERE key = 'unshown_from'")
        return max(looked, 1)  # the batch that finishes counts, even over no listings
    set_meta(conn, "unshown_from", end)
    return looked


def refresh(conn: sqlite3.Connection, now: dt.datetime) -> int:
    """:func:`advance`, then :func:`fill` until done, a batch a transaction; ``conn`` in autocommit mode."""
    with transaction(conn):
        advance(conn, now)
    return in_batches(conn, fill)


def count_shown(conn: sqlite3.Connection, match: str, now: dt.datetime) -> int | None:
    """How many listings search shows on ``now``'s day among those matching the FTS5 expression ``match``.

    ``None`` when the set is not ready for that day and cutoff (a day's turn not yet filled):
    the caller counts the exact way.  One statement, so the check and the counts read one snapshot.
    """
    day, cutoff = as_of(now)
    row = conn.execute(
        "SELECT CASE WHEN (SELECT value FROM meta WHERE key = 'unshown_day') = ? "
        "AND (SELECT value FROM meta WHERE key = 'unshown_cutoff') = ? "
        "AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'unshown_from') "
        "THEN (SELECT count(*) FROM listings_fts WHERE listings_fts MATCH ?) "
        "- (SELECT count(*) FROM listing_unshown_fts WHERE listing_unshown_fts MATCH ?) END",
        (day, cutoff, match, match),
    ).fetchone()
    return None if row[0] is None else int(row[0])


def count_all_shown(conn: sqlite3.Connection, now: dt.datetime) -> int | None:
    """How many listings search shows on ``now``'s day: every listing less those in the set.

    ``None`` when the set is not ready for that day and cutoff, as :func:`count_shown`.  The set's
    size is read from its FTS5 ``docsize`` table (a row per listing in it): an index count, where
    counting the FTS5 table itself reads every row's text.
    """
    day, cutoff = as_of(now)
    row = conn.execute(
        "SELECT CASE WHEN (SELECT value FROM meta WHERE key = 'unshown_day') = ? "
        "AND (SELECT value FROM meta WHERE key = 'unshown_cutoff') = ? "
        "AND NOT EXISTS (SELECT 1 FROM meta WHERE key = 'unshown_from') "
        "THEN (SELECT count(*) FROM listings) - (SELECT count(*) FROM listing_unshown_fts_docsize) END",
        (day, cutoff),
    ).fetchone()
    return None if row[0] is None else int(row[0])
