"""When a listing's schedule is over, so it leaves search and the public pages the day after.

A listing ends when every part of its schedule is bounded: one-off dates, sessions moved
to a date, and weekly or monthly rules that carry an ``until``.  Its last day is the
latest of those dates.  A listing with an open-ended rule, or with no dates at all (a
resource, a role, most groups), never ends this way.  RPDE's guidance is that filtering
is not deletion, so hiding is only the first step: the publisher then retires its own
ended listings with a signed tombstone (``node.publishing.retirement``).

The database keeps the same rule in SQL (``listing_ends``, kept by triggers; see
``node.storage.schema.LISTING_ENDS_SCHEMA``); :func:`last_day` is its reading in Python,
and the tests hold the two to each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from protocol.records import Schedule

__all__ = ["last_day", "has_ended", "ENDED_SQL"]

# A condition over a listings-shaped alias ``l`` (listings or listing_facets share rowids): true
# when the listing's last day is before the one bound parameter, today's date (ISO, London).
ENDED_SQL: Final = "l.rowid IN (SELECT rowid FROM listing_ends WHERE last_day < ?)"


def last_day(schedule: Schedule | None) -> dt.date | None:
    """The last day ``schedule`` can fall on, or ``None`` when it does not end."""
    if schedule is None or any(rule.until is None for rule in schedule.rules):
        return None
    days = [o.date for o in schedule.dates]
    days += [rule.until for rule in schedule.rules if rule.until is not None]
    days += [e.moved_to.date for e in schedule.exceptions if e.moved_to is not None]
    return dt.date.fromisoformat(max(days)) if days else None


def has_ended(schedule: Schedule | None, today: dt.date) -> bool:
    """True from the day after the schedule's last day: the listing is no longer shown."""
    end = last_day(schedule)
    return end is not None and end < today
