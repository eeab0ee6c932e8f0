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

At the London day's turn the horizon rolls rather than starting again: the old
days (filled through today + :data:`AHEAD`) still cover every day the new
day's searches read, so the meta goes on claiming them while :func:`extend`
adds the new far day to every listing, a bounded batch a transaction (a cursor
over listings in meta); the batch that reaches the last listing claims the new
days, and :func:`drop_past` then deletes the days behind in batches.  A listing
written meanwhile is filled over both horizons, so it is complete whichever the
meta claims.  Only when the old days no longer cover today's searches (a node
down for days, a first start) does :func:`advance` delete every session and make
every listing pending, as before.

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
from node.storage.store import get_meta, in_batches, set_meta, transaction
from protocol.records import Schedule

__all__ = [
    "AHEAD",
    "BEHIND",
    "DROP_BATCH",
    "EXTEND_BATCH",
    "Horizon",
    "PENDING_BATCH",
    "STORED_WHENS",
    "advance",
    "covers",
    "drop_past",
    "extend",
    "fill_pending",
    "horizon",
    "refresh",
    "stored_window",
]

BEHIND: Final = 2  # days before today (a query made just after midnight, before the refresh)
AHEAD: Final = 8  # days after today: "this weekend" seen from a Monday ends 7 days on
PENDING_BATCH: Final = 5000  # listings a transaction fills, so the writer is never held long
EXTEND_BATCH: Final = 5000  # listings a transaction adds a rolling horizon's new days to
DROP_BATCH: Final = 20000  # sessions a transaction deletes from the days behind the horizon
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


class _Next(msgspec.Struct, frozen=True):
    """The horizon being rolled to: its days, the last listing rowid extended, and the longest
    session seen overlapping it so far."""

    first: dt.date
    last: dt.date
    cursor: int
    longest: int


_NEXT_KEYS: Final = (
    "occurrences_next_from",
    "occurrences_next_until",
    "occurrences_next_cursor",
    "occurrences_next_longest",
)


def _next(conn: sqlite3.Connection) -> _Next | None:
    first, last = get_meta(conn, "occurrences_next_from"), get_meta(conn, "occurrences_next_until")
    if first is None or last is None:
        return None
    return _Next(
        dt.date.fromisoformat(first),
        dt.date.fromisoformat(last),
        int(get_meta(conn, "occurrences_next_cursor") or 0),
        int(get_meta(conn, "occurrences_next_longest") or 0),
    )


def _forget_next(conn: sqlite3.Connection) -> None:
    conn.execute(f"DELETE FROM meta WHERE key IN ({','.join('?' * len(_NEXT_KEYS))})", _NEXT_KEYS)


def _midnight(day: dt.date) -> int:
    """The start of a London day, in Unix seconds."""
    return int(day_span(day, day)[0].timestamp())


def _days_around(now: dt.datetime) -> tuple[dt.date, dt.date]:
    today = now.astimezone(LONDON).date()
    return today - dt.timedelta(days=BEHIND), today + dt.timedelta(days=AHEAD)


def _needed(now: dt.datetime) -> tuple[dt.date, dt.date]:
    """The days the searches read from the table may ask for on ``now``'s London day."""
    spans = [when_days(w, now) for w in STORED_WHENS]
    return min(first for first, _ in spans), max(last for _, last in spans)


def _insert(
    conn: sqlite3.Connection, out: list[tuple[int, int, int, str, str, str | None, int, int, str | None]]
) -> None:
    conn.executemany(
        "INSERT INTO listing_occurrences (listing, start, end, kind, status, reviewed, days, loose, last_day) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        out,
    )


