"""iCalendar (RFC 5545) for listings: "Add to calendar" and subscribable slice calendars.

The dates are the ones :mod:`node.directory.schedule` computes, written the way calendar
programs expand them:

- each weekly or monthly rule becomes a VEVENT with an RRULE (``INTERVAL``,
  ordinal ``BYDAY`` like ``1MO``/``-1FR``, ``BYMONTHDAY``, ``UNTIL``) whose
  DTSTART is the rule's first real date, counted from the same anchor the
  schedule uses, so "every other Tuesday" lands on the same Tuesdays;
- dates a rule skips (cancellations, moved dates, bank holidays when the
  listing says so) are EXDATEs; a moved session and each one-off date is its
  own VEVENT;
- times are Europe/London wall-clock (``DTSTART;TZID=Europe/London``, with a
  VTIMEZONE block), so a 10:30am group stays at 10:30am across the clock
  change; a session that closes before it opens ends the next day.

Only what the record publishes is written: a private group's area, never an
address (it has none), and contact details only when the record carries the
consented contact.  The components are built with the ``icalendar`` library,
which escapes text (``\\``, ``;``, ``,``, newlines) and folds lines at 75
octets without splitting a UTF-8 character; this module only decides what the
events say.

Limitation: an overnight session that spans the 1am clock change itself is
given the exact length of its first instance, as RFC 5545 requires for
DTEND, so that one night a year it may show an hour long or short.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

from icalendar import Calendar, Event, Timezone, vDuration, vRecur, vText

from node import SOFTWARE
from node.directory.schedule import BANK_HOLIDAYS, INTERVAL_ANCHOR, LONDON, describe, occurrences
from protocol.records import AreaLocation, OneOff, PublicLocation, Record, Rule, Schedule

__all__ = [
    "VTIMEZONE",
    "listing_events",
    "build_calendar",
    "NoDates",
]

TZID: Final = "Europe/London"
# The fixed Europe/London definition every calendar carries (the UK rules since 1996), so a
# calendar program that knows no tz database still shows 10:30am as 10:30am after the change.
VTIMEZONE: Final = (
    "BEGIN:VTIMEZONE",
    f"TZID:{TZID}",
    "X-LIC-LOCATION:Europe/London",
    "BEGIN:DAYLIGHT",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0100",
    "TZNAME:BST",
    "DTSTART:19810329T010000",
    "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
    "END:DAYLIGHT",
    "BEGIN:STANDARD",
    "TZOFFSETFROM:+0100",
    "TZOFFSETTO:+0000",
    "TZNAME:GMT",
    "DTSTART:19961027T020000",
    "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
    "END:STANDARD",
    "END:VTIMEZONE",
)
_WEEKDAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_TWELVE_HOURS: Final = dt.timedelta(hours=12)


class NoDates(ValueError):
    """The listing's schedule has no structured dates (only the publisher's own words, or nothing)."""


def _printable(text: str) -> str:
    """Text with control characters other than tab and line breaks dropped.

    icalendar escapes backslashes, semicolons, commas and line breaks (RFC 5545 §3.3.11) but
    passes other controls through, and a bell or NUL in a publisher's text has no place in a
    calendar program's event.
    """
    return "".join(c for c in text if c >= " " or c in "\t\r\n")


def _when(day: dt.date, hhmm: str | None) -> dt.date | dt.datetime:
    """A whole date, or a Europe/London wall-clock time (written with ``TZID=Europe/London``)."""
    if hhmm is None:
        return day
    return dt.datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[3:5]), tzinfo=LONDON)


def _end(day: dt.date, opens: str | None, closes: str | None) -> dt.date | dt.datetime | None:
    """DTEND: the next day for a whole-day event, the closing time (next day when it closes before it opens), or none."""
    if opens is None:
        return day + dt.timedelta(days=1)
    if closes is None or closes == opens:
        return None
    end_day = day + dt.timedelta(days=1) if closes < opens else day
    return _when(end_day, closes)


def _rule_schedule(rule: Rule) -> Schedule:
    return Schedule(rules=[rule])


def _first_date(rule: Rule) -> dt.date | None:
    """The rule's first real date on or after its anchor (``starts``, else the schedule's interval anchor)."""
    anchor = dt.date.fromisoformat(rule.starts) if rule.starts else INTERVAL_ANCHOR
    start = dt.datetime(anchor.year, anchor.month, anchor.day, tzinfo=LONDON)
    horizon = dt.timedelta(days=31 * 13 * rule.interval)
    for occ in occurrences(_rule_schedule(rule), start, start + horizon):
        if occ.start.astimezone(LONDON).date() >= anchor:
            return occ.start.astimezone(LONDON).date()
    return None


def _rule_has(rule: Rule, day: dt.date) -> bool:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=LONDON)
    return any(
        o.start.astimezone(LONDON).date() == day
        for o in occurrences(_rule_schedule(rule), start, start + dt.timedelta(days=1))
    )


def _rrule(rule: Rule, first: dt.date) -> vRecur:
    """The RRULE for one schedule rule; a weekly rule with no day repeats on its first date's weekday."""
    recur: dict[str, object] = {"FREQ": rule.freq.upper()}
    if rule.interval != 1:
        recur["INTERVAL"] = rule.interval
    byday = list(rule.byday)
    bymonthday = list(rule.bymonthday)
    if rule.freq == "weekly" and not byday:
        byday = [_WEEKDAYS[first.weekday()]]
    if rule.freq == "monthly" and not byday and not bymonthday:
        bymonthday = [first.day]
    if byday:
        recur["BYDAY"] = byday
    if bymonthday:
        recur["BYMONTHDAY"] = bymonthday
    if rule.until:
        until = dt.date.fromisoformat(rule.until)
        if rule.opens is None:
            recur["UNTIL"] = until
        else:  # a timed DTSTART needs a UTC UNTIL (RFC 5545 §3.3.10): the last second of the day in London
            recur["UNTIL"] = dt.datetime(until.year, until.month, until.day, 23, 59, 59, tzinfo=LONDON).astimezone(
                dt.UTC
            )
    recur["WKST"] = "MO"
    return vRecur(recur)


