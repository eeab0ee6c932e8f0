"""The sessions of the next few days, precomputed so "today" and "this weekend" are index lookups.

Expanding every matching listing's schedule per query is what made "this
weekend" the slowest search (docs/benchmarks.md, "HTTP search").  Instead the
``listing_occurrences`` table (``node.storage.migrations``, migration 6) holds,
for every listing, its occurrences over a horizon of a few days around today
(:data:`BEHIND` days back to :data:`AHEAD` days on), exactly as
:func:`node.directory.schedule.occurrences` gives them over that span.  A
search whose ``when`` window lies inside the horizon reads them with one
indexed query; one that does not (``weekday-evenings`` looks four weeks
ahead) expands schedules as before.

A listing written since the last fill is in ``listing_occurrences_pending``
(the triggers put it there) and is checked the exact, slow way until
:func:`fill_pending` runs: after each page a sync merges, and on the
refresh job of ``signpost serve`` (:func:`refresh`, which also moves the
horizon when the London day changes).  So results never depend on whether
the fill has run yet, only how fast they come.

Each session row also carries its listing's kind, status, reviewed date,
weekday mask and last day (``listing_ends``; migration 9), so a search can count the listings showing a
session from the index on ``start`` alone; a listing whose copied fields
change is pending again, like one whose schedule changes.

``occurrences_longest`` (meta) is the longest occurrence stored since the
horizon last moved, so a query can bound the index range it scans from below
and stay exact.
"""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from typing import Final

import msgspec

from node.directory.filters import day_span, when_days, when_window
from node.directory.schedule import LONDON, effective_end, occurrences
from node.storage.store import get_meta, set_meta, transaction
from protocol.records import Schedule

__all__ = [
    "AHEAD",
    "BEHIND",
    "Horizon",
    "PENDING_BATCH",
    "STORED_WHENS",
    "advance",
    "covers",
    "fill_pending",
    "horizon",
    "refresh",
    "stored_window",
]

BEHIND: Final = 2  # days before today (a query made just after midnight, before the refresh)
AHEAD: Final = 8  # days after today: "this weekend" seen from a Monday ends 7 days on
PENDING_BATCH: Final = 5000  # listings a transaction fills, so the writer is never held long
_SCHEDULE = msgspec.json.Decoder(Schedule)
# "when" values whose window lies within a few days of now (weekday-evenings looks four weeks ahead).
STORED_WHENS: Final = frozenset({"today", "tomorrow", "this-weekend", "open-now"})


class Horizon(msgspec.Struct, frozen=True):
    first: dt.date  # inclusive
    last: dt.date  # inclusive
    longest: int  # seconds: no stored occurrence lasts longer


def horizon(conn: sqlite3.Connection) -> Horizon | None:
    """The days the table covers, or ``None`` before the first refresh."""
    first, last = get_meta(conn, "occurrences_from"), get_meta(conn, "occurrences_until")
    if first is None or last is None:
        return None
    return Horizon(
        dt.date.fromisoformat(first), dt.date.fromisoformat(last), int(get_meta(conn, "occurrences_longest") or 0)
    )


def covers(h: Horizon | None, first: dt.date, last: dt.date) -> bool:
    return h is not None and h.first <= first and last <= h.last


def stored_window(
    conn: sqlite3.Connection, when: str, now: dt.datetime
) -> tuple[float, float, float, float, float] | None:
    """What a search reads ``when`` from the table with, in Unix seconds, or ``None`` if it cannot.

    ``(a, b)`` is the span :func:`node.directory.filters.when_days` gives (whole days,
    from the day before), ``(ws, we)`` the window itself, and ``low`` a lower bound on
    the start of any session overlapping the window (its start less the longest session).
    """
    if when not in STORED_WHENS:
        return None
    first, last = when_days(when, now)
    stored = horizon(conn)
    if stored is None or not covers(stored, first, last):
        return None
    a, b = day_span(first, last)
    ws, we = when_window(when, now)
    return a.timestamp(), b.timestamp(), ws.timestamp(), we.timestamp(), ws.timestamp() - stored.longest


