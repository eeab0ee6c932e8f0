"""Read queries behind the public views that show one listing or a set of them.

A listing page, the JSON API, a calendar, the Open Referral API, the node
document and the report form each need a small, fixed read; they live here so
that ``node/web`` holds no SQL (docs/architecture.md).  Search itself is
:mod:`node.directory.search`; the slices a feed or embed serves are
:mod:`node.directory.slices`.
"""

from __future__ import annotations

import sqlite3

import msgspec

from node.directory.slices import Slice, in_slice
from node.storage.store import get_meta
from protocol.records import Contact, Record

__all__ = [
    "listing_payload",
    "listing_and_via",
    "service_payload",
    "open_listing_name",
    "network_contact",
    "slice_records",
    "listing_keys",
    "listings_version",
    "followed_urls",
]

_RECORD = msgspec.json.Decoder(Record)
_CONTACT = msgspec.json.Decoder(Contact)


def listing_payload(conn: sqlite3.Connection, publisher: str, record_id: str) -> str | None:
    """The stored payload of one listing (closed ones included), or ``None``."""
    row = conn.execute("SELECT payload FROM listings WHERE publisher = ? AND id = ?", (publisher, record_id)).fetchone()
    return None if row is None else str(row[0])


def listing_and_via(conn: sqlite3.Connection, publisher: str, record_id: str) -> tuple[str, str | None] | None:
    """One listing's payload and the peer URL it arrived through (``None`` for this node's own)."""
    row = conn.execute(
        "SELECT l.payload, v.via FROM listings l LEFT JOIN versions v ON v.publisher = l.publisher AND v.id = l.id "
        "WHERE l.publisher = ? AND l.id = ?",
        (publisher, record_id),
    ).fetchone()
    return None if row is None else (row[0], row[1])


def service_payload(conn: sqlite3.Connection, publisher: str, record_id: str) -> str | None:
    """A listing's payload when it is a service in Open Referral's sense (anything but an organisation)."""
    row = conn.execute(
        "SELECT payload FROM listings WHERE publisher = ? AND id = ? AND kind != 'organisation'", (publisher, record_id)
    ).fetchone()
    return None if row is None else str(row[0])


def open_listing_name(conn: sqlite3.Connection, publisher: str, record_id: str) -> str | None:
    """The name of a listing that has not closed, or ``None``: the report form is offered only for those."""
    row = conn.execute(
        "SELECT name FROM listings WHERE publisher = ? AND id = ? AND status != 'closed'", (publisher, record_id)
    ).fetchone()
    return None if row is None else str(row[0])


def network_contact(conn: sqlite3.Connection, publisher: str) -> tuple[Contact | None, str | None]:
    """The publishing network's own contact (from its organisation record) and website."""
    row = conn.execute(
        "SELECT json_extract(payload, '$.contact'), json_extract(payload, '$.website') FROM listings "
        "WHERE publisher = ? AND kind = 'organisation' AND status != 'closed' ORDER BY rev LIMIT 1",
        (publisher,),
    ).fetchone()
    if row is None:
        return None, None
    return (_CONTACT.decode(row[0]) if row[0] else None), row[1]


def slice_records(conn: sqlite3.Connection, sl: Slice, limit: int) -> list[Record]:
    """Live listings in the slice, by name (SQL narrows by kind and publisher; :func:`in_slice` decides)."""
    sql = "SELECT payload FROM listings WHERE status != 'closed'"
    args: list[object] = []
    if sl.filters.kind:
        sql += f" AND kind IN ({','.join('?' * len(sl.filters.kind))})"
        args += sl.filters.kind
    if sl.filters.publisher:
        sql += " AND publisher = ?"
        args.append(sl.filters.publisher)
    out: list[Record] = []
    for (payload,) in conn.execute(sql + " ORDER BY name COLLATE NOCASE, rowid", args):
        record = _RECORD.decode(payload)
        if in_slice(record, sl):
            out.append(record)
            if len(out) >= limit:
                break
    return out


def listing_keys(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Every (publisher, id) held, for indexes keyed by something derived from both."""
    return [(str(p), str(i)) for p, i in conn.execute("SELECT publisher, id FROM listings")]


def listings_version(conn: sqlite3.Connection) -> tuple[str, str]:
    """Which database file and which change number the listings are at: an index built from them is current while
    this stays the same."""
    return str(conn.execute("PRAGMA database_list").fetchone()[2]), get_meta(conn, "last_change") or "0"


def followed_urls(conn: sqlite3.Connection) -> list[str]:
    """The peers this node follows, by URL, as the node document lists them (spec §7)."""
    return [str(r[0]) for r in conn.execute("SELECT url FROM peers ORDER BY url")]
