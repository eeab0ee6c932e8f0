"""Applying verified versions to the database, under the protocol's merge rule.

Every function here runs inside the caller's write transaction, so a page of
records and the cursor that covers them commit together (spec §5, §6).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import msgspec

from node.storage.index import LISTING_UPSERT, listing_row, unindex
from node.storage.store import get_meta, request_scrub, set_meta
from protocol import envelope as dsse
from protocol.keylog import KeyLog, verify_keylog
from protocol.merge import Decision, Held, decide
from protocol.records import Record
from protocol.verify import Opened

__all__ = [
    "Landing",
    "landing",
    "apply_version",
    "apply_versions",
    "exposed",
    "withdrawn",
    "store_keylog",
    "load_keylog",
    "KeylogFork",
    "keylog_forks",
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


def last_change(conn: sqlite3.Connection) -> int:
    return int(get_meta(conn, "last_change") or 0)


class Landing(NamedTuple):
    """What merging a verified version needs, derived from it once (by :func:`landing`).

    A pull derives it in the verifier worker that decoded the payload
    (node.federation.verifier), so the pulling process never decodes a
    payload a second time; a plain tuple, so it crosses processes cheaply.
    """

    publisher: str
    id: str
    kind: str
    rev: int
    digest: bytes
    keyid: str
    row: tuple[object, ...] | None  # the listings row (node.storage.index.listing_row); None for a tombstone
    payload: str | None  # the record's payload JSON; None for a tombstone
    exposed: frozenset[tuple[str, str]]  # what it makes public about where and whom (:func:`exposed`)


def landing(opened: Opened) -> Landing:
    """The :class:`Landing` of a verified version."""
    v = opened.version
    if isinstance(v, Record):
        payload = opened.body.decode("utf-8")
        shown = frozenset(exposed(msgspec.to_builtins({"location": v.location, "contact": v.contact})))
        return Landing(
            v.publisher, v.id, v.kind, v.rev, opened.digest, opened.keyid, listing_row(v, payload), payload, shown
        )
    return Landing(v.publisher, v.id, v.kind, v.rev, opened.digest, opened.keyid, None, None, frozenset())


def apply_version(
    conn: sqlite3.Connection, opened: Opened, envelope: bytes, *, via: str | None, now_us: int
) -> Decision:
    """Merge one verified version; store it, move it to the feed's end and (re)index it if it wins."""
    return apply_versions(conn, [(opened, envelope)], via=via, now_us=now_us)[0]