def fill_pending(conn: sqlite3.Connection, limit: int = PENDING_BATCH) -> int:
    """Compute the occurrences of up to ``limit`` pending listings; returns how many were filled.

    While the horizon is rolling (:func:`advance`, :func:`extend`) a listing is filled over the
    days of both horizons, so it is complete whichever the meta claims.  Runs inside the caller's
    transaction (or opens none: call it within one).
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
    nxt = _next(conn)
    last = h.last if nxt is None else max(h.last, nxt.last)
    seam = _midnight(h.last + dt.timedelta(days=1))
    next_from = _midnight(nxt.first) if nxt is not None else 0
    out: list[tuple[int, int, int, str, str, str | None, int, int, str | None]] = []
    longest = h.longest
    next_longest = nxt.longest if nxt is not None else 0
    for rowid, schedule, *copied in rows:
        if schedule is None:
            continue
        for start, end in _expand(schedule, h.first, last):
            out.append((rowid, start, end, *copied))
            if start < seam:  # a session the claimed horizon holds
                longest = max(longest, end - start)
            if end > next_from:  # one the next horizon holds
                next_longest = max(next_longest, end - start)
    ids = msgspec.json.encode([r[0] for r in rows]).decode()
    conn.execute("DELETE FROM listing_occurrences WHERE listing IN (SELECT value FROM json_each(?))", (ids,))
    _insert(conn, out)
    conn.execute("DELETE FROM listing_occurrences_pending WHERE listing IN (SELECT value FROM json_each(?))", (ids,))
    if longest != h.longest:
        set_meta(conn, "occurrences_longest", longest)
    if nxt is not None and next_longest != nxt.longest:
        set_meta(conn, "occurrences_next_longest", next_longest)
    return len(rows)


def advance(conn: sqlite3.Connection, now: dt.datetime) -> bool:
    """Start moving the horizon to the days around ``now`` (London) if it is elsewhere; inside a
    transaction.  Returns whether it started a move.

    When the stored horizon still covers every day the searches of ``now``'s day read (the day's
    turn, or a node down a day or two), the horizon rolls: the meta keeps claiming the old days,
    which searches go on reading, while :func:`extend` adds the new days listing by listing; it
    claims the new days only once every listing has them, and :func:`drop_past` then deletes the
    days behind.  No listing becomes pending.  Otherwise (the first fill, a node down longer, a
    clock moved back) every stored session is deleted and every listing becomes pending in the
    same transaction: a search never reads sessions for days the meta does not claim, and answers
    the exact, slower way until :func:`fill_pending` has run.
    """
    first, last = _days_around(now)
    h = horizon(conn)
    nxt = _next(conn)
    if h is not None and h.first == first and h.last == last:
        if nxt is not None:
            _forget_next(conn)
        return False
    if h is not None and h.first <= first and h.last < last and covers(h, *_needed(now)):
        if nxt is not None and nxt.first == first and nxt.last == last:
            return False
        # Rolling (again, if the day turned during a roll: extending a listing is idempotent).
        set_meta(conn, "occurrences_next_from", first.isoformat())
        set_meta(conn, "occurrences_next_until", last.isoformat())
        set_meta(conn, "occurrences_next_cursor", 0)
        set_meta(conn, "occurrences_next_longest", 0)
        return True
    _forget_next(conn)
    conn.execute("DELETE FROM listing_occurrences")
    conn.execute("INSERT OR IGNORE INTO listing_occurrences_pending (listing) SELECT rowid FROM listings")
    set_meta(conn, "occurrences_from", first.isoformat())
    set_meta(conn, "occurrences_until", last.isoformat())
    set_meta(conn, "occurrences_longest", 0)
    return True


def extend(conn: sqlite3.Connection, limit: int = EXTEND_BATCH) -> int:
    """Add the days of a rolling horizon (:func:`advance`) to the next ``limit`` listings; returns
    how many it extended (0: no roll under way).  Inside a transaction.

    For each listing, its sessions starting from the first day after the claimed horizon are
    deleted and computed again to the new last day, so extending a listing twice (a roll begun
    again) gives the same rows, and a listing filled meanwhile (over both horizons) is unchanged.
    Pending listings are skipped: :func:`fill_pending` fills them over both horizons.  The batch
    that reaches the last listing claims the new days in the same transaction.
    """
    h, nxt = horizon(conn), _next(conn)
    if h is None or nxt is None:
        return 0
    seam_day = h.last + dt.timedelta(days=1)
    seam, next_from = _midnight(seam_day), _midnight(nxt.first)
    rows = conn.execute(
        "SELECT l.rowid, l.schedule, l.kind, l.status, l.reviewed, l.days, l.loose, e.last_day "
        "FROM listings l LEFT JOIN listing_ends e ON e.rowid = l.rowid "
        "WHERE l.rowid > ? AND l.schedule IS NOT NULL "
        "AND l.rowid NOT IN (SELECT listing FROM listing_occurrences_pending) ORDER BY l.rowid LIMIT ?",
        (nxt.cursor, limit),
    ).fetchall()
    out: list[tuple[int, int, int, str, str, str | None, int, int, str | None]] = []
    for rowid, schedule, *copied in rows:
        for start, end in _expand(schedule, seam_day, nxt.last):
            if start >= seam:  # one starting earlier is already stored with the claimed days
                out.append((rowid, start, end, *copied))
    longest = nxt.longest
    if rows:
        ids = msgspec.json.encode([r[0] for r in rows]).decode()
        conn.execute(
            "DELETE FROM listing_occurrences WHERE listing IN (SELECT value FROM json_each(?)) AND start >= ?",
            (ids, seam),
        )
        _insert(conn, out)
        found = conn.execute(
            "SELECT max(end - start) FROM listing_occurrences "
            "WHERE listing IN (SELECT value FROM json_each(?)) AND end > ?",
            (ids, next_from),
        ).fetchone()[0]
        longest = max(longest, found or 0)
    if len(rows) < limit:
        # Every listing holds the new days: claim them (the days behind are dropped after).
        set_meta(conn, "occurrences_from", nxt.first.isoformat())
        set_meta(conn, "occurrences_until", nxt.last.isoformat())
        set_meta(conn, "occurrences_longest", longest)
        _forget_next(conn)
    else:
        set_meta(conn, "occurrences_next_cursor", rows[-1][0])
        if longest != nxt.longest:
            set_meta(conn, "occurrences_next_longest", longest)
    return len(rows)


def drop_past(conn: sqlite3.Connection, limit: int = DROP_BATCH) -> int:
    """Delete up to ``limit`` stored sessions over before the horizon's first day; returns how many.

    A search reads only sessions overlapping days the horizon claims, so these are never read;
    they are dropped after a roll, in batches, to keep the table to the days it claims.
    """
    h = horizon(conn)
    if h is None:
        return 0
    before = _midnight(h.first)
    return conn.execute(
        "DELETE FROM listing_occurrences WHERE rowid IN (SELECT rowid FROM listing_occurrences "
        "INDEXED BY listing_occurrences_span WHERE start < ? AND end <= ? LIMIT ?)",
        (before, before, limit),
    ).rowcount


def refresh(conn: sqlite3.Connection, now: dt.datetime) -> int:
    """:func:`advance`, then fill every pending listing, extend a rolling horizon and drop the days
    behind, each in batches; ``conn`` in autocommit mode.

    Returns how many listings were filled.  ``signpost serve`` does the same on its
    writer thread, a batch a transaction (node.web.jobs).
    """
    with transaction(conn):
        advance(conn, now)
    filled = in_batches(conn, fill_pending)
    in_batches(conn, extend)
    in_batches(conn, drop_past)
    return filled
