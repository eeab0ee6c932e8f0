"""The searchable projection of live records (the ``listings`` table and its FTS5 index).

Derived data only: it can be rebuilt from ``versions`` at any time, and a
tombstone removes the row (and, with ``secure_delete``, its bytes).
"""

from __future__ import annotations

import sqlite3

import msgspec

from protocol.records import TOPICS, AreaLocation, PublicLocation, Record

__all__ = ["index_record", "unindex", "weekday_mask", "listing_row", "LISTING_UPSERT", "WEEKDAYS"]

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def weekday_mask(record: Record) -> tuple[int, int]:
    """Bit ``i`` set when the listing meets on weekday ``i`` (Monday is 0); plus an evening flag.

    A coarse prefilter for "this weekend" and "weekday evenings"; the exact
    next dates are computed from the schedule itself.
    """
    import datetime as dt

    mask = 0
    evening = 0
    schedule = record.schedule
    if schedule is None:
        return 0, 0
    for rule in schedule.rules:
        days = [d[-2:] for d in rule.byday]
        if not days and rule.starts:
            days = [WEEKDAYS[dt.date.fromisoformat(rule.starts).weekday()]]
        for d in days:
            mask |= 1 << WEEKDAYS.index(d)
        if rule.opens and rule.opens >= "17:00":
            evening = 1
    for one in schedule.dates:
        mask |= 1 << dt.date.fromisoformat(one.date).weekday()
        if one.opens and one.opens >= "17:00":
            evening = 1
    return mask, evening


LISTING_UPSERT = """INSERT INTO listings (publisher, id, kind, name, summary, description, topics, audience, area,
       delivery, private, status, free, lat, lon, days, evening, reviewed, rev, payload, topic_slugs, loose, moved,
       schedule)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
   ON CONFLICT (publisher, id) DO UPDATE SET
       kind = excluded.kind, name = excluded.name, summary = excluded.summary,
       description = excluded.description, topics = excluded.topics, audience = excluded.audience,
       area = excluded.area, delivery = excluded.delivery, private = excluded.private,
       status = excluded.status, free = excluded.free, lat = excluded.lat, lon = excluded.lon,
       days = excluded.days, evening = excluded.evening, reviewed = excluded.reviewed,
       rev = excluded.rev, payload = excluded.payload, topic_slugs = excluded.topic_slugs,
       loose = excluded.loose, moved = excluded.moved, schedule = excluded.schedule"""


_SCHEDULE_JSON = msgspec.json.Encoder()


def listing_row(record: Record, payload: str) -> tuple[object, ...]:
    """The ``listings`` row for a record, in :data:`LISTING_UPSERT`'s column order."""
    lat = lon = None
    area = None
    loc = record.location
    if isinstance(loc, (PublicLocation, AreaLocation)):
        area = " ".join(p for p in (getattr(loc, "name", None), loc.area, getattr(loc, "postcode_area", None)) if p)
        if loc.lat is not None and loc.lon is not None:
            lat, lon = float(loc.lat), float(loc.lon)
    topics = " ".join(f"{t} {TOPICS.get(t, t.replace('-', ' '))}" for t in record.topics)
    days, evening = weekday_mask(record)
    schedule = record.schedule
    # A monthly rule or a moved session may fall on a weekday the bitmask does not show.
    moved = schedule is not None and any(e.moved_to is not None for e in schedule.exceptions)
    loose = moved or (schedule is not None and any(r.freq == "monthly" for r in schedule.rules))
    return (
        record.publisher,
        record.id,
        record.kind,
        record.name,
        record.summary,
        record.description,
        topics,
        record.audience,
        area,
        record.delivery,
        int(record.private),
        record.status,
        None if record.cost is None else int(record.cost.free),
        lat,
        lon,
        days,
        evening,
        record.reviewed,
        record.rev,
        payload,
        " " + " ".join(record.topics) + " ",
        int(loose),
        int(moved),
        None if schedule is None else _SCHEDULE_JSON.encode(schedule).decode("utf-8"),
    )


def index_record(conn: sqlite3.Connection, record: Record, payload: str) -> None:
    conn.execute(LISTING_UPSERT, listing_row(record, payload))


def unindex(conn: sqlite3.Connection, publisher: str, record_id: str) -> None:
    conn.execute("DELETE FROM listings WHERE publisher = ? AND id = ?", (publisher, record_id))
