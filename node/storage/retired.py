"""This node's retired listings: which of its own have ended, and what it retired (local only).

The ``listing_ends`` table (kept by triggers, migration 4) says when each listing's
schedule ends; ``retired`` keeps what a retired listing said, so the console can show it
and bring it back as a new version.  A private group's meeting place is kept with it, as
it was kept before, and never leaves this node.  Every function runs inside the caller's
transaction.  The rules are ``node.publishing.retirement``'s.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from node.storage.own import PlaceRow

__all__ = ["Ended", "RetiredRow", "ended_own", "remember_retired", "retired_rows", "retired_row", "mark_restored"]


@dataclass(frozen=True)
class Ended:
    """One of this node's live listings whose schedule ended on ``last_day``."""

    id: str
    name: str
    kind: str
    last_day: str
    payload: str


@dataclass(frozen=True)
class RetiredRow:
    id: str
    name: str
    kind: str
    last_day: str
    retired_at: int
    payload: str
    place: PlaceRow | None
    restored_at: int | None


def ended_own(conn: sqlite3.Connection, publisher: str, before: str) -> list[Ended]:
    """This node's live listings whose last day is before ``before`` (ISO date), minus any the
    coordinator brought back with that same last day (they stay until their dates change)."""
    rows = conn.execute(
        "SELECT l.id, l.name, l.kind, e.last_day, l.payload FROM listing_ends e JOIN listings l ON l.rowid = e.rowid "
        "WHERE e.last_day < ? AND e.publisher = ? AND NOT EXISTS (SELECT 1 FROM retired r WHERE r.id = l.id "
        "AND r.restored_at IS NOT NULL AND r.last_day = e.last_day) ORDER BY e.last_day, l.id",
        (before, publisher),
    ).fetchall()
    return [Ended(str(a), str(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]


def remember_retired(conn: sqlite3.Connection, ended: Ended, place: PlaceRow | None, *, retired_at: int) -> None:
    conn.execute(
        "INSERT INTO retired (id, name, kind, last_day, retired_at, payload, place, restored_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
        "kind = excluded.kind, last_day = excluded.last_day, retired_at = excluded.retired_at, "
        "payload = excluded.payload, place = excluded.place, restored_at = NULL",
        (ended.id, ended.name, ended.kind, ended.last_day, retired_at, ended.payload, _place_json(place)),
    )


def _place_json(place: PlaceRow | None) -> str | None:
    return None if place is None else json.dumps(list(place))


def _row(r: tuple[object, ...]) -> RetiredRow:
    place = json.loads(str(r[6])) if r[6] is not None else None
    return RetiredRow(
        id=str(r[0]),
        name=str(r[1]),
        kind=str(r[2]),
        last_day=str(r[3]),
        retired_at=int(str(r[4])),
        payload=str(r[5]),
        place=(place[0], place[1], place[2]) if place is not None else None,
        restored_at=int(str(r[7])) if r[7] is not None else None,
    )


_COLUMNS = "id, name, kind, last_day, retired_at, payload, place, restored_at"


def retired_rows(conn: sqlite3.Connection) -> list[RetiredRow]:
    """Every listing this node retired, most recent first."""
    return [_row(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM retired ORDER BY retired_at DESC, id")]


def retired_row(conn: sqlite3.Connection, record_id: str) -> RetiredRow | None:
    r = conn.execute(f"SELECT {_COLUMNS} FROM retired WHERE id = ?", (record_id,)).fetchone()
    return None if r is None else _row(r)


def mark_restored(conn: sqlite3.Connection, record_id: str, *, at: int) -> None:
    conn.execute("UPDATE retired SET restored_at = ? WHERE id = ?", (at, record_id))