@functools.lru_cache(maxsize=16384)
def _expand(schedule_json: str, first: dt.date, last: dt.date) -> tuple[tuple[int, int], ...]:
    """(start, effective end) in Unix seconds of each occurrence over the whole days ``first..last``."""
    found = occurrences(_SCHEDULE.decode(schedule_json), *day_span(first, last))
    return tuple((int(o.start.timestamp()), int(effective_end(o).timestamp())) for o in found)


def fill_pending(conn: sqlite3.Connection, limit: int = PENDING_BATCH) -> int:
    """Compute the occurrences of up to ``limit`` pending listings; returns how many were filled.

    Runs inside the caller's transaction (or opens none: call it within one).
    """
    h = horizon(conn)
    if h is None:
        return 0
    rows = conn.execute(
        "SELECT p.listing, l.schedule, l.kind, l.status, l.reviewed, l.days, l.loose, e.last_day "
        "FROM listing_occurrences_pending p JOIN listings l ON l.rowid = p.listing "
        "LEFT JOIN listing_ends e ON e.rowid = l.rowid LIMIT ?",
        (limit,),
    ).fetchall()
    if not rows:
        # Pending entries without a listing row cannot stay (the delete trigger removes them; be sure).
        conn.execute("DELETE FROM listing_occurrences_pending WHERE listing NOT IN (SELECT rowid FROM listings)")
        return 0
    out: list[tuple[int, int, int, str, str, str | None, int, int, str | None]] = []
    longest = h.longest
    for rowid, schedule, *copied in rows:
        if schedule is None:
            continue
        for start, end in _expand(schedule, h.first, h.last):
            out.append((rowid, start, end, *copied))
            longest = max(longest, end - start)
    ids = msgspec.json.encode([r[0] for r in rows]).decode()
    conn.execute("DELETE FROM listing_occurrences WHERE listing IN (SELECT value FROM json_each(?))", (ids,))
    conn.executemany(
        "INSERT INTO listing_occurrences (listing, start, end, kind, status, reviewed, days, loose, last_day) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        out,
    )
    conn.execute("DELETE FROM listing_occurrences_pending WHERE listing IN (SELECT value FROM json_each(?))", (ids,))
    if longest != h.longest:
        set_meta(conn, "occurrences_longest", longest)
    return len(rows)


def advance(conn: sqlite3.Connection, now: dt.datetime) -> bool:
    """Move the horizon to the days around ``now`` (London) if it is elsewhere; inside a transaction.

    Every stored session is for the old days, so every listing becomes pending in the
    same transaction: a search never reads sessions for days the meta does not claim.
    """
    today = now.astimezone(LONDON).date()
    first, last = today - dt.timedelta(days=BEHIND), today + dt.timedelta(days=AHEAD)
    h = horizon(conn)
    if h is not None and h.first == first and h.last == last:
        return False
    conn.execute("DELETE FROM listing_occurrences")
    conn.execute("INSERT OR IGNORE INTO listing_occurrences_pending (listing) SELECT rowid FROM listings")
    set_meta(conn, "occurrences_from", first.isoformat())
    set_meta(conn, "occurrences_until", last.isoformat())
    set_meta(conn, "occurrences_longest", 0)
    return True


def refresh(conn: sqlite3.Connection, now: dt.datetime) -> int:
    """:func:`advance`, then fill every pending listing in batches; ``conn`` in autocommit mode.

    Returns how many listings were filled.  ``signpost serve`` does the same on its
    writer thread, a batch a transaction (node.web.jobs).
    """
    with transaction(conn):
        advance(conn, now)
    filled = 0
    while True:
        with transaction(conn):
            n = fill_pending(conn)
        filled += n
        if n == 0:
            return filled
