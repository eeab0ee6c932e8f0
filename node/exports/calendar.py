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
consented contact.  Text is escaped (``\\``, ``;``, ``,``, newlines) and lines
are folded at 75 octets without splitting a UTF-8 character.

Limitation: an overnight session that spans the 1am clock change itself is
given the exact length of its first instance, as RFC 5545 requires for
DTEND, so that one night a year it may show an hour long or short.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Iterable

from protocol.records import AreaLocation, OneOff, PublicLocation, Record, Rule, Schedule

from node import SOFTWARE
from node.directory.schedule import BANK_HOLIDAYS, INTERVAL_ANCHOR, LONDON, describe, occurrences

__all__ = [
    "VTIMEZONE",
    "escape_text",
    "fold",
    "listing_events",
    "build_calendar",
    "NoDates",
]

TZID: Final = "Europe/London"
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
_ESCAPES: Final = (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\r\n", "\\n"), ("\n", "\\n"), ("\r", "\\n"))
_MAX_OCTETS: Final = 75


class NoDates(ValueError):
    """The listing's schedule has no structured dates (only the publisher's own words, or nothing)."""


def escape_text(text: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines escaped; other controls dropped."""
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return "".join(c for c in text if c >= " " or c == "\t")


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current: list[str] = []
    size, limit = 0, _MAX_OCTETS
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append("".join(current))
            current, size, limit = [], 0, _MAX_OCTETS - 1  # continuation lines start with a space
        current.append(ch)
        size += n
    out.append("".join(current))
    return "\r\n ".join(out)


def _local(day: dt.date, hhmm: str) -> str:
    return f"{day:%Y%m%d}T{hhmm[:2]}{hhmm[3:5]}00"


def _when(prop: str, day: dt.date, hhmm: str | None) -> str:
    if hhmm is None:
        return f"{prop};VALUE=DATE:{day:%Y%m%d}"
    return f"{prop};TZID={TZID}:{_local(day, hhmm)}"


def _end(prop: str, day: dt.date, opens: str | None, closes: str | None) -> list[str]:
    if opens is None:
        return [f"{prop};VALUE=DATE:{day + dt.timedelta(days=1):%Y%m%d}"]
    if closes is None or closes == opens:
        return []
    end_day = day + dt.timedelta(days=1) if closes < opens else day
    return [f"{prop};TZID={TZID}:{_local(end_day, closes)}"]


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
    return any(o.start.astimezone(LONDON).date() == day for o in occurrences(_rule_schedule(rule), start, start + dt.timedelta(days=1)))


def _rrule(rule: Rule, first: dt.date) -> str:
    parts = [f"FREQ={rule.freq.upper()}"]
    if rule.interval != 1:
        parts.append(f"INTERVAL={rule.interval}")
    byday = list(rule.byday)
    bymonthday = list(rule.bymonthday)
    if rule.freq == "weekly" and not byday:
        byday = [("MO", "TU", "WE", "TH", "FR", "SA", "SU")[first.weekday()]]
    if rule.freq == "monthly" and not byday and not bymonthday:
        bymonthday = [first.day]
    if byday:
        parts.append("BYDAY=" + ",".join(byday))
    if bymonthday:
        parts.append("BYMONTHDAY=" + ",".join(str(d) for d in bymonthday))
    if rule.until:
        until = dt.date.fromisoformat(rule.until)
        if rule.opens is None:
            parts.append(f"UNTIL={until:%Y%m%d}")
        else:
            last = dt.datetime(until.year, until.month, until.day, 23, 59, 59, tzinfo=LONDON).astimezone(dt.timezone.utc)
            parts.append(f"UNTIL={last:%Y%m%dT%H%M%SZ}")
    parts.append("WKST=MO")
    return "RRULE:" + ";".join(parts)


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


def listing_events(record: Record, *, url: str, network: str) -> list[str]:
    """The VEVENT lines for one listing (unfolded); raises :class:`NoDates` when there is nothing to put in a calendar."""
    schedule = record.schedule
    if schedule is None or not (schedule.rules or schedule.dates):
        raise NoDates(f"{record.name!r} has no dates that a calendar can hold")
    stamp = dt.datetime.fromisoformat(record.updated).astimezone(dt.timezone.utc)
    common = [
        f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
        f"SUMMARY:{escape_text(record.name)}",
        f"DESCRIPTION:{escape_text(_description(record, url, network))}",
        f"URL:{url}",
        "STATUS:CONFIRMED",
        "TRANSP:TRANSPARENT",
    ]
    where = _location(record)
    if where:
        common.append(f"LOCATION:{escape_text(where)}")
    if record.topics:
        common.append("CATEGORIES:" + ",".join(escape_text(t) for t in record.topics))
    base_uid = f"{record.id}@{record.publisher}"
    exceptions = {e.date: e for e in schedule.exceptions if e.cancelled or e.moved_to is not None}
    events: list[list[str]] = []

    def event(uid: str, day: dt.date, opens: str | None, closes: str | None, extra: Iterable[str] = ()) -> None:
        events.append(["BEGIN:VEVENT", f"UID:{uid}", *common, _when("DTSTART", day, opens), *_end("DTEND", day, opens, closes), *extra, "END:VEVENT"])

    for i, rule in enumerate(schedule.rules):
        first = _first_date(rule)
        if first is None:
            continue
        skipped = sorted(
            {dt.date.fromisoformat(d) for d in exceptions}
            | ({d for d in BANK_HOLIDAYS} if schedule.not_on_bank_holidays else set())
        )
        exdates = [_when("EXDATE", d, rule.opens) for d in skipped if d >= first and _rule_has(rule, d)]
        uid = base_uid if i == 0 else f"{record.id}-rule-{i + 1}@{record.publisher}"
        event(uid, first, rule.opens, rule.closes, [_rrule(rule, first), *exdates])
    for one in sorted(schedule.dates, key=lambda o: (o.date, o.opens or "")):
        if one.date in exceptions:
            continue
        uid = base_uid if not events else f"{record.id}-{one.date}-{(one.opens or 'day').replace(':', '')}@{record.publisher}"
        event(uid, dt.date.fromisoformat(one.date), one.opens, one.closes)
    for exc in schedule.exceptions:
        if exc.moved_to is None:
            continue
        for n, (opens, closes) in enumerate(_moved_times(schedule, exc.date, exc.moved_to)):
            uid = f"{record.id}-moved-{exc.date}-{n}@{record.publisher}"
            event(uid, dt.date.fromisoformat(exc.moved_to.date), opens, closes)
    if not events:
        raise NoDates(f"{record.name!r} has no dates that a calendar can hold")
    return [line for ev in events for line in ev]


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


def build_calendar(events: Iterable[list[str]], *, name: str, description: str | None = None, refresh: bool = False) -> bytes:
    """A complete VCALENDAR (CRLF line ends, folded) around each listing's VEVENT lines."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:-//Signpost//{escape_text(SOFTWARE)}//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"X-WR-TIMEZONE:{TZID}",
    ]
    if description:
        lines.append(f"X-WR-CALDESC:{escape_text(description)}")
    if refresh:
        lines += ["REFRESH-INTERVAL;VALUE=DURATION:PT12H", "X-PUBLISHED-TTL:PT12H"]
    lines += VTIMEZONE
    for ev in events:
        lines += ev
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