def _location(record: Record) -> str | None:
    loc = record.location
    if isinstance(loc, PublicLocation) and not record.private:
        return ", ".join(p for p in (loc.name, loc.address, loc.postcode) if p) or loc.area
    if isinstance(loc, (PublicLocation, AreaLocation)):
        return loc.area
    if record.delivery in ("online", "phone"):
        return {"online": "Online", "phone": "By phone"}[record.delivery]
    return None


def _description(record: Record, url: str, network: str) -> str:
    lines = [record.summary or ""]
    lines += describe(record.schedule)
    if record.join is not None and record.join.details:
        lines.append(record.join.details)
    if record.contact is not None:  # present only with the person's consent (spec §8)
        c = record.contact
        lines.append("Contact: " + ", ".join(p for p in (c.name, c.email, c.phone) if p))
    lines += [f"Published by {network}.", f"Details and changes: {url}"]
    return "\n".join(line for line in lines if line)


def listing_events(record: Record, *, url: str, network: str) -> list[Event]:
    """The VEVENTs for one listing; raises :class:`NoDates` when there is nothing to put in a calendar."""
    schedule = record.schedule
    if schedule is None or not (schedule.rules or schedule.dates):
        raise NoDates(f"{record.name!r} has no dates that a calendar can hold")
    stamp = dt.datetime.fromisoformat(record.updated).astimezone(dt.UTC)
    description = _printable(_description(record, url, network))
    where = _location(record)
    base_uid = f"{record.id}@{record.publisher}"
    exceptions = {e.date: e for e in schedule.exceptions if e.cancelled or e.moved_to is not None}
    events: list[Event] = []

    def event(uid: str, day: dt.date, opens: str | None, closes: str | None) -> Event:
        ev = Event()
        ev.add("uid", uid)
        ev.add("dtstamp", stamp)
        ev.add("summary", _printable(record.name))
        ev.add("description", description)
        ev.add("url", url)
        ev.add("status", "CONFIRMED")
        ev.add("transp", "TRANSPARENT")
        if where:
            ev.add("location", _printable(where))
        if record.topics:
            ev.add("categories", [_printable(t) for t in record.topics])
        ev.add("dtstart", _when(day, opens))
        end = _end(day, opens, closes)
        if end is not None:
            ev.add("dtend", end)
        events.append(ev)
        return ev

    for i, rule in enumerate(schedule.rules):
        first = _first_date(rule)
        if first is None:
            continue
        skipped = sorted(
            {dt.date.fromisoformat(d) for d in exceptions}
            | ({d for d in BANK_HOLIDAYS} if schedule.not_on_bank_holidays else set())
        )
        uid = base_uid if i == 0 else f"{record.id}-rule-{i + 1}@{record.publisher}"
        ev = event(uid, first, rule.opens, rule.closes)
        ev.add("rrule", _rrule(rule, first))
        for d in skipped:
            if d >= first and _rule_has(rule, d):
                ev.add("exdate", _when(d, rule.opens))
    for one in sorted(schedule.dates, key=lambda o: (o.date, o.opens or "")):
        if one.date in exceptions:
            continue
        uid = (
            base_uid
            if not events
            else f"{record.id}-{one.date}-{(one.opens or 'day').replace(':', '')}@{record.publisher}"
        )
        event(uid, dt.date.fromisoformat(one.date), one.opens, one.closes)
    for exc in schedule.exceptions:
        if exc.moved_to is None:
            continue
        for n, (opens, closes) in enumerate(_moved_times(schedule, exc.date, exc.moved_to)):
            uid = f"{record.id}-moved-{exc.date}-{n}@{record.publisher}"
            event(uid, dt.date.fromisoformat(exc.moved_to.date), opens, closes)
    if not events:
        raise NoDates(f"{record.name!r} has no dates that a calendar can hold")
    return events


