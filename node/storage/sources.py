"""The venues choice remembered per import source (the ``import_sources`` table, migration 3).

A sheet with a venue or postcode column but no column saying which places are private
is read fail-closed (area only) unless the coordinator chooses otherwise
(``signpost import --venues``, the console preview's choice, ``[import] venues`` for the
published sheet).  The choice is kept here under the source's name (the file's name, or
the sheet's URL) so the next import of the same source makes the same choice and says so.
Every function runs inside the caller's transaction, or as one statement.
"""

from __future__ import annotations

import sqlite3
from typing import Literal, cast

__all__ = ["Venues", "remembered_venues", "remember_venues", "forget_venues"]

Venues = Literal["public", "private"]


def remembered_venues(conn: sqlite3.Connection, source: str) -> Venues | None:
    """The choice last made for ``source``, or None if none was."""
    row = conn.execute("SELECT venues FROM import_sources WHERE source = ?", (source,)).fetchone()
    # The CHECK constraint keeps the column to the two words.
    return None if row is None else cast(Venues, row[0])


def remember_venues(conn: sqlite3.Connection, source: str, venues: Venues, *, at: int) -> None:
    """Keep ``venues`` as ``source``'s choice (``at``: Unix seconds)."""
    if venues not in ("public", "private"):
        raise ValueError(f"venues must be 'public' or 'private', not {venues!r}")
    conn.execute(
        """INSERT INTO import_sources (source, venues, chosen) VALUES (?, ?, ?)
           ON CONFLICT (source) DO UPDATE SET venues = excluded.venues, chosen = excluded.chosen""",
        (source, venues, at),
    )


def forget_venues(conn: sqlite3.Connection, source: str) -> None:
    conn.execute("DELETE FROM import_sources WHERE source = ?", (source,))
