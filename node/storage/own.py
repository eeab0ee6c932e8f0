"""What publishing reads and writes about this node's own records, beyond the ledger.

Where a private group really meets (``private_places``: never served, never in a payload,
spec §8), the state of one of this node's versions before it is deleted, and the
versions and payloads it re-signs or compares.  Every function runs inside the caller's
transaction; none opens one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from protocol.records import Kind

__all__ = [
    "PlaceRow",
    "OwnVersion",
    "set_private_place",
    "private_place",
    "forget_private_place",
    "version_state",
    "own_versions",
    "own_payloads",
    "deleted_on",
    "own_ids",
]

# A private_places row: (venue, address, postcode), any of which may be missing.
PlaceRow = tuple[str | None, str | None, str | None]


@dataclass(frozen=True)
class OwnVersion:
    """One of this node's records as the ledger holds it: the winning version's envelope."""

    id: str
    kind: Kind
    deleted: bool
    envelope: bytes


def set_private_place(conn: sqlite3.Connection, record_id: str, place: PlaceRow) -> None:
    venue, address, postcode = place
    conn.execute(
        """INSERT INTO private_places (id, venue, address, postcode) VALUES (?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET venue = excluded.venue, address = excluded.address,
               postcode = excluded.postcode""",
        (record_id, venue, address, postcode),
    )


def forget_private_place(conn: sqlite3.Connection, record_id: str) -> None:
    conn.execute("DELETE FROM private_places WHERE id = ?", (record_id,))


def private_place(conn: sqlite3.Connection, record_id: str) -> PlaceRow | None:
    row = conn.execute("SELECT venue, address, postcode FROM private_places WHERE id = ?", (record_id,)).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def version_state(conn: sqlite3.Connection, publisher: str, record_id: str) -> tuple[Kind, bool] | None:
    """The kind of the record the ledger holds and whether it is a tombstone; None if it holds none."""
    row = conn.execute(
        "SELECT kind, deleted FROM versions WHERE publisher = ? AND id = ?", (publisher, record_id)
    ).fetchone()
    # The kind column holds what a verified version said, so it is one of the kinds.
    return None if row is None else (cast(Kind, row[0]), bool(row[1]))


def own_versions(conn: sqlite3.Connection, publisher: str) -> list[OwnVersion]:
    """Every record and tombstone ``publisher`` has in the ledger, in feed order."""
    return [
        OwnVersion(rid, cast(Kind, kind), bool(deleted), bytes(env))
        for rid, kind, deleted, env in conn.execute(
            "SELECT id, kind, deleted, envelope FROM versions WHERE publisher = ? ORDER BY change", (publisher,)
        )
    ]


def deleted_on(conn: sqlite3.Connection, publisher: str) -> dict[str, int]:
    """When (µs, as this node stored it) each of ``publisher``'s deletions was made, by id."""
    return {
        rid: int(at)
        for rid, at in conn.execute(
            "SELECT id, received FROM versions WHERE publisher = ? AND deleted = 1", (publisher,)
        )
    }


def own_ids(conn: sqlite3.Connection, publisher: str) -> list[tuple[str, str, bool]]:
    """(id, name, deleted) of every record ``publisher`` has, live ones by name then deleted ones."""
    live = conn.execute(
        "SELECT id, coalesce(json_extract(payload, '$.name'), '') FROM listings WHERE publisher = ? ORDER BY 2, 1",
        (publisher,),
    ).fetchall()
    gone = conn.execute(
        "SELECT id FROM versions WHERE publisher = ? AND deleted = 1 ORDER BY id", (publisher,)
    ).fetchall()
    return [(rid, str(name), False) for rid, name in live] + [(rid, "", True) for (rid,) in gone]


def own_payloads(conn: sqlite3.Connection, publisher: str) -> Iterator[tuple[str, str]]:
    """(id, payload JSON) of each of ``publisher``'s live listings."""
    for rid, payload in conn.execute("SELECT id, payload FROM listings WHERE publisher = ?", (publisher,)):
        yield str(rid), str(payload)
