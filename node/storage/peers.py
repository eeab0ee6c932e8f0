"""The peers a node follows, what they sent, and what was held back (spec §5–§6).

Every function takes the caller's connection and runs inside the caller's
transaction (``Store.write`` gives each call one), so a feed page's records,
its rejections, its quarantine and the cursor after it commit together or
not at all (docs/architecture.md, "a peer's bytes").  The policy (when to
retry, what to verify) lives in ``node.federation``; this module only reads
and writes the tables.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import NamedTuple

from node.storage.ledger import Landing, apply_version, apply_versions
from protocol.verify import Opened

__all__ = [
    "PEER_LOG_KEEP",
    "Rejection",
    "Quarantined",
    "HeldVersion",
    "VerifiedPage",
    "PeerCursor",
    "PeerRow",
    "Holdings",
    "add_peer",
    "remove_peer",
    "load_cursor",
    "save_cursor",
    "commit_page",
    "peer_failures",
    "mark_failure",
    "mark_success",
    "peer_urls",
    "peer_is_due",
    "due_quarantine",
    "land_quarantined",
    "peer_rows",
    "records_via",
    "recent_rejections",
    "holdings",
    "stale_listings",
]

PEER_LOG_KEEP = 1000  # rejections kept per peer for the status page


class Rejection(NamedTuple):
    """An item a peer sent that was refused: its id, the spec's reason code, and the detail."""

    item: str
    reason: str
    detail: str


class Quarantined(NamedTuple):
    """A verified version dated too far ahead (spec §6.3): held and retried, never dropped."""

    publisher: str
    id: str
    rev: int
    envelope: bytes
    reason: str


@dataclass
class VerifiedPage:
    """One feed page after verification: the versions to merge (with their envelopes as
    received, as verified or already derived for the merge), the refusals, and the versions held until
    their date arrives."""

    opened: list[tuple[Opened | Landing, bytes]] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)


@dataclass
class PeerCursor:
    """Where the last pull of a peer stopped: the next page to ask for, under which epoch."""

    url: str
    publisher: str
    next_url: str | None
    epoch: str | None
    etag: str | None


@dataclass(frozen=True)
class PeerRow:
    """A followed peer's health, as ``signpost status`` and ``/status`` show it."""

    url: str
    publisher: str
    name: str | None
    last_success: int | None
    last_error: str | None
    failures: int
    merged: int
    rejected: int
    retry_at: int


@dataclass(frozen=True)
class Holdings:
    """What the directory holds: own listings, all listings, deletions kept, publishers, quarantine."""

    own_listings: int
    listings: int
    tombstones: int
    publishers: int
    quarantined: int


# -- following ------------------------------------------------------------------


def add_peer(conn: sqlite3.Connection, url: str, publisher: str, name: str, *, now_us: int) -> None:
    """Follow ``url`` (or re-pin it to ``publisher`` if it was already followed)."""
    conn.execute(
        """INSERT INTO peers (url, publisher, name, added) VALUES (?, ?, ?, ?)
           ON CONFLICT (url) DO UPDATE SET publisher = excluded.publisher, name = excluded.name""",
        (url, publisher, name, now_us),
    )


def remove_peer(conn: sqlite3.Connection, url: str) -> bool:
    """Stop following ``url``; False if it was not followed."""
    return conn.execute("DELETE FROM peers WHERE url = ?", (url,)).rowcount > 0


def peer_urls(conn: sqlite3.Connection, *, due_before: int | None = None) -> list[str]:
    """Every followed peer, or only those whose back-off ends by ``due_before``."""
    if due_before is None:
        return [r[0] for r in conn.execute("SELECT url FROM peers ORDER BY url")]
    return [r[0] for r in conn.execute("SELECT url FROM peers WHERE retry_at <= ? ORDER BY url", (due_before,))]


def peer_is_due(conn: sqlite3.Connection, url: str, *, now_us: int) -> bool:
    """Is ``url`` still followed and past its back-off?"""
    row = conn.execute("SELECT retry_at FROM peers WHERE url = ?", (url,)).fetchone()
    return row is not None and bool(row[0] <= now_us)


# -- the cursor and a page's commit ----------------------------------------------


def load_cursor(conn: sqlite3.Connection, url: str) -> PeerCursor | None:
    row = conn.execute("SELECT url, publisher, next_url, epoch, etag FROM peers WHERE url = ?", (url,)).fetchone()
    return None if row is None else PeerCursor(*row)


def save_cursor(conn: sqlite3.Connection, url: str, next_url: str | None, etag: str | None, epoch: str | None) -> None:
    conn.execute("UPDATE peers SET next_url = ?, etag = ?, epoch = ? WHERE url = ?", (next_url, etag, epoch, url))


