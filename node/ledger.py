"""Applying verified versions to the database, under the protocol's merge rule.

Every function here runs inside the caller's write transaction, so a page of
records and the cursor that covers them commit together (spec §5, §6).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import msgspec

from protocol import envelope as dsse
from protocol.keylog import KeyLog, verify_keylog
from protocol.merge import Decision, Held, decide
from protocol.records import Record, Tombstone
from protocol.verify import Opened

from .index import index_record, unindex
from .store import get_meta, request_scrub, set_meta

__all__ = [
    "next_change",
    "apply_version",
    "store_keylog",
    "load_keylog",
    "keylog_envelopes",
    "FeedRow",
    "feed_rows",
    "last_change",
    "purge_revoked",
    "own_last_rev",
    "set_own_last_rev",
]

_ENVELOPES = msgspec.json.Decoder(list[dsse.Envelope])
_ENCODE = msgspec.json.Encoder()


def next_change(conn: sqlite3.Connection, now_us: int) -> int:
    """Assign the next change number inside the current write transaction.

    ``max(now, last + 1)``: strictly increasing, and at least the wall clock
    in microseconds, so a node restored from an older backup never re-issues
    a number its followers have already passed.
    """
    row = conn.execute(
        "UPDATE meta SET value = max(CAST(value AS INTEGER) + 1, ?) WHERE key = 'last_change' RETURNING value",
        (now_us,),
    ).fetchone()
    return int(row[0])


def last_change(conn: sqlite3.Connection) -> int:
    return int(get_meta(conn, "last_change") or 0)


def apply_version(conn: sqlite3.Connection, opened: Opened, envelope: bytes, *, via: str | None, now_us: int) -> Decision:
    """Merge one verified version; store it, move it to the feed's end and (re)index it if it wins."""
    v = opened.version
    row = conn.execute(
        "SELECT change, rev, digest FROM versions WHERE publisher = ? AND id = ?", (v.publisher, v.id)
    ).fetchone()
    held = None if row is None else Held(row[1], bytes(row[2]))
    decision = decide(held, Held(v.rev, opened.digest))
    if decision.equivocation and held is not None:
        kept, other = (opened.digest, held.digest) if decision.store else (held.digest, opened.digest)
        conn.execute(
            "INSERT INTO equivocations (publisher, id, rev, kept, other, at) VALUES (?, ?, ?, ?, ?, ?)",
            (v.publisher, v.id, v.rev, kept, other, now_us),
        )
    if not decision.store:
        return decision
    change = next_change(conn, now_us)
    deleted = isinstance(v, Tombstone)
    if row is not None:
        conn.execute("DELETE FROM versions WHERE change = ?", (row[0],))
    conn.execute(
        """INSERT INTO versions (change, publisher, id, kind, rev, digest, deleted, keyid, envelope, via, received)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (change, v.publisher, v.id, v.kind, v.rev, opened.digest, int(deleted), opened.keyid, envelope, via, now_us),
    )
    if isinstance(v, Record):
        index_record(conn, v, opened.body.decode("utf-8"))
    else:
        unindex(conn, v.publisher, v.id)
        if row is not None:
            request_scrub(conn)
    return decision


def purge_revoked(conn: sqlite3.Connection, publisher: str, revoked: frozenset[str]) -> int:
    """Drop every version signed by a revoked key and forget its ``rev`` (spec §5.5).

    The publisher's re-signed versions then land whatever ``rev`` a thief
    may have used.  Returns how many versions were dropped.
    """
    if not revoked:
        return 0
    marks = ",".join("?" * len(revoked))
    rows = conn.execute(
        f"SELECT change, id FROM versions WHERE publisher = ? AND keyid IN ({marks})", (publisher, *sorted(revoked))
    ).fetchall()
    for change, rid in rows:
        conn.execute("DELETE FROM versions WHERE change = ?", (change,))
        unindex(conn, publisher, rid)
    if rows:
        request_scrub(conn)
    return len(rows)


def keylog_envelopes(conn: sqlite3.Connection, publisher: str) -> bytes | None:
    row = conn.execute("SELECT envelopes FROM keylogs WHERE publisher = ?", (publisher,)).fetchone()
    return None if row is None else bytes(row[0])


def load_keylog(conn: sqlite3.Connection, publisher: str) -> KeyLog | None:
    data = keylog_envelopes(conn, publisher)
    if data is None:
        return None
    return verify_keylog(_ENVELOPES.decode(data), publisher=publisher)


def store_keylog(conn: sqlite3.Connection, log: KeyLog, *, now_us: int) -> bool:
    """Keep ``log`` if it is new or extends the one held; return whether it changed.

    A log that does not contain the held head is a different history (a fork
    the peer resolved otherwise, or an attack): merge both sets of entries
    and let the fork rule decide, so every node converges on the same log.
    """
    held = keylog_envelopes(conn, log.publisher)
    if held is not None:
        old = _ENVELOPES.decode(held)
        held_head = verify_keylog(old, publisher=log.publisher).head
        combined = {e.payload: e for e in (*old, *log.chain)}
        log = verify_keylog(list(combined.values()), publisher=log.publisher)
        if log.head == held_head:
            return False
    conn.execute(
        """INSERT INTO keylogs (publisher, envelopes, head, updated) VALUES (?, ?, ?, ?)
           ON CONFLICT (publisher) DO UPDATE SET envelopes = excluded.envelopes, head = excluded.head, updated = excluded.updated""",
        (log.publisher, _ENCODE.encode(log.chain), log.head, now_us),
    )
    return True


@dataclass(frozen=True)
class FeedRow:
    change: int
    publisher: str
    id: str
    kind: str
    deleted: bool
    envelope: bytes


def feed_rows(conn: sqlite3.Connection, after: int, limit: int) -> list[FeedRow]:
    """The next ``limit`` changes strictly after ``after`` (RPDE: ``>`` never ``>=``)."""
    return [
        FeedRow(r[0], r[1], r[2], r[3], bool(r[4]), bytes(r[5]))
        for r in conn.execute(
            "SELECT change, publisher, id, kind, deleted, envelope FROM versions WHERE change > ? ORDER BY change LIMIT ?",
            (after, limit),
        )
    ]


def own_last_rev(conn: sqlite3.Connection) -> int:
    return int(get_meta(conn, "last_rev") or 0)


def set_own_last_rev(conn: sqlite3.Connection, rev: int) -> None:
    set_meta(conn, "last_rev", rev)
