"""Search the local directory: words, place, kind, topic, delivery, cost and time, combined.

SQL narrows the candidates cheaply (FTS5 for words, the ``listings_lat`` index
for a bounding box, the weekday bitmask for "when"); the exact checks are the
shared functions in :mod:`node.directory.filters`, so :func:`search` and
:func:`node.directory.filters.matches` agree on every record.

Ordering: with a place, listings within reach in person come first, ranked by
relevance (bm25, when there are words) weighed against distance, or by
distance alone; listings offered online or by phone follow.  Without a place,
by relevance, else by the first matching date for a "when", else by name.
Words alone (no place, no time) matching more listings than
:data:`RANKED_CANDIDATES` rank a bounded set by bm25, first (those with every
word in the name, the topics, the summary, then anywhere); the other matches
follow, by bm25 (:func:`_word_ranking`).

A small typo ("bipolor") is forgiven: when the words find nothing, each word
that no listing contains is replaced by the closest word in a vocabulary of
listing names, summaries, topics and areas, and the search runs again; the
results say what was searched for instead (``corrected_q``).  Matching itself
never guesses, so a slice or API client gets exactly what its filters say.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import heapq
import itertools
import math
import operator
import re
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Final, NamedTuple

import msgspec

from node.directory.ending import ENDED_SQL
from node.directory.filters import (
    FilterError,
    Filters,
    day_span,
    delivery_values,
    fts_query,
    hidden_cutoff,
    in_window,
    is_stale,
    radius_km,
    remote_ok,
    serves,
    to_params,
    when_days,
    within_reach,
    words,
)
from node.directory.geo import EARTH_RADIUS_KM, Geo, Place, Resolution
from node.directory.networks import speakers
from node.directory.occurrences import stored_window
from node.directory.schedule import LONDON, Occurrence, next_occurrence, occurrences
from node.directory.unshown import count_all_shown, count_shown
from node.directory.vocabulary import FILLER, Intent, read_words, tokens
from protocol.records import TOPICS, Record, Schedule

__all__ = [
    "Hit",
    "Suggestion",
    "SearchResults",
    "UnknownPlace",
    "resolve_place",
    "resolve_near",
    "search",
    "network_names",
    "peer_names",
    "BM25_WEIGHTS",
    "Prepared",
    "prepare",
]

# Column weights for bm25, in listings_fts column order.
BM25_WEIGHTS: Final = {"name": 10.0, "summary": 4.0, "description": 1.0, "topics": 6.0, "area": 3.0, "audience": 2.0}
DISTANCE_HALF_KM: Final = 5.0  # relevance halves at this distance
VOCABULARY_TTL: Final = 600.0
_RANK = "bm25(listings_fts, " + ", ".join(f"{w}" for w in BM25_WEIGHTS.values()) + ")"
_RECORD = msgspec.json.Decoder(Record)
_SCHEDULE = msgspec.json.Decoder(Schedule)


class UnknownPlace(FilterError):
    """``near`` names no postcode, district or local authority we know."""

    reason = "unknown-place"

    def __init__(self, text: str, suggestions: list[str]) -> None:
        hint = (
            f"did you mean {', '.join(suggestions[:3])}?"
            if suggestions
            else "try a postcode like LS6 3QR, a district like LS6, or a town"
        )
        super().__init__("near", f"we don't recognise the place {text[:60]!r}", hint=hint)
        self.place = text
        self.suggestions = suggestions


def resolve_near(
    filters: Filters, geo: Geo | None = None, *, hint: tuple[float, float] | None = None
) -> Resolution | None:
    """The place ``filters.near`` names and the others it could mean (``None`` when it is empty).

    ``geo`` is the node's own (:meth:`Geo.for_node`: its coordinator's place names and its
    area decide shared names); ``hint`` the searcher's last place.  Raises :class:`UnknownPlace`
    with spelling suggestions from the gazetteer.
    """
    if not filters.near:
        return None
    geo = geo or Geo.load()
    found = geo.resolve(filters.near, hint=hint)
    if found is None:
        raise UnknownPlace(filters.near, geo.suggest(filters.near))
    return found


def resolve_place(filters: Filters, geo: Geo | None = None, *, hint: tuple[float, float] | None = None) -> Place | None:
    """The point ``filters.near`` names (``None`` when it is empty); raises :class:`UnknownPlace`."""
    found = resolve_near(filters, geo, hint=hint)
    return found.place if found else None


@dataclass(frozen=True)
class Hit:
    """One result: the record as its publisher signed it, and what we know about it locally."""

    record: Record
    via: str | None  # the peer URL it arrived from; None for this node's own listings
    distance_km: float | None
    next: Occurrence | None
    stale: bool
    remote: bool  # included because it is offered online or by phone, not for being near

    @property
    def publisher(self) -> str:
        return self.record.publisher


@dataclass(frozen=True)
class Suggestion:
    """A way to widen an empty search: the parameters to use and how many listings it would find."""

    param: str
    label: str
    count: int
    params: dict[str, str]


@dataclass(frozen=True)
class SearchResults:
    items: list[Hit]
    total: int
    offset: int
    limit: int
    filters: Filters
    place: Place | None
    corrected_q: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)


@dataclass(slots=True)
class _Row:
    rowid: int
    group: int
    score: float
    distance: float | None
    name: str


# -- the query --------------------------------------------------------------

# The rowids a coordinator keeps visible (meta 'keep-visible:<publisher>/<id>'), as a set read once
# per query: a per-row lookup would need each row's publisher and id, so no index could answer alone.
# A publisher id is always 30 characters (PUBLISHER_PATTERN), so the key splits at fixed places; the
# whole key is compared again, so a key of any other shape matches nothing, as before.
_KEPT_VISIBLE: Final = (
    "(SELECT k.rowid FROM meta m JOIN listings k ON k.publisher = substr(m.key, 14, 30) AND k.id = substr(m.key, 45) "
    "WHERE m.key > 'keep-visible:' AND m.key < 'keep-visible;' AND m.key = 'keep-visible:' || k.publisher || '/' || k.id)"
)


def _weekdays(when: str, now: dt.datetime) -> tuple[int, bool]:
    """The weekday bitmask a ``when`` can fall on (Monday is bit 0), and whether only evenings count."""
    if when == "weekday-evenings":
        return 0b0011111, True
    first, last = when_days(when, now)
    mask, day = 0, first
    while day <= last and mask != 0b1111111:
        mask |= 1 << day.weekday()
        day += dt.timedelta(days=1)
    return mask, False


def _where(
    filters: Filters, place: Place | None, now: dt.datetime, near: str = "either", *, ended: bool = True
) -> tuple[str, list[Any]]:
    """SQL conditions; with a place, ``near`` picks rows in the bounding box, offered remotely, or "either".
    ``ended=False`` leaves out the check that an event has not ended (the caller makes it)."""
    # A coordinator may keep a long-unchecked listing visible (node.storage.console.set_keep_visible).
    sql = ["l.status != 'closed'", f"(l.reviewed IS NULL OR l.reviewed >= ? OR l.rowid IN {_KEPT_VISIBLE})"]
    args: list[Any] = [hidden_cutoff(now)]
    # An event whose last date has passed leaves search the next day (node.directory.ending).
    if ended:
        sql.append("NOT " + ENDED_SQL)
        args.append(now.astimezone(LONDON).date().isoformat())
    if filters.publisher:
        sql.append("l.publisher = ?")
        args.append(filters.publisher)
    if filters.kind:
        sql.append(f"l.kind IN ({','.join('?' * len(filters.kind))})")
        args += filters.kind
    accepted = delivery_values(filters)
    if accepted:
        sql.append(f"l.delivery IN ({','.join('?' * len(accepted))})")
        args += accepted
    if filters.free:
        sql.append("l.free = 1")
    if filters.topic:
        sql.append("(" + " OR ".join("instr(l.topics, ' ' || ? || ' ') > 0" for _ in filters.topic) + ")")
        args += list(filters.topic)
    if filters.when:
        mask, evening = _weekdays(filters.when, now)
        # The bitmask is exact for weekly rules and ordinal weekdays; a monthly
        # day-of-month rule or a moved session can fall on any day, so those pass through.
        sql.append("((l.days & ?) != 0 OR l.days = 0 OR l.loose = 1)")
        args.append(mask)
        if evening:
            sql.append("(l.evening = 1 OR l.moved = 1)")
    if place is not None:
        radius = radius_km(filters, place)
        dlat = radius / 110.0
        dlon = radius / (110.0 * max(0.05, math.cos(math.radians(place.lat))))
        box = "(l.lat BETWEEN ? AND ? AND l.lon BETWEEN ? AND ?)"
        box_args = [place.lat - dlat, place.lat + dlat, place.lon - dlon, place.lon + dlon]
        remote = [d for d in ("online", "hybrid", "phone") if remote_ok(d, filters)]
        if near == "remote":
            sql.append(f"l.delivery IN ({','.join('?' * len(remote))})" if remote else "0")
            args += remote
        elif near == "box" or not remote:
            sql.append(box)
            args += box_args
        elif remote:
            sql.append(f"(l.delivery IN ({','.join('?' * len(remote))}) OR {box})")
            args += remote + box_args
    return " AND ".join(sql), args


def _select(
    filters: Filters,
    place: Place | None,
    now: dt.datetime,
    columns: str,
    near: str = "either",
    *,
    ranked: bool = False,
    column: str | None = None,
    by_rowid: bool = False,
) -> tuple[str, list[Any]]:
    """A SELECT over matching listings.  ``ranked`` joins the FTS table so ``bm25`` can be selected
    (and the FTS index drives the query, in rowid order; ``column`` keeps the listings with every
    word in that one column); otherwise words are an ``IN`` subquery, so an index (the bounding
    box) can drive the query.  ``by_rowid``: the caller adds a list of rowids, which then drives it
    (no index on a facet may: a kind's index would read every listing of that kind)."""
    where, args = _where(filters, place, now, near)
    if filters.words and ranked:
        match = fts_query(filters.words)
        return (
            f"SELECT {columns} FROM listings_fts JOIN listing_facets l ON l.rowid = listings_fts.rowid "
            f"WHERE listings_fts MATCH ? AND {where}",
            [f"{column} : ({match})" if column else match, *args],
        )
    if filters.words:
        where = f"l.rowid IN (SELECT rowid FROM listings_fts WHERE listings_fts MATCH ?) AND {where}"
        args = [fts_query(filters.words), *args]
    # In the bounding box, the latitude index drives the query, not the (maybe long) list of word matches.
    table = (
        "listing_facets l NOT INDEXED"
        if by_rowid
        else "listing_facets l INDEXED BY listing_facets_lat"
        if near == "box" and place is not None
        else "listing_facets l"
    )
    return f"SELECT {columns} FROM {table} WHERE {where}", args


@functools.lru_cache(maxsize=16384)
def _occurrences_cached(schedule_json: str, first: dt.date, last: dt.date) -> tuple[Occurrence, ...]:
    """Occurrences of one schedule over whole days; many listings share a schedule, so this is memoised."""
    return tuple(occurrences(_SCHEDULE.decode(schedule_json), *day_span(first, last)))


@dataclass(frozen=True, slots=True)
class _Cand:
    rowid: int
    name: str
    delivery: str
    lat: float | None
    lon: float | None
    schedule: str | None
    rank: float
    # From listing_occurrences: the first session's start in the "when" span, the window already
    # checked in SQL; None when the exact check is still to run on ``schedule``.
    first: float | None = None


def _ranks(conn: sqlite3.Connection, ws: tuple[str, ...], rowids: list[int]) -> dict[int, float]:
    """bm25 for just these rows (ranking every match of a common word is what costs)."""
    if not rowids:
        return {}
    return dict(
        conn.execute(
            # "+rowid": filter after matching; a rowid list handed to FTS5 would re-run the match per row,
            # while a range lets it read only the part of the index between the first and last row.
            f"SELECT rowid, {_RANK} FROM listings_fts WHERE listings_fts MATCH ? AND rowid BETWEEN ? AND ? "
            "AND +rowid IN (SELECT value FROM json_each(?))",
            (fts_query(ws), min(rowids), max(rowids), msgspec.json.encode(rowids).decode()),
        ).fetchall()
    )


def _fetch(
    conn: sqlite3.Connection,
    filters: Filters,
    place: Place | None,
    now: dt.datetime,
    near: str,
    only: list[int] | None = None,
) -> list[_Cand]:
    """Candidates in relevance-then-name order; ``only`` restricts them to these rowids.

    In the bounding box the listings are few, and the latitude index drives the query: the words
    are checked on them by ranking them (:func:`_ranks` returns only the listings they match),
    where an ``IN`` over every match of a common word would build that whole set first.
    """
    box = near == "box" and place is not None
    sql_filters = replace(filters, q="") if box else filters
    stored = stored_window(conn, filters.when, now) if filters.when else None
    if stored is None:
        sched = "l.schedule" if filters.when else "NULL"
        sql, args = _select(
            sql_filters,
            place,
            now,
            f"l.rowid, l.name, l.delivery, l.lat, l.lon, {sched}, NULL",
            near,
            by_rowid=bool(only),
        )
    else:
        # Listings with a session in the window, each with its first start in the span (the sort key
        # _fits_when gives), plus those written since the last fill, checked the exact way.
        a, b, ws, we, low = stored
        columns = (
            "l.rowid, l.name, l.delivery, l.lat, l.lon, "
            "CASE WHEN l.rowid IN (SELECT listing FROM listing_occurrences_pending) THEN l.schedule END, "
            "(SELECT min(o.start) FROM listing_occurrences o WHERE o.listing = l.rowid AND o.start < ? AND o.end > ?)"
        )
        sql, args = _select(sql_filters, place, now, columns, near, by_rowid=bool(only))
        sql += (
            " AND (l.rowid IN (SELECT listing FROM listing_occurrences WHERE start >= ? AND start < ? AND end > ?)"
            " OR l.rowid IN (SELECT listing FROM listing_occurrences_pending))"
        )
        args = [b, a, *args, low, we, ws]
    if only is not None:
        sql += " AND l.rowid IN (SELECT value FROM json_each(?))"
        args = [*args, msgspec.json.encode(only).decode()]
    rows = conn.execute(sql, args).fetchall()
    ranks = _ranks(conn, filters.words, [r[0] for r in rows]) if filters.words else {}
    if box and filters.words:
        rows = [r for r in rows if r[0] in ranks]  # those the words match
    out = [
        _Cand(r[0], r[1], r[2], r[3], r[4], r[5], ranks.get(r[0], 0.0), None if r[6] is None else float(r[6]))
        for r in rows
    ]
    # Remote sets are reused in this order: relevance, else name.
    out.sort(key=lambda c: (c.rank, c.name.casefold(), c.rowid))
    return out


@dataclass(frozen=True, slots=True)
class _Held:
    built: float  # time.monotonic()
    version: int  # the directory's last change number when it was read
    found: list[_Cand]
    size: int  # an estimate of its bytes


_CANDIDATES: dict[tuple[Any, ...], _Held] = {}
_CANDIDATES_LOCK = threading.Lock()
CANDIDATE_CACHE_SECONDS: Final = 60.0
CANDIDATE_CACHE_BYTES: Final = 48 * 1024 * 1024  # across every filter and database in this process
_NOWHERE: Final = Place("", "outcode", 0.0, 0.0, "")  # "remote" ignores where it is
# Up to this many listings written since (or half the set held, if more), an online set takes in
# just those: at 100,000 listings reading 20,000 changed rows costs about half a full read.
REMOTE_WINDOW: Final = 5000
# A set with words takes in the listings written since in the same way for this long after its full
# read, then is read in full again: bm25 weighs every word against the whole index, so each write
# moves every listing's score a little.  Which listings are in the set is always exact; the order of
# the online listings by relevance may lag the writer by up to this much (during a sync; at rest a
# set is only read again when something changed).
REMOTE_RANK_SECONDS: Final = 10.0


_FLOAT: Final = sys.getsizeof(0.5)
# Bytes a candidate costs besides its name, schedule and first start: the object, its slot in the
# list (with the list's spare room), its rowid, its delivery text (a separate string per row read),
# and its latitude, longitude and rank.
_CAND_OVERHEAD: Final = (
    sys.getsizeof(_Cand(1 << 40, "", "", 0.5, 0.5, None, 0.5)) + 16 + sys.getsizeof(1 << 40) + sys.getsizeof("hybrid")
) + 3 * _FLOAT


def _size(found: list[_Cand]) -> int:
    """The bytes ``found`` holds (measured against ``sys.getsizeof`` of every object in it, not below it)."""
    size = sys.getsizeof
    return sum(
        _CAND_OVERHEAD
        + size(c.name)
        + (0 if c.schedule is None else size(c.schedule))
        + (0 if c.first is None else _FLOAT)
        for c in found
    )


def _changed_since(conn: sqlite3.Connection, version: int, limit: int) -> tuple[list[int], bool] | None:
    """Rowids of listings written after change ``version``, and whether any listing was deleted since;
    ``None`` if more than ``limit`` changed (a full read is then as cheap)."""
    rows = conn.execute(
        "SELECT l.rowid, v.deleted FROM versions v LEFT JOIN listings l ON l.publisher = v.publisher AND l.id = v.id "
        "WHERE v.change > ? LIMIT ?",
        (version, limit + 1),
    ).fetchall()
    if len(rows) > limit:
        return None
    return [rowid for rowid, _ in rows if rowid is not None], any(deleted or rowid is None for rowid, deleted in rows)


def _existing(conn: sqlite3.Connection, rowids: list[int]) -> set[int]:
    """Those of ``rowids`` that are still listings (a deleted listing's rowid is gone; a reused one
    belongs to a listing written since, which the caller reads again)."""
    found = conn.execute(
        "SELECT value FROM json_each(?) WHERE value IN (SELECT rowid FROM listings)",
        (msgspec.json.encode(rowids).decode(),),
    )
    return {int(r[0]) for r in found}


def _remote(conn: sqlite3.Connection, filters: Filters, now: dt.datetime) -> list[_Cand]:
    """Listings offered online or by phone that match everything but the place.

    They do not depend on the place, and there can be tens of thousands, so the
    set is kept per filter for a minute.  When the directory changes (a sync
    commits a page every fraction of a second), only the listings written since
    are read again and merged in, in the same order: a full read per commit is
    what made searches slow and memory grow during an ingest.  Words are ranked
    against the whole index, so a set with words is read again in full once it is
    :data:`REMOTE_RANK_SECONDS` old (its members stay exact; its order may lag).  The
    sets held are bounded in bytes (:data:`CANDIDATE_CACHE_BYTES`), oldest out first.
    """
    if not any(remote_ok(d, filters) for d in ("online", "hybrid", "phone")):
        return []
    row = conn.execute("SELECT value FROM meta WHERE key = 'last_change'").fetchone()
    version = int(row[0]) if row is not None else 0
    db = conn.execute("PRAGMA database_list").fetchone()[2] or str(id(conn))
    span = when_days(filters.when, now) if filters.when else None
    key = (db, replace(filters, near="", within_km=None), hidden_cutoff(now), span)
    with _CANDIDATES_LOCK:
        held = _CANDIDATES.get(key)
    age = time.monotonic() - held.built if held is not None else math.inf
    if held is not None and age < CANDIDATE_CACHE_SECONDS and held.version == version:
        return held.found
    found: list[_Cand] | None = None
    size = 0
    built = time.monotonic()
    if (
        held is not None
        and age < (REMOTE_RANK_SECONDS if filters.words else CANDIDATE_CACHE_SECONDS)
        and held.version < version
    ):
        since = _changed_since(conn, held.version, max(REMOTE_WINDOW, len(held.found) // 2))
        if since is not None:
            changed, deletions = since
            found, size = _taken_in(conn, filters, now, held, changed, deletions)
            built = held.built  # still read in full once a minute (with words, every REMOTE_RANK_SECONDS)
    if found is None:
        found = _fetch(conn, filters, _NOWHERE, now, "remote")
        size = _size(found)
    entry = _Held(built, version, found, size)
    with _CANDIDATES_LOCK:
        _CANDIDATES.pop(key, None)
        _CANDIDATES[key] = entry
        total = sum(h.size for h in _CANDIDATES.values())
        while total > CANDIDATE_CACHE_BYTES and len(_CANDIDATES) > 1:
            total -= _CANDIDATES.pop(next(iter(_CANDIDATES))).size
    return found


def _order(c: _Cand) -> tuple[float, str, int]:
    return (c.rank, c.name.casefold(), c.rowid)


# Up to this many listings to add, each is put in its place in a copy of the set held (a binary
# search and a move in C); more are merged in one pass.
_INSERT_AT_MOST: Final = 64


def _taken_in(
    conn: sqlite3.Connection,
    filters: Filters,
    now: dt.datetime,
    held: _Held,
    changed: list[int],
    deletions: bool,
) -> tuple[list[_Cand], int]:
    """The set held with the ``changed`` listings read again (and deleted ones dropped), in the same
    order as a full read, and its size.  A sync's page mostly adds listings the set does not hold,
    so nothing is walked in Python per listing held unless one of them changed: during an ingest
    that walk (a merge, a filter and a size per commit, over tens of thousands) was most of a place search."""
    gone = set(changed)
    alive = _existing(conn, [c.rowid for c in held.found]) if deletions else None
    found = held.found
    if alive is not None:
        found = [c for c in found if c.rowid in alive and c.rowid not in gone]
    elif gone and not gone.isdisjoint(map(operator.attrgetter("rowid"), found)):
        found = [c for c in found if c.rowid not in gone]
    size = held.size if found is held.found else _size(found)
    again = _remote_again(conn, filters, now, changed) if changed else []
    size += _size(again)
    if len(again) <= _INSERT_AT_MOST:
        found = list(found) if found is held.found else found
        for c in again:
            bisect.insort(found, c, key=_order)
    else:
        found = list(heapq.merge(found, again, key=_order))
    return found, size


def _remote_again(conn: sqlite3.Connection, filters: Filters, now: dt.datetime, changed: list[int]) -> list[_Cand]:
    """The online set's members among ``changed``, in its order.  With words, the rows are read
    without them (a word's match list would drive the read otherwise: about a third of a full
    read) and kept if bm25 ranks them, which is the same test ("every word") the word filter makes."""
    if not filters.words:
        return _fetch(conn, filters, _NOWHERE, now, "remote", only=changed)
    rows = _fetch(conn, replace(filters, q=""), _NOWHERE, now, "remote", only=changed)
    ranks = _ranks(conn, filters.words, [c.rowid for c in rows])
    out = [replace(c, rank=ranks[c.rowid]) for c in rows if c.rowid in ranks]
    out.sort(key=lambda c: (c.rank, c.name.casefold(), c.rowid))
    return out


def _fits_when(c: _Cand, filters: Filters, now: dt.datetime, span: tuple[dt.date, dt.date] | None) -> float | None:
    """The start (timestamp) of the first occurrence fitting ``when``, or ``None`` if none does."""
    if not filters.when:
        return 0.0
    assert span is not None
    if c.first is not None:
        return c.first
    if c.schedule is None:
        return None
    found = _occurrences_cached(c.schedule, *span)
    if not in_window(found, filters.when, now):
        return None
    return found[0].start.timestamp() if found else 0.0


def _rows(conn: sqlite3.Connection, filters: Filters, place: Place | None, now: dt.datetime) -> list[_Row]:
    """Every matching listing with its sort key (the exact checks run here, after SQL narrowed)."""
    span = when_days(filters.when, now) if filters.when else None
    out: list[_Row] = []
    if place is None:
        for c in _fetch(conn, filters, None, now, "either"):
            start = _fits_when(c, filters, now, span)
            if start is not None:
                out.append(_Row(c.rowid, 0, c.rank if filters.words else start, None, c.name))
    else:
        radius = radius_km(filters, place)
        seen: set[int] = set()
        for c in _fetch(conn, filters, place, now, "box"):
            ok, distance = within_reach(c.delivery, c.lat, c.lon, filters, place)
            if not ok or distance is None or distance > radius:
                continue  # too far in person; if offered remotely it comes from the remote set
            start = _fits_when(c, filters, now, span)
            if start is None:
                continue
            seen.add(c.rowid)
            key = (
                c.rank / (1.0 + distance / DISTANCE_HALF_KM) if filters.words else (start if filters.when else distance)
            )
            out.append(_Row(c.rowid, 0, key, distance, c.name))
        areas = _service_areas(conn)
        for c in _remote(conn, filters, now):
            if c.rowid in seen or not serves(areas.get(c.rowid, ()), place):
                continue
            start = _fits_when(c, filters, now, span)
            if start is None:
                continue
            distance = within_reach(c.delivery, c.lat, c.lon, filters, place)[1] if c.lat is not None else None
            out.append(_Row(c.rowid, 1, c.rank if filters.words else start, distance, c.name))
    out.sort(key=lambda r: (r.group, r.score, r.name.casefold(), r.rowid))
    return out


def _fast_page(
    conn: sqlite3.Connection, filters: Filters, now: dt.datetime, limit: int, offset: int
) -> tuple[int, list[_Row]]:
    """Without place or time there is nothing to check outside SQL: one pass gives the count and the best page."""
    if not filters.words and filters == Filters():
        return _everything_page(conn, now, limit, offset)
    if not filters.words:
        # Those fitting every filter but the end date (for a kind, from the index on kind alone), less
        # the ended ones among them, read from the ended listings (few: publishers retire them).
        where, args = _where(filters, None, now, ended=False)
        total = int(
            conn.execute(
                f"SELECT (SELECT count(*) FROM listing_facets l WHERE {where}) - (SELECT count(*) FROM listing_ends e "
                f"CROSS JOIN listing_facets l ON l.rowid = e.rowid WHERE e.last_day < ? AND {where})",  # as ENDED_SQL
                [*args, now.astimezone(LONDON).date().isoformat(), *args],
            ).fetchone()[0]
        )
        sql, args = _select(filters, None, now, "l.rowid, l.name")
        rows = conn.execute(
            f"{sql} ORDER BY l.name COLLATE NOCASE, l.rowid LIMIT ? OFFSET ?", [*args, limit, offset]
        ).fetchall()
        return total, [_Row(r[0], 0, 0.0, None, r[1]) for r in rows]
    total, ranked = _word_ranking(conn, filters, now, offset + limit)
    best = ranked[offset : offset + limit]
    names = (
        dict(
            conn.execute(
                f"SELECT rowid, name FROM listings WHERE rowid IN ({','.join('?' * len(best))})", [r[0] for r in best]
            ).fetchall()
        )
        if best
        else {}
    )
    return total, [_Row(r[0], 0, r[1], None, names[r[0]]) for r in best]


# SQLite's NOCASE: ASCII letters folded, then compared as code points (as UTF-8 bytes are).
_NOCASE: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _everything_page(conn: sqlite3.Connection, now: dt.datetime, limit: int, offset: int) -> tuple[int, list[_Row]]:
    """No filter at all (the public page's "support": a filler word): every listing shown, by name.

    The count is every listing less those not shown today (node.directory.unshown), when that set
    is current; the page walks the index on kind then name once per kind (read from the index,
    skipping from kind to kind), each walk stopping at the page's end, and merges them in name
    order (as ``ORDER BY name COLLATE NOCASE, rowid``) rather than sorting every listing.
    """
    total = count_all_shown(conn, now)
    where, args = _where(Filters(), None, now)
    if total is None:
        total = int(conn.execute(f"SELECT count(*) FROM listing_facets l WHERE {where}", args).fetchone()[0])
    kinds: list[str] = []
    while (
        kind := conn.execute(
            "SELECT min(kind) FROM listing_facets WHERE kind > ?", (kinds[-1] if kinds else "",)
        ).fetchone()[0]
    ) is not None:
        kinds.append(str(kind))
    walks = [
        conn.execute(
            f"SELECT l.rowid, l.name FROM listing_facets l INDEXED BY listing_facets_kind_name WHERE l.kind = ? "
            f"AND {where} ORDER BY l.name COLLATE NOCASE, l.rowid LIMIT ?",
            [kind, *args, offset + limit],
        ).fetchall()
        for kind in kinds
    ]
    merged = heapq.merge(*walks, key=lambda r: (r[1].translate(_NOCASE), r[0]))
    return total, [_Row(r[0], 0, 0.0, None, r[1]) for r in itertools.islice(merged, offset, offset + limit)]


# At most this many matches of the words are ranked by bm25 for a page (see _word_ranking).
RANKED_CANDIDATES: Final = 400
# Where the candidates are looked for, in this order: every word in the name, in the topics, in the
# summary, then anywhere (the columns bm25 weighs most).
_CANDIDATE_COLUMNS: Final = ("name", "topics", "summary", None)


def _word_ranking(
    conn: sqlite3.Connection, filters: Filters, now: dt.datetime, keep: int
) -> tuple[int, list[tuple[int, float]]]:
    """How many listings match the words (no place, no time), and the first ``keep`` of them in order.

    bm25 costs microseconds a row, and a common word ("support") matches most of the directory,
    so only a bounded candidate set is ranked: the first :data:`RANKED_CANDIDATES` matching
    listings (in the index's rowid order) with every word in the name, then in the topics, then
    in the summary, then anywhere.  They come first, by bm25; every other match follows, by
    bm25 (read only for a page beyond them).  When no more listings match than that, the
    candidates are every match, so the order is bm25 over all of them.
    """
    found: dict[int, None] = {}
    complete = False
    for column in _CANDIDATE_COLUMNS:
        want = RANKED_CANDIDATES - len(found)
        sql, args = _select(filters, None, now, "l.rowid", ranked=True, column=column)
        if found:
            sql += " AND +l.rowid NOT IN (SELECT value FROM json_each(?))"
            args = [*args, msgspec.json.encode(list(found)).decode()]
        rows = conn.execute(f"{sql} LIMIT ?", [*args, want]).fetchall()
        found.update((r[0], None) for r in rows)
        if column is None:
            complete = len(rows) < want  # every match is a candidate
        if len(found) >= RANKED_CANDIDATES:
            break
    ranks = _ranks(conn, filters.words, list(found))
    ranked = sorted(ranks.items(), key=lambda r: (r[1], r[0]))
    if complete:
        return len(ranked), ranked[:keep]
    total = _shown_matches(conn, filters, now)
    if keep > len(ranked):
        sql, args = _select(filters, None, now, f"l.rowid, {_RANK}", ranked=True)
        sql += " AND +l.rowid NOT IN (SELECT value FROM json_each(?))"
        rest = conn.execute(sql, [*args, msgspec.json.encode(list(found)).decode()]).fetchall()
        ranked += heapq.nsmallest(keep - len(ranked), rest, key=lambda r: (r[1], r[0]))
    return total, ranked[:keep]


def _shown_matches(conn: sqlite3.Connection, filters: Filters, now: dt.datetime) -> int:
    """How many listings match the words and every other filter (no place, no time).

    With words alone, the word matches less those of the listings not shown today, two index
    counts (node.directory.unshown); with any other filter, or before the set is filled for
    today, each match's row is checked.
    """
    if _where(filters, None, now) == _where(Filters(), None, now):
        fast = count_shown(conn, fts_query(filters.words), now)
        if fast is not None:
            return fast
    sql, args = _select(filters, None, now, "count(*)", ranked=True)
    return int(conn.execute(sql, args).fetchone()[0])


def _count(conn: sqlite3.Connection, filters: Filters, place: Place | None, now: dt.datetime) -> int:
    return _page(conn, filters, place, now, 1, 0)[0]


# geo.distance_km's haversine, step for step in SQLite's libm functions, so a
# listing is within the radius in SQL exactly when it is in Python.
_DISTANCE_SQL: Final = (
    "(2 * ? * asin(min(1.0, sqrt(power(sin((radians(l.lat) - ?) / 2), 2)"
    " + ? * cos(radians(l.lat)) * power(sin(radians(l.lon - ?) / 2), 2)))))"
)


def _distance_args(place: Place) -> list[float]:
    p1 = math.radians(place.lat)
    return [EARTH_RADIUS_KM, p1, math.cos(p1), place.lon]


def _local_by_distance(
    conn: sqlite3.Connection, filters: Filters, place: Place, now: dt.datetime, limit: int, offset: int
) -> tuple[int, list[_Row], int, Callable[[], set[int]]]:
    """Without words, the in-reach listings ordered by distance, counted and paged in one SQL pass.

    Returns their count, the page, how many of them are also offered
    remotely, and a function giving those rowids (needed only when the page
    runs into the remote list).
    """
    sql, args = _select(
        filters, place, now, f"l.rowid AS rowid, l.name AS name, l.delivery AS delivery, {_DISTANCE_SQL} AS d", "box"
    )
    inner = f"SELECT * FROM ({sql}) WHERE d <= ?"
    args = [*_distance_args(place), *args, radius_km(filters, place)]
    remote = [d for d in ("online", "hybrid", "phone") if remote_ok(d, filters)] or ["-"]
    marks = ",".join("?" * len(remote))
    rows = conn.execute(
        f"SELECT rowid, name, d, count(*) OVER (), total(delivery IN ({marks})) OVER () FROM ({inner}) "
        "ORDER BY d, name COLLATE NOCASE, rowid LIMIT ? OFFSET ?",
        [*remote, *args, limit, offset],
    ).fetchall()
    if rows:
        total, overlap = int(rows[0][3]), int(rows[0][4])
    else:
        total, overlap = (
            int(v)
            for v in conn.execute(
                f"SELECT count(*), total(delivery IN ({marks})) FROM ({inner})", [*remote, *args]
            ).fetchone()
        )

    def also_remote() -> set[int]:
        return {
            r[0] for r in conn.execute(f"SELECT rowid FROM ({inner}) WHERE delivery IN ({marks})", [*args, *remote])
        }

    return total, [_Row(r[0], 0, r[2], r[2], r[1]) for r in rows], overlap, also_remote


def _near_page(
    conn: sqlite3.Connection, filters: Filters, place: Place, now: dt.datetime, limit: int, offset: int
) -> tuple[int, list[_Row]]:
    """A place without a time: the few listings in reach in person, then the (cached, already ordered)
    remote set, skipping those already listed as local; distances only for the page shown."""
    if not filters.words:
        count, page, overlap, seen = _local_by_distance(conn, filters, place, now, limit, offset)
        return _fill_with_remote(conn, filters, place, now, limit, offset, count, page, overlap, seen)
    radius = radius_km(filters, place)
    local: list[_Row] = []
    overlap = 0
    for c in _fetch(conn, filters, place, now, "box"):
        _, distance = within_reach(c.delivery, c.lat, c.lon, filters, place)
        if distance is None or distance > radius:
            continue
        overlap += remote_ok(c.delivery, filters)
        key = c.rank / (1.0 + distance / DISTANCE_HALF_KM)
        local.append(_Row(c.rowid, 0, key, distance, c.name))
    local.sort(key=lambda r: (r.score, r.name.casefold(), r.rowid))
    rowids = {r.rowid for r in local}
    return _fill_with_remote(
        conn, filters, place, now, limit, offset, len(local), local[offset : offset + limit], overlap, lambda: rowids
    )


def _fill_with_remote(
    conn: sqlite3.Connection,
    filters: Filters,
    place: Place,
    now: dt.datetime,
    limit: int,
    offset: int,
    local_count: int,
    page: list[_Row],
    overlap: int,
    listed: Callable[[], set[int]],
) -> tuple[int, list[_Row]]:
    """After the in-reach listings come those offered online or by phone that were not already listed."""
    remote = _remote(conn, filters, now)
    areas = _service_areas(conn)
    if areas:  # a phone or online service for one area is offered only to searches there
        kept = [c for c in remote if serves(areas.get(c.rowid, ()), place)]
        if len(kept) < len(remote):
            # Those also listed as local were counted in ``overlap``; they stay in the count.
            gone = {c.rowid for c in remote} - {c.rowid for c in kept}
            overlap -= len(gone & listed())
            remote = kept
    skip = max(0, offset - local_count)
    if len(page) < limit and remote:
        seen = listed()
        for c in remote:
            if c.rowid in seen:
                continue
            if skip:
                skip -= 1
                continue
            distance = within_reach(c.delivery, c.lat, c.lon, filters, place)[1] if c.lat is not None else None
            page.append(_Row(c.rowid, 1, c.rank, distance, c.name))
            if len(page) == limit:
                break
    return local_count + len(remote) - overlap, page


def _page(
    conn: sqlite3.Connection, filters: Filters, place: Place | None, now: dt.datetime, limit: int, offset: int
) -> tuple[int, list[_Row]]:
    if place is None and not filters.when:
        return _fast_page(conn, filters, now, limit, offset)
    if place is not None and not filters.when:
        return _near_page(conn, filters, place, now, limit, offset)
    if place is None and not filters.words:
        fast = _when_page(conn, filters, now, limit, offset)
        if fast is not None:
            return fast
    rows = _rows(conn, filters, place, now)
    return len(rows), rows[offset : offset + limit]


def _when_page(
    conn: sqlite3.Connection, filters: Filters, now: dt.datetime, limit: int, offset: int
) -> tuple[int, list[_Row]] | None:
    """A time and no words or place, read from listing_occurrences: counted and paged from its index.

    Ordered as :func:`_rows` orders it: by the listing's first session in the span
    :func:`node.directory.filters.when_days` gives (sessions overlapping it), then name
    casefolded, then rowid.  Sessions are walked in start order, so a listing's first
    appearance is its first session; listings are taken a start time at a time (every listing
    sharing it, sorted here, so ties on the start are broken exactly) until the page is full.
    Each session carries its listing's kind, status, reviewed date, weekday mask and last
    day (migration 9), so the set shown (and so the count) is read from the index alone,
    without a listing row unless other filters (publisher, delivery, cost, topic) ask for one.  ``None`` when the table cannot answer (it
    does not cover the window, or listings written since the last fill must be checked the
    slow way).
    """
    stored = stored_window(conn, filters.when, now) if filters.when else None
    if stored is None or conn.execute("SELECT 1 FROM listing_occurrences_pending LIMIT 1").fetchone():
        return None
    a, b, ws, we, low = stored
    where, args = _session_where(filters, now)
    # The listings shown: those with a session in the window, read from the index alone (a set here
    # costs less than DISTINCT in SQL).
    shown = {
        r[0]
        for r in conn.execute(
            f"SELECT o.listing FROM listing_occurrences o {where} AND o.start >= ? AND o.start < ? AND o.end > ?",
            [*args, low, we, ws],
        )
    }
    if not shown:
        return 0, []
    # Sessions overlapping the span start after its beginning less the longest session stored; the
    # walk is in the order of the index on start.
    walk = conn.execute(
        "SELECT o.listing, o.start FROM listing_occurrences o INDEXED BY listing_occurrences_span "
        "WHERE o.start >= ? AND o.start < ? AND o.end > ? ORDER BY o.start",
        [a - (ws - low), b, a],
    )
    want = offset + limit
    out: list[_Row] = []
    seen: set[int] = set()
    group: list[int] = []
    at: float | None = None

    def take(group: list[int], start: float) -> None:
        names = dict(
            conn.execute(
                "SELECT rowid, name FROM listing_facets WHERE rowid IN (SELECT value FROM json_each(?))",
                (msgspec.json.encode(group).decode(),),
            ).fetchall()
        )
        rows = [_Row(rowid, 0, start, None, names[rowid]) for rowid in group]
        rows.sort(key=lambda r: (r.name.casefold(), r.rowid))
        out.extend(rows)

    for listing, start in walk:
        if listing in seen or listing not in shown:
            continue
        if start != at:
            if group:
                assert at is not None
                take(group, at)
                group = []
                if len(out) >= want:
                    break
            at = float(start)
        seen.add(listing)
        group.append(listing)
    else:
        if group:
            assert at is not None
            take(group, at)
    return len(shown), out[offset : offset + limit]


def _session_where(filters: Filters, now: dt.datetime) -> tuple[str, list[Any]]:
    """:func:`_where` for a time (no words, no place), on the fields each stored session carries;
    other filters (publisher, delivery, cost, topic) are checked on the listing's facet row."""
    assert filters.when is not None
    mask, _ = _weekdays(filters.when, now)
    sql = [
        "o.status != 'closed'",
        f"(o.reviewed IS NULL OR o.reviewed >= ? OR o.listing IN {_KEPT_VISIBLE})",
        "(o.last_day IS NULL OR o.last_day >= ?)",  # ENDED_SQL, on the last day the session carries
        "((o.days & ?) != 0 OR o.days = 0 OR o.loose = 1)",
    ]
    args: list[Any] = [hidden_cutoff(now), now.astimezone(LONDON).date().isoformat(), mask]
    if filters.kind:
        sql.append(f"o.kind IN ({','.join('?' * len(filters.kind))})")
        args += filters.kind
    rest = replace(filters, kind=(), when=None)
    if rest != Filters():
        facets, more = _where(rest, None, now)
        sql.append(f"o.listing IN (SELECT l.rowid FROM listing_facets l WHERE {facets})")
        args += more
    return "WHERE " + " AND ".join(sql), args


def _hits(conn: sqlite3.Connection, rows: list[_Row], now: dt.datetime) -> list[Hit]:
    if not rows:
        return []
    ids = [r.rowid for r in rows]
    found = {
        rowid: (payload, via)
        for rowid, payload, via in conn.execute(
            "SELECT l.rowid, l.payload, v.via FROM listings l LEFT JOIN versions v ON v.publisher = l.publisher AND v.id = l.id "
            f"WHERE l.rowid IN ({','.join('?' * len(ids))})",
            ids,
        )
    }
    today = now.astimezone(LONDON).date()
    out = []
    for r in rows:
        payload, via = found[r.rowid]
        record = _RECORD.decode(payload)
        out.append(
            Hit(
                record=record,
                via=via,
                distance_km=r.distance,
                next=next_occurrence(record.schedule, now) if record.schedule else None,
                stale=is_stale(record.reviewed, today),
                remote=r.group == 1,
            )
        )
    return out


def search(
    conn: sqlite3.Connection,
    filters: Filters,
    *,
    place: Place | None,
    now: dt.datetime,
    limit: int = 20,
    offset: int = 0,
    intent: Intent | None = None,
) -> SearchResults:
    """One page of listings matching ``filters`` at ``now``, best first.

    ``place`` is ``resolve_place(filters)``; it is required when ``filters.near``
    is set.  Runs on a reader connection (``node.storage.store.read(search, ...)``).
    When nothing matches, ``suggestions`` says which filter to widen, and a
    likely typo in the words is corrected (``corrected_q``).

    ``intent`` (from :func:`prepare`, for the public pages) asks for best-effort
    matching of the words (see :func:`_best_rows`) instead of the exact
    "every word must appear" rule the JSON API documents.
    """
    if filters.near and place is None:
        raise ValueError("search() needs the resolved place when filters.near is set (see resolve_place)")
    corrected = None
    if intent is not None and intent.empty:
        filters = replace(filters, q="")  # only filler words: they decide nothing
    if intent is not None and not intent.empty:
        total, rows, corrected = _best_rows(conn, filters, place, now, intent, offset + limit)
        page = rows[offset : offset + limit]
    elif intent is not None and place is not None and not filters.when:
        total, page = _near_support_first(conn, filters, place, now, limit, offset)
    else:
        total, page = _page(conn, filters, place, now, limit, offset)
    if total == 0 and filters.words and intent is None:
        fixed = _correct(conn, filters.words)
        if fixed is not None:
            retry = replace(filters, q=fixed)
            total, page = _page(conn, retry, place, now, limit, offset)
            if total:
                corrected = fixed
    suggestions = _suggest(conn, filters, place, now) if total == 0 else []
    return SearchResults(
        items=_hits(conn, page, now),
        total=total,
        offset=offset,
        limit=limit,
        filters=filters,
        place=place,
        corrected_q=corrected,
        suggestions=suggestions,
    )


# -- widening an empty search ----------------------------------------------


def _suggest(conn: sqlite3.Connection, filters: Filters, place: Place | None, now: dt.datetime) -> list[Suggestion]:
    options: list[tuple[str, str, Filters]] = []
    if filters.when:
        options.append(("when", "Any day or time", replace(filters, when=None)))
    wider_place = None
    if place is not None:
        if place.kind != "authority" and place.district_name:
            wider_place = Geo.load().lookup_authority(place.district_name)
            if wider_place is not None:
                options.append(
                    ("near", f"All of {wider_place.label}", replace(filters, near=wider_place.label, within_km=None))
                )
        wider = max(50.0, radius_km(filters, place) * 3)
        if wider <= 200:
            options.append(("within", f"Within {wider:g} km", replace(filters, within_km=wider)))
    if filters.free:
        options.append(("free", "Include listings that charge", replace(filters, free=False)))
    if filters.delivery:
        options.append(("delivery", "In person, online or by phone", replace(filters, delivery=())))
    if filters.kind:
        options.append(("kind", "Every kind of listing", replace(filters, kind=())))
    if filters.topic:
        options.append(("topic", "Any topic", replace(filters, topic=())))
    if filters.words:
        options.append(("q", "Without the words", replace(filters, q="")))
    if filters.near:
        options.append(("near", "Anywhere", replace(filters, near="", within_km=None)))
    out = []
    for param, label, relaxed in options:
        at = wider_place if wider_place is not None and relaxed.near == wider_place.label else place
        count = _count(conn, relaxed, None if not relaxed.near else at, now)
        if count:
            out.append(Suggestion(param, label, count, to_params(relaxed)))
    return out


# -- typo forgiveness --------------------------------------------------------


@dataclass
class _Vocabulary:
    built: float
    words: list[str]  # sorted
    counts: dict[str, int]


_VOCAB: dict[str, _Vocabulary] = {}
_VOCAB_LOCK = threading.Lock()


def _vocabulary(conn: sqlite3.Connection) -> _Vocabulary:
    """Words of listing names, summaries, topics and areas; rebuilt at most every ten minutes."""
    key = str(conn.execute("PRAGMA database_list").fetchone()[2]) or str(id(conn))
    with _VOCAB_LOCK:
        vocab = _VOCAB.get(key)
        if vocab is not None and time.monotonic() - vocab.built < VOCABULARY_TTL:
            return vocab
    counts: dict[str, int] = {}
    for label in TOPICS.values():
        for w in words(label):
            counts[w] = counts.get(w, 0) + 1
    for row in conn.execute("SELECT name, summary, topics, area FROM listings WHERE status != 'closed'"):
        for w in words(" ".join(t for t in row if t)):
            counts[w] = counts.get(w, 0) + 1
    vocab = _Vocabulary(time.monotonic(), sorted(counts), counts)
    with _VOCAB_LOCK:
        _VOCAB[key] = vocab
    return vocab


def _edits(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance, giving up (returning ``limit + 1``) beyond ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _known(vocab: _Vocabulary, word: str) -> bool:
    i = bisect.bisect_left(vocab.words, word)
    return i < len(vocab.words) and vocab.words[i].startswith(word)


def _correct(conn: sqlite3.Connection, ws: tuple[str, ...]) -> str | None:
    """The words with each unknown one replaced by its closest known word, or ``None`` if nothing changed."""
    vocab = _vocabulary(conn)
    out, changed = [], False
    for w in ws:
        if len(w) < 4 or _known(vocab, w) or not re.match(r"^[^\W\d_]+$", w):
            out.append(w)
            continue
        limit = 1 if len(w) < 7 else 2
        best: tuple[int, int, str] | None = None
        for first in {w[0], w[1]}:
            lo = bisect.bisect_left(vocab.words, first)
            hi = bisect.bisect_left(vocab.words, first + "\uffff")
            for cand in vocab.words[lo:hi]:
                d = _edits(w, cand, limit)
                if d <= limit and (best is None or (d, -vocab.counts[cand]) < (best[0], best[1])):
                    best = (d, -vocab.counts[cand], cand)
        if best is None:
            out.append(w)
        else:
            out.append(best[2])
            changed = True
    return " ".join(out) if changed else None


# -- best effort: the public search page's words -------------------------------

# The fields a word can be found in (FTS5 column filters), and what finding it there is worth:
# the name and topics say what a listing is; the description only mentions things.  A word
# found in several fields counts each (a name and a topic saying "anxiety" beat a topic alone).
_FIELDS: Final = (
    ("name", 3.0),
    ("topics", 2.0),
    ("audience", 1.5),
    ("summary", 1.5),
    ("area", 1.5),
    ("description", 0.5),
)
TOPIC_WEIGHT: Final = 4.0  # a topic the vocabulary read from the words
KIND_WEIGHT: Final = 3.0
DELIVERY_WEIGHT: Final = 3.0
WHEN_WEIGHT: Final = 4.0
AREA_WEIGHT: Final = 1.5  # as the area column in _FIELDS
REMOTE_FACTOR: Final = 0.5  # an online or phone listing, weighed against one DISTANCE_HALF_KM away
# Jobs, courses, documents and organisations come after support itself unless the words ask for them.
SIDE_KINDS: Final = frozenset({"role", "training", "resource", "organisation"})
SIDE_FACTOR: Final = 0.6


@dataclass(frozen=True)
class Prepared:
    """A public search read as a person meant it: the filters, the place, and what the words ask for.

    ``place_in_words`` is the postcode or place found in the words box (then
    ``filters.near`` holds it and ``filters.q`` the rest of the words), and
    ``alternatives`` the other places its name could mean.
    """

    filters: Filters
    place: Place | None
    intent: Intent
    place_in_words: str | None = None
    alternatives: list[Place] = field(default_factory=list)


def _place_in_words(geo: Geo, q: str) -> tuple[Place, str, str, list[Place]] | None:
    """A postcode or place named in ``q``: (the place, the words naming it, the other words, other meanings).

    Uses ``Geo.find_in_text`` when the gazetteer provides it; otherwise tries
    postcode-shaped words and runs of up to three words against ``Geo.lookup_place``.
    """
    find = getattr(geo, "find_in_text", None)
    if find is not None:
        found = find(q)
        if found is None:
            return None
        resolution, rest = found
        place = resolution.place
        return place, place.label, str(rest), list(resolution.alternatives)
    ws = q.split()
    for size in (3, 2, 1):
        for i in range(len(ws) - size + 1):
            text = " ".join(ws[i : i + size]).strip(",.")
            if len(text) < 2 or text.lower() in FILLER:
                continue
            place = geo.lookup_place(text)
            if place is not None:
                return place, text, " ".join(ws[:i] + ws[i + size :]), []
    return None


def prepare(filters: Filters, geo: Geo | None = None, *, place: Place | None = None) -> Prepared:
    """Read a public search: the place (``near``, else one typed in the words box) and the words' intent.

    ``place`` is ``near`` already resolved (the page resolves it with the node's
    own gazetteer); otherwise it is resolved here, raising :class:`UnknownPlace`
    for a ``near`` we do not know.  The JSON API does not use this: its ``q``
    keeps the exact "every word must appear" rule.
    """
    geo = geo or Geo.load()
    if place is None:
        place = resolve_place(filters, geo)
    named: str | None = None
    alternatives: list[Place] = []
    if place is None and filters.q:
        found = _place_in_words(geo, filters.q)
        if found is not None:
            place, named, rest, alternatives = found
            filters = replace(filters, q=rest, near=named)
    return Prepared(filters, place, read_words(filters.q), named, alternatives)


class _Candidate(NamedTuple):  # a tuple: one is made per listing scored
    rowid: int
    name: str
    kind: str
    delivery: str
    lat: float | None
    lon: float | None
    topics: str
    days: int
    schedule: str | None


def _near_support_first(
    conn: sqlite3.Connection, filters: Filters, place: Place, now: dt.datetime, limit: int, offset: int
) -> tuple[int, list[_Row]]:
    """Only a place, on the public pages: nearest first, with jobs, courses, documents and organisations
    weighed as :data:`SIDE_FACTOR` (a group down the road before a course next door), then the remote set."""
    sql, args = _select(
        filters,
        place,
        now,
        f"l.rowid AS rowid, l.name AS name, l.delivery AS delivery, l.kind AS kind, {_DISTANCE_SQL} AS d",
        "box",
    )
    side = sorted(SIDE_KINDS)
    rows = conn.execute(
        f"SELECT rowid, name, delivery, d FROM ({sql}) WHERE d <= ? "
        f"ORDER BY (1.0 + d / ?) / (CASE WHEN kind IN ({','.join('?' * len(side))}) THEN ? ELSE 1.0 END), "
        "name COLLATE NOCASE, rowid",
        [*_distance_args(place), *args, radius_km(filters, place), DISTANCE_HALF_KM, *side, SIDE_FACTOR],
    ).fetchall()
    also_remote = {r[0] for r in rows if remote_ok(r[2], filters)}
    page = [_Row(r[0], 0, r[3], r[3], r[1]) for r in rows[offset : offset + limit]]
    return _fill_with_remote(
        conn, filters, place, now, limit, offset, len(rows), page, len(also_remote), lambda: also_remote
    )


def _term_query(column: str, term: str) -> str:
    """One word in one column; prefix-matched from five letters ("carer" finds "carers", "men" not "mental")."""
    quoted = '"' + term.replace('"', '""') + '"'
    return f"{column} : {quoted}{'*' if len(term) >= 5 else ''}"


def _term_hits(conn: sqlite3.Connection, term: str) -> dict[int, float]:
    """Rowids containing ``term`` and the summed weights of the fields it is found in."""
    out: dict[int, float] = {}
    for column, weight in _FIELDS:
        for (rowid,) in conn.execute(
            "SELECT rowid FROM listings_fts WHERE listings_fts MATCH ?", (_term_query(column, term),)
        ):
            out[rowid] = out.get(rowid, 0.0) + weight
    return out


def _topic_hits(conn: sqlite3.Connection, topics: tuple[str, ...]) -> set[int]:
    """Rowids whose indexed topics hold a topic's words in order: every listing with one of the topics,
    and maybe a few more (the index holds each topic's slug and label as words, not the slug itself)."""
    out: set[int] = set()
    for topic in dict.fromkeys(topics):
        phrase = '"' + topic.replace('"', '""') + '"'
        query = "SELECT rowid FROM listings_fts WHERE listings_fts MATCH ?"
        out.update(r for (r,) in conn.execute(query, (f"topics : {phrase}",)))
    return out


_AREAS: dict[str, tuple[int, dict[int, tuple[str, ...]]]] = {}  # database -> (its last change, the areas)
_AREAS_LOCK = threading.Lock()
# Up to this many listings written since, service areas are read for those alone (a full read costs
# about as much as reading 20,000-50,000 changed rows at 100,000 listings).
AREAS_WINDOW: Final = 20_000
_AREAS_SQL: Final = (
    "SELECT rowid, json_extract(payload, '$.service_area') FROM listings "
    "WHERE instr(payload, '\"service_area\"') > 0 AND status != 'closed'"
)


def _service_areas(conn: sqlite3.Connection) -> dict[int, tuple[str, ...]]:
    """Rowid → service area for the listings that have one.

    Read in full once, then kept current from the listings written since (:func:`_changed_since`):
    reading every payload again per change of the directory is what made place searches slow
    while a sync commits a page every fraction of a second.
    """
    row = conn.execute("SELECT value FROM meta WHERE key = 'last_change'").fetchone()
    version = int(row[0]) if row is not None else 0
    db = conn.execute("PRAGMA database_list").fetchone()[2] or str(id(conn))
    with _AREAS_LOCK:
        held = _AREAS.get(db)
    if held is not None and held[0] == version:
        return held[1]
    since = _changed_since(conn, held[0], AREAS_WINDOW) if held is not None and held[0] < version else None
    if since is not None and held is not None:
        changed, deletions = since
        gone = set(changed)
        alive = _existing(conn, list(held[1])) if deletions else None
        found = {k: v for k, v in held[1].items() if k not in gone and (alive is None or k in alive)}
        rows = conn.execute(
            _AREAS_SQL + " AND rowid IN (SELECT value FROM json_each(?))", (msgspec.json.encode(changed).decode(),)
        )
    else:
        found, rows = {}, conn.execute(_AREAS_SQL)
    for rowid, areas in rows:
        if areas:
            found[int(rowid)] = tuple(str(a) for a in msgspec.json.decode(areas))
    with _AREAS_LOCK:
        _AREAS[db] = (version, found)
    return found


def _best_rows(
    conn: sqlite3.Connection, filters: Filters, place: Place | None, now: dt.datetime, intent: Intent, keep: int
) -> tuple[int, list[_Row], str | None]:
    """Listings fitting the filters, scored by how well they fit the words' intent (zero scores left out).

    Each word scores by the best field it is found in (name, topics and
    audience above summary and area, above description) times its rarity, so a
    word found nowhere lowers no one and the listings matching most, and most
    strongly, come first.  Topics, kinds, delivery and times the vocabulary read
    add to the score.  With a place, the score is weighed by distance
    (halving at :data:`DISTANCE_HALF_KM`); an online or phone listing counts as
    :data:`REMOTE_FACTOR`.  Returns how many listings fit, the best ``keep`` of them in order,
    and the words as corrected for typos.
    """
    total = int(conn.execute("SELECT count(*) FROM listing_facets").fetchone()[0]) or 1
    hits: list[tuple[float, dict[int, float]]] = []
    corrected = []
    # A word naming a listing's service area ("... leeds") counts as the area field would;
    # a word found in no listing's text is as rare as a word can be.
    area_terms: list[tuple[float, str]] = []
    for term in intent.terms:
        found = _term_hits(conn, term)
        if not found and len(term) >= 4:
            fixed = _correct(conn, (term,))
            if fixed is not None:
                term, found = fixed, _term_hits(conn, fixed)
        corrected.append(term)
        rarity = math.log(1.0 + total / max(1, len(found)))
        area_terms.append((rarity, term))
        if found:
            hits.append((rarity, found))
    rowids: set[int] = set()
    for _, found in hits:
        rowids.update(found)
    where, args = _where(replace(filters, q=""), place, now, "either")
    extra = []
    if intent.topics:
        extra.append(" OR ".join("instr(l.topics, ' ' || ? || ' ') > 0" for _ in intent.topics))
        args = [*args, *intent.topics]
    if intent.kinds:
        extra.append(f"l.kind IN ({','.join('?' * len(intent.kinds))})")
        args = [*args, *sorted(intent.kinds)]
    if intent.delivery:
        extra.append(f"l.delivery IN ({','.join('?' * len(intent.delivery))})")
        args = [*args, *sorted(intent.delivery)]
    if intent.days:
        extra.append("(l.days & ?) != 0")
        args = [*args, intent.days]
    if intent.when:
        extra.append("l.schedule IS NOT NULL")
    extra.append("l.rowid IN (SELECT value FROM json_each(?))")
    args = [*args, msgspec.json.encode(sorted(rowids)).decode()]
    sql = (
        "SELECT l.rowid, l.name, l.kind, l.delivery, l.lat, l.lon, l.topics, l.days, l.schedule "
        f"FROM listing_facets l WHERE {where} AND ({' OR '.join(extra)})"
    )
    if not (intent.kinds or intent.delivery or intent.days or intent.when):
        # Only words and topics: read the word matches and the listings the index finds each topic's words
        # in (every listing with the topic, maybe a few more: the check above decides), by rowid, rather
        # than scanning every listing.
        sql += " AND l.rowid IN (SELECT value FROM json_each(?))"
        args = [*args, msgspec.json.encode(sorted(rowids | _topic_hits(conn, intent.topics))).decode()]
    span = when_days(filters.when, now) if filters.when else None
    soft = replace(filters, when=intent.when) if intent.when else None
    soft_span = when_days(intent.when, now) if intent.when else None
    areas = _service_areas(conn)
    weight = max((w for w, _ in hits), default=1.0)
    # Each listing's word score, summed once over the (few) words rather than per listing.
    base: dict[int, float] = {}
    for w, found in hits:
        for rowid, fields in found.items():
            base[rowid] = base.get(rowid, 0.0) + w * fields
    topic_marks = [f" {t} " for t in intent.topics]
    topic_weight, kind_weight = weight * TOPIC_WEIGHT, weight * KIND_WEIGHT
    delivery_weight, when_weight = weight * DELIVERY_WEIGHT, weight * WHEN_WEIGHT
    side = SIDE_KINDS - intent.kinds
    stems: dict[tuple[str, ...], set[str]] = {}  # a service area's word stems, read once a query
    out: list[_Row] = []
    for row in conn.execute(sql, args):
        c = _Candidate(*row)
        if filters.when or soft is not None:
            cand = _Cand(c.rowid, c.name, c.delivery, c.lat, c.lon, c.schedule, 0.0)
            if filters.when and _fits_when(cand, filters, now, span) is None:
                continue
        score = base.get(c.rowid, 0.0)
        if c.rowid in areas:
            served = areas[c.rowid]
            named = stems.get(served)
            if named is None:
                named = stems[served] = {stem for area in served for stem in tokens(area)}
            score += sum(w * AREA_WEIGHT for w, t in area_terms if any(n.startswith(t) for n in named))
        if topic_marks:
            score += topic_weight * sum(1 for m in topic_marks if m in c.topics)
        if c.kind in intent.kinds:
            score += kind_weight
        if c.delivery in intent.delivery:
            score += delivery_weight
        if intent.days and c.days & intent.days:
            score += when_weight
        if soft is not None and _fits_when(cand, soft, now, soft_span) is not None:
            score += when_weight
        if score <= 0:
            continue
        if c.kind in side:
            score *= SIDE_FACTOR
        distance = None
        group = 0
        if place is not None:
            ok, distance = within_reach(c.delivery, c.lat, c.lon, filters, place)
            served = areas.get(c.rowid, ())
            if distance is None or distance > radius_km(filters, place):
                if not ok or not serves(served, place):
                    continue
                # A service for this very area is as good as a local one; one for anywhere weighs less.
                group, score = 1, score * (1.0 if served else REMOTE_FACTOR)
            else:
                score /= 1.0 + distance / DISTANCE_HALF_KM
        out.append(_Row(c.rowid, group, -score, distance, c.name))
    # Only the rows up to the page shown need ordering (ties: name, then rowid, as elsewhere).
    best = heapq.nsmallest(keep, out, key=lambda r: (r.score, r.name.casefold(), r.rowid))
    changed = tuple(corrected) != intent.terms
    return len(out), best, " ".join(corrected) if changed else None


# -- who published it --------------------------------------------------------


def network_names(
    conn: sqlite3.Connection, publishers: list[str], *, own_publisher: str, own_name: str
) -> dict[str, str]:
    """Display names for publishers: the organisation record that speaks for each (the same rule as
    ``/networks``, :func:`node.directory.networks.speakers`), this node's name, the peer's name, or the id."""
    wanted = list(dict.fromkeys(publishers))
    out = {p: s.name for p, s in speakers(conn, wanted).items()}
    for p in wanted:
        if p in out:
            continue
        if p == own_publisher:
            out[p] = own_name
            continue
        row = conn.execute(
            "SELECT name FROM peers WHERE publisher = ? AND name IS NOT NULL ORDER BY url LIMIT 1", (p,)
        ).fetchone()
        out[p] = str(row[0]) if row is not None else f"network {p[:12]}…"
    return {p: out[p] for p in wanted}


def peer_names(conn: sqlite3.Connection, urls: list[str]) -> dict[str, str]:
    """Peer URL → the name its node document gave (or the URL's host)."""
    out: dict[str, str] = {}
    for url in dict.fromkeys(urls):
        row = conn.execute("SELECT name FROM peers WHERE url = ?", (url,)).fetchone()
        out[url] = str(row[0]) if row is not None and row[0] else re.sub(r"^https?://", "", url).rstrip("/")
    return out