def _moved_times(schedule: Schedule, day_iso: str, target: OneOff) -> list[tuple[str | None, str | None]]:
    """The times of each session moved from ``day_iso``: the new times, or the original ones where none are given."""
    day = dt.date.fromisoformat(day_iso)
    plain = Schedule(rules=schedule.rules, dates=schedule.dates, not_on_bank_holidays=schedule.not_on_bank_holidays)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=LONDON)
    out: list[tuple[str | None, str | None]] = []
    for occ in occurrences(plain, start, start + dt.timedelta(days=1)):
        local = occ.start.astimezone(LONDON)
        if local.date() != day:
            continue
        opens = None if occ.all_day else local.strftime("%H:%M")
        closes = occ.end.astimezone(LONDON).strftime("%H:%M") if occ.end else None
        o = target.opens or opens
        c = target.closes if target.opens or target.closes else closes
        out.append((o, c))
    return out


def build_calendar(
    events: Iterable[list[Event]], *, name: str, description: str | None = None, refresh: bool = False
) -> bytes:
    """A complete VCALENDAR around each listing's VEVENTs, as bytes with CRLF line ends and folded lines."""
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", f"-//Signpost//{SOFTWARE}//EN")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    # X-WR-* are unknown to the library, which would write them unescaped: they are TEXT to every reader.
    cal.add("x-wr-calname", vText(_printable(name)))
    cal.add("x-wr-timezone", TZID)
    if description:
        cal.add("x-wr-caldesc", vText(_printable(description)))
    if refresh:
        cal.add("refresh-interval", _TWELVE_HOURS, parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", vDuration(_TWELVE_HOURS))
    cal.add_component(Timezone.from_ical("\r\n".join(VTIMEZONE)))
    for listing in events:
        for ev in listing:
            cal.add_component(ev)
    # sorted=False keeps the properties in the order they were added (the library sorts by name otherwise)
    ics: bytes = cal.to_ical(sorted=False)
    return ics