def apply_versions(
    conn: sqlite3.Connection, batch: Sequence[tuple[Opened | Landing, bytes]], *, via: str | None, now_us: int
) -> list[Decision]:
    """Merge a page of verified versions, in order, with a few statements for the whole page.

    Each version is decided against what is held (or against an earlier
    version of the same record in this batch); the winners get consecutive
    change numbers in batch order, so the feed shows them in the order they
    arrived.  A version comes as its :class:`Opened` or, already derived, its :class:`Landing`.
    """
    lands = [(x if isinstance(x, Landing) else landing(x), envelope) for x, envelope in batch]
    held: dict[tuple[str, str], tuple[int | None, Held]] = {}
    old_payloads: dict[tuple[str, str], str] = {}
    by_publisher: dict[str, list[str]] = {}
    for land, _ in lands:
        by_publisher.setdefault(land.publisher, []).append(land.id)
    for publisher, ids in by_publisher.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for change, rid, rev, digest, payload in conn.execute(
                f"""SELECT v.change, v.id, v.rev, v.digest, l.payload FROM versions v
                    LEFT JOIN listings l ON l.publisher = v.publisher AND l.id = v.id
                    WHERE v.publisher = ? AND v.id IN ({marks})""",
                (publisher, *chunk),
            ):
                held[(publisher, rid)] = (change, Held(rev, bytes(digest)))
                if payload is not None:
                    old_payloads[(publisher, rid)] = payload
    decisions: list[Decision] = []
    winners: dict[tuple[str, str], tuple[Landing, bytes]] = {}
    old_changes: list[int] = []
    equivocations = []
    scrub = False
    for land, envelope in lands:
        key = (land.publisher, land.id)
        change, current = held.get(key, (None, None))
        decision = decide(current, Held(land.rev, land.digest))
        decisions.append(decision)
        if decision.equivocation and current is not None:
            kept, other = (land.digest, current.digest) if decision.store else (current.digest, land.digest)
            equivocations.append((land.publisher, land.id, land.rev, kept, other, now_us))
        if not decision.store:
            continue
        if land.payload is None and (change is not None or key in winners):
            scrub = True  # a live record's text is being deleted
        elif land.payload is not None and key in old_payloads and _withdraws(old_payloads[key], land.exposed):
            scrub = True  # a public place or contact is being made private: as thorough as a deletion
        if change is not None:
            old_changes.append(change)
        winners.pop(key, None)
        winners[key] = (land, envelope)
        held[key] = (None, Held(land.rev, land.digest))
        if land.payload is not None:
            old_payloads[key] = land.payload
        else:
            old_payloads.pop(key, None)
    if equivocations:
        conn.executemany(
            "INSERT INTO equivocations (publisher, id, rev, kept, other, at) VALUES (?, ?, ?, ?, ?, ?)", equivocations
        )
    if not winners:
        return decisions
    last = int(
        conn.execute(
            "UPDATE meta SET value = max(CAST(value AS INTEGER) + ?, ?) WHERE key = 'last_change' RETURNING value",
            (len(winners), now_us + len(winners) - 1),
        ).fetchone()[0]
    )
    first = last - len(winners) + 1
    conn.executemany("DELETE FROM versions WHERE change = ?", [(c,) for c in old_changes])
    rows = []
    listings = []
    gone = []
    for change, (land, envelope) in enumerate(winners.values(), start=first):
        deleted = land.row is None
        rows.append(
            (
                change,
                land.publisher,
                land.id,
                land.kind,
                land.rev,
                land.digest,
                int(deleted),
                land.keyid,
                envelope,
                via,
                now_us,
            )
        )
        if land.row is not None:
            listings.append(land.row)
        else:
            gone.append((land.publisher, land.id))
    conn.executemany(
        """INSERT INTO versions (change, publisher, id, kind, rev, digest, deleted, keyid, envelope, via, received)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        rows,
    )
    if listings:
        conn.executemany(LISTING_UPSERT, listings)
    if gone:
        conn.executemany("DELETE FROM listings WHERE publisher = ? AND id = ?", gone)
    if scrub:
        request_scrub(conn)
    return decisions


_PAYLOAD = msgspec.json.Decoder(dict[str, Any])


def exposed(payload: dict[str, Any]) -> set[tuple[str, str]]:
    """What a listing payload makes public about where and whom: its public place's venue,
    address and postcode, and its contact's name, email and phone (spec §8)."""
    out: set[tuple[str, str]] = set()
    location = payload.get("location")
    if isinstance(location, dict) and location.get("type") == "public":
        for name in ("name", "address", "postcode"):
            if location.get(name):
                out.add((name, str(location[name])))
    contact = payload.get("contact")
    if isinstance(contact, dict):
        for name in ("name", "email", "phone"):
            if contact.get(name):
                out.add(("contact_" + name, str(contact[name])))
    return out


def withdrawn(old_payload: str, new: Record) -> bool:
    """Whether ``new`` stops publishing a place or contact detail ``old_payload`` published.

    Then the old version's text must be scrubbed from disk as for a deletion (spec §5.4):
    ``secure_delete`` zeroes the replaced row, and :func:`node.storage.store.scrub` merges
    the search index and truncates the WAL, which would otherwise keep the old text.
    """
    return _withdraws(old_payload, exposed(msgspec.to_builtins({"location": new.location, "contact": new.contact})))


def _withdraws(old_payload: str, new: set[tuple[str, str]] | frozenset[tuple[str, str]]) -> bool:
    """Whether ``old_payload`` published a place or contact detail missing from ``new`` (:func:`exposed`)."""
    old = exposed(_PAYLOAD.decode(old_payload))
    return bool(old) and not old <= new


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
        _record_forks(conn, log, now_us)
        if log.head == held_head:
            return False
    else:
        _record_forks(conn, log, now_us)
    conn.execute(
        """INSERT INTO keylogs (publisher, envelopes, head, updated) VALUES (?, ?, ?, ?)
           ON CONFLICT (publisher) DO UPDATE SET envelopes = excluded.envelopes, head = excluded.head, updated = excluded.updated""",
        (log.publisher, _ENCODE.encode(log.chain), log.head, now_us),
    )
    return True


# A key-log fork is kept beside record equivocations, under this id (no record id starts with "#").
KEYLOG_ID = "#keylog"


def _record_forks(conn: sqlite3.Connection, log: KeyLog, now_us: int) -> None:
    """Remember each fork the fork rule resolved (spec §4.3), once, so status can show it."""
    for fork in log.forks:
        for dropped in fork.dropped:
            conn.execute(
                """INSERT INTO equivocations (publisher, id, rev, kept, other, at)
                   SELECT ?, ?, 0, ?, ?, ? WHERE NOT EXISTS (
                     SELECT 1 FROM equivocations WHERE publisher = ? AND id = ? AND kept = ? AND other = ?)""",
                (log.publisher, KEYLOG_ID, fork.kept, dropped, now_us, log.publisher, KEYLOG_ID, fork.kept, dropped),
            )


@dataclass(frozen=True)
class KeylogFork:
    """A key-log fork this node saw: the entry the fork rule kept, the one it dropped, and when."""

    publisher: str
    kept: str
    dropped: str
    seen_us: int


def keylog_forks(conn: sqlite3.Connection) -> list[KeylogFork]:
    """Every key-log fork this node has seen, newest first."""
    rows = conn.execute(
        "SELECT publisher, kept, other, at FROM equivocations WHERE id = ? ORDER BY at DESC, rowid DESC", (KEYLOG_ID,)
    ).fetchall()
    return [KeylogFork(*row) for row in rows]


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