def commit_page(
    conn: sqlite3.Connection,
    url: str,
    page: VerifiedPage,
    next_url: str,
    epoch: str | None,
    etag: str | None,
    now_us: int,
    *,
    finished: bool = False,
) -> tuple[int, int]:
    """One transaction: the page's winners, its rejections, its quarantine, and the cursor.

    ``finished`` (the feed's last page) also records the pull's success, saving
    a transaction per peer per poll.  Returns (merged, unchanged).
    """
    decisions = apply_versions(conn, page.opened, via=url, now_us=now_us)
    merged = sum(1 for d in decisions if d.store)
    unchanged = len(decisions) - merged
    conn.executemany(
        "INSERT INTO peer_log (peer, at, item, reason, detail) VALUES (?, ?, ?, ?, ?)",
        [(url, now_us, item, reason, detail) for item, reason, detail in page.rejected],
    )
    if page.rejected:
        conn.execute(
            "DELETE FROM peer_log WHERE peer = ? AND rowid <= "
            "(SELECT rowid FROM peer_log WHERE peer = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
            (url, url, PEER_LOG_KEEP),
        )
    conn.executemany(
        "INSERT OR IGNORE INTO quarantine (publisher, id, rev, envelope, peer, reason, first_seen)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(q.publisher, q.id, q.rev, q.envelope, url, q.reason, now_us) for q in page.quarantined],
    )
    conn.execute(
        "UPDATE peers SET next_url = ?, epoch = ?, etag = COALESCE(?, etag), merged = merged + ?,"
        " rejected = rejected + ? WHERE url = ?",
        (next_url, epoch, etag, merged, len(page.rejected), url),
    )
    if finished:
        mark_success(conn, url, now_us=now_us)
    return merged, unchanged


# -- success, failure, back-off ------------------------------------------------------


def peer_failures(conn: sqlite3.Connection, url: str) -> int:
    """How many pulls of ``url`` have failed in a row."""
    row = conn.execute("SELECT failures FROM peers WHERE url = ?", (url,)).fetchone()
    return int(row[0]) if row else 0


def mark_failure(conn: sqlite3.Connection, url: str, *, failures: int, error: str, now_us: int, retry_at: int) -> None:
    conn.execute(
        "UPDATE peers SET failures = ?, last_error = ?, last_attempt = ?, retry_at = ? WHERE url = ?",
        (failures, error[:1000], now_us, retry_at, url),
    )


def mark_success(conn: sqlite3.Connection, url: str, *, now_us: int) -> None:
    conn.execute(
        "UPDATE peers SET failures = 0, last_error = NULL, last_attempt = ?, last_success = ?, retry_at = 0"
        " WHERE url = ?",
        (now_us, now_us, url),
    )


# -- quarantine ---------------------------------------------------------------------


class HeldVersion(NamedTuple):
    publisher: str
    id: str
    rev: int
    envelope: bytes
    peer: str | None


def due_quarantine(conn: sqlite3.Connection, *, until_rev: int) -> list[HeldVersion]:
    """Quarantined versions dated no later than ``until_rev``: their time has come."""
    rows = conn.execute("SELECT publisher, id, rev, envelope, peer FROM quarantine WHERE rev <= ?", (until_rev,))
    return [HeldVersion(p, rid, rev, bytes(env), peer) for p, rid, rev, env, peer in rows]


def land_quarantined(conn: sqlite3.Connection, held: HeldVersion, opened: Opened | None, *, now_us: int) -> None:
    """Merge a held version that now verifies (``opened``), or drop one that never will (None)."""
    if opened is not None:
        apply_version(conn, opened, held.envelope, via=held.peer, now_us=now_us)
    conn.execute(
        "DELETE FROM quarantine WHERE publisher = ? AND id = ? AND rev = ?", (held.publisher, held.id, held.rev)
    )


# -- health -------------------------------------------------------------------------


def peer_rows(conn: sqlite3.Connection) -> list[PeerRow]:
    return [
        PeerRow(*row)
        for row in conn.execute(
            "SELECT url, publisher, name, last_success, last_error, failures, merged, rejected, retry_at"
            " FROM peers ORDER BY url"
        )
    ]


def records_via(conn: sqlite3.Connection, url: str) -> int:
    """Live records this node holds because ``url`` sent them."""
    return int(conn.execute("SELECT count(*) FROM versions WHERE via = ? AND deleted = 0", (url,)).fetchone()[0])


def recent_rejections(conn: sqlite3.Connection, url: str, *, limit: int = 5) -> list[tuple[Rejection, int]]:
    """The newest refusals from ``url``, each with when it happened (µs)."""
    return [
        (Rejection(item, reason, detail), at)
        for item, reason, detail, at in conn.execute(
            "SELECT item, reason, detail, at FROM peer_log WHERE peer = ? ORDER BY rowid DESC LIMIT ?", (url, limit)
        )
    ]


def holdings(conn: sqlite3.Connection, publisher: str | None) -> Holdings:
    def count(sql: str, *args: object) -> int:
        return int(conn.execute(sql, args).fetchone()[0])

    return Holdings(
        own_listings=count("SELECT count(*) FROM listings WHERE publisher = ?", publisher),
        listings=count("SELECT count(*) FROM listings"),
        tombstones=count("SELECT count(*) FROM versions WHERE deleted = 1"),
        publishers=count("SELECT count(DISTINCT publisher) FROM versions"),
        quarantined=count("SELECT count(*) FROM quarantine"),
    )


def stale_listings(
    conn: sqlite3.Connection, publisher: str | None, *, reviewed_before: str
) -> list[tuple[str, str, str | None]]:
    """This node's own listings not reviewed since ``reviewed_before`` (ISO date): (id, name, reviewed)."""
    return [
        (rid, name, reviewed)
        for rid, name, reviewed in conn.execute(
            "SELECT id, name, reviewed FROM listings WHERE publisher = ? AND (reviewed IS NULL OR reviewed < ?)"
            " ORDER BY reviewed NULLS FIRST, name",
            (publisher, reviewed_before),
        )
    ]
