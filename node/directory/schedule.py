"""Schedules in plain language, and the dates they actually happen (spec §2.5).

Pure functions over :class:`protocol.records.Schedule`: no clock, no I/O.  The
caller passes ``now`` or a window.  All times are wall-clock Europe/London, so a
group that meets "every Tuesday at 10:30am" meets at 10:30am on both sides of a
clock change; the instants returned are timezone-aware.

Shared by the public pages, the JSON API, slice feeds and calendars, so the
rules live here once:

- ``interval`` counts from the rule's ``starts`` date.  A rule with an interval
  but no ``starts`` counts from :data:`INTERVAL_ANCHOR`, so every node agrees.
- ``not_on_bank_holidays`` drops *recurring* dates that fall on an England and
  Wales bank holiday (:data:`BANK_HOLIDAYS`); one-off dates are never dropped,
  a publisher who lists a date means it.
- An exception applies to any occurrence on its date: ``moved_to`` replaces it
  (times missing from ``moved_to`` are kept from the original); otherwise
  ``cancelled`` removes it.
- ``closes`` earlier than ``opens`` means the session runs past midnight.
- A session with no ``opens`` time is an all-day occurrence; one with ``opens``
  but no ``closes`` has ``end=None``, and :func:`effective_end` treats it as
  lasting :data:`UNTIMED_LENGTH` for "is it on now / today" questions.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

import msgspec
from dateutil import rrule as rr

from protocol.records import OneOff, Rule, Schedule, ScheduleException

__all__ = [
    "LONDON",
    "BANK_HOLIDAYS",
    "INTERVAL_ANCHOR",
    "UNTIMED_LENGTH",
    "Occurrence",
    "describe",
    "occurrences",
    "next_occurrence",
    "effective_end",
    "format_time",
    "format_date",
    "format_occurrence",
]

LONDON: Final = ZoneInfo("Europe/London")
INTERVAL_ANCHOR: Final = dt.date(2024, 1, 1)  # a Monday
UNTIMED_LENGTH: Final = dt.timedelta(hours=1)

# England and Wales bank holidays (gov.uk/bank-holidays), substitute days included.
BANK_HOLIDAYS: Final[frozenset[dt.date]] = frozenset(
    dt.date.fromisoformat(d)
    for d in (
        "2025-01-01",
        "2025-04-18",
        "2025-04-21",
        "2025-05-05",
        "2025-05-26",
        "2025-08-25",
        "2025-12-25",
        "2025-12-26",
        "2026-01-01",
        "2026-04-03",
        "2026-04-06",
        "2026-05-04",
        "2026-05-25",
        "2026-08-31",
        "2026-12-25",
        "2026-12-28",
        "2027-01-01",
        "2027-03-26",
        "2027-03-29",
        "2027-05-03",
        "2027-05-31",
        "2027-08-30",
        "2027-12-27",
        "2027-12-28",
        "2028-01-03",
        "2028-04-14",
        "2028-04-17",
        "2028-05-01",
        "2028-05-29",
        "2028-08-28",
        "2028-12-25",
        "2028-12-26",
    )
)

_DAYS: Final = {"MO": 0, "TU": 1, "WE": 2, "TH": 3, "FR": 4, "SA": 5, "SU": 6}
_DAY_NAMES: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RR_DAYS: Final = (rr.MO, rr.TU, rr.WE, rr.TH, rr.FR, rr.SA, rr.SU)
_ORDINALS: Final = {
    1: "first",
    2: "second",
    3: "third",
    4: "fourth",
    5: "fifth",
    -1: "last",
    -2: "second to last",
    -3: "third to last",
}
_EVERY_N: Final = {1: "", 2: "other ", 3: "third ", 4: "fourth "}
_MONTHS_N: Final = {
    1: "the month",
    2: "every other month",
    3: "every third month",
    6: "every six months",
    12: "every year",
}


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One session.  ``all_day`` when the schedule gives no time (``start`` is then midnight)."""

    start: dt.datetime
    end: dt.datetime | None
    all_day: bool = False
    note: str | None = None


# -- formatting --------------------------------------------------------------


def format_time(hhmm: str) -> str:
    """``"10:30"`` → ``"10:30am"``, ``"19:00"`` → ``"7pm"``, ``"12:00"`` → ``"midday"``."""
    h, m = int(hhmm[:2]), int(hhmm[3:])
    if (h, m) == (12, 0):
        return "midday"
    if (h, m) == (0, 0):
        return "midnight"
    suffix = "am" if h < 12 else "pm"
    h12 = h % 12 or 12
    return f"{h12}{suffix}" if m == 0 else f"{h12}:{m:02d}{suffix}"


def format_date(day: dt.date, *, today: dt.date | None = None) -> str:
    """``"Saturday 14 March 2027"``; the year is left out when ``today`` is in the same year."""
    text = f"{_DAY_NAMES[day.weekday()]} {day.day} {day.strftime('%B')}"
    return text if today is not None and today.year == day.year else f"{text} {day.year}"


def _times(opens: str | None, closes: str | None) -> str:
    if opens is None:
        return "" if closes is None else f"until {format_time(closes)}"
    if closes is None or closes == opens:
        return f"from {format_time(opens)}"
    text = f"{format_time(opens)} to {format_time(closes)}"
    return f"{text} (overnight)" if closes < opens else text


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _with_times(head: str, opens: str | None, closes: str | None) -> str:
    t = _times(opens, closes)
    return f"{head}, {t}" if t else head


def _weekly_days(days: list[int], interval: int) -> str:
    if sorted(days) == list(range(7)) and interval == 1:
        return "Every day"
    if sorted(days) == list(range(5)) and interval == 1:
        return "Monday to Friday"
    names = [_DAY_NAMES[d] for d in sorted(set(days))]
    if interval == 1:
        return f"Every {names[0]}" if len(names) == 1 else _join([n + "s" for n in names])
    every = _EVERY_N.get(interval)
    lead = f"Every {every}" if every is not None else f"Every {interval} weeks on "
    if every is not None:
        return f"{lead}{_join(names)}" if len(names) == 1 else f"{lead}week on {_join([n + 's' for n in names])}"
    return f"{lead}{_join([n + 's' for n in names])}"


def _nth(n: int) -> str:
    if n == -1:
        return "last day"
    if n < 0:
        return f"{_ORDINALS.get(n, f'{-n}th to last')} day"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _monthly(rule: Rule) -> str:
    of = _MONTHS_N.get(rule.interval, f"every {rule.interval} months")
    if rule.byday and len({c[-2:] for c in rule.byday}) == 1 and all(c[:-2] for c in rule.byday):
        day = _DAY_NAMES[_DAYS[rule.byday[0][-2:]]]
        text = _join([_ORDINALS.get(int(c[:-2]), c[:-2] + "th") for c in rule.byday])
        return f"{text[0].upper()}{text[1:]} {day} of {of}"
    if rule.byday:
        parts = []
        for code in rule.byday:
            n, day = code[:-2], _DAY_NAMES[_DAYS[code[-2:]]]
            parts.append(f"{_ORDINALS.get(int(n), n + 'th')} {day}" if n else f"every {day}")
        text = _join(parts)
        return f"{text[0].upper()}{text[1:]} of {of}"
    monthdays = list(rule.bymonthday)
    if not monthdays and rule.starts:
        monthdays = [dt.date.fromisoformat(rule.starts).day]
    if not monthdays:
        return "Every month" if rule.interval == 1 else of[0].upper() + of[1:]
    text = _join([_nth(n) for n in monthdays])
    return f"The {text} of {of}"


def _describe_rule(rule: Rule, today: dt.date | None) -> str:
    if rule.freq == "weekly":
        days = [_DAYS[c[-2:]] for c in rule.byday]
        if not days and rule.starts:
            days = [dt.date.fromisoformat(rule.starts).weekday()]
        head = (
            _weekly_days(days, rule.interval)
            if days
            else ("Every week" if rule.interval == 1 else f"Every {rule.interval} weeks")
        )
    else:
        head = _monthly(rule)
    text = _with_times(head, rule.opens, rule.closes)
    if rule.starts and (today is None or dt.date.fromisoformat(rule.starts) > today):
        text += f", starting {format_date(dt.date.fromisoformat(rule.starts), today=today)}"
    if rule.until:
        text += f", until {format_date(dt.date.fromisoformat(rule.until), today=today)}"
    return text


def _describe_exception(exc: ScheduleException, today: dt.date | None) -> str | None:
    day = dt.date.fromisoformat(exc.date)
    when = format_date(day, today=today)
    note = f" ({exc.note})" if exc.note else ""
    moved = exc.moved_to
    if moved is not None:
        target = dt.date.fromisoformat(moved.date)
        times = _times(moved.opens, moved.closes)
        if target == day:
            return f"On {when}: {times or 'at a different time'} instead{note}"
        dest = _with_times(format_date(target, today=today), moved.opens, moved.closes)
        return f"Moved from {when} to {dest}{note}"
    if exc.cancelled:
        return f"Cancelled on {when}{note}"
    return f"{when}: {exc.note}" if exc.note else None


def describe(
    schedule: Schedule | None,
    *,
    today: dt.date | None = None,
    include_text: bool = True,
    max_dates: int | None = None,
) -> list[str]:
    """Plain-language lines for a schedule, in UK English.

    With ``today``, one-off dates and exceptions already past are left out and
    the year is dropped for dates in the current year.  ``text`` (the
    publisher's own words) comes last and verbatim when ``include_text``.
    ``max_dates`` shortens a long list of one-off dates with "and N more dates".
    """
    if schedule is None:
        return []
    lines = [_describe_rule(rule, today) for rule in schedule.rules]
    dates = sorted(schedule.dates, key=lambda o: (o.date, o.opens or ""))
    if today is not None:
        dates = [o for o in dates if dt.date.fromisoformat(o.date) >= today]
    shown = dates if max_dates is None else dates[:max_dates]
    lines += [_with_times(format_date(dt.date.fromisoformat(o.date), today=today), o.opens, o.closes) for o in shown]
    if len(dates) > len(shown):
        more = len(dates) - len(shown)
        lines.append(f"and {more} more date{'s' if more > 1 else ''}")
    if schedule.not_on_bank_holidays and schedule.rules:
        lines.append("Not on bank holidays")
    for exc in sorted(schedule.exceptions, key=lambda e: e.date):
        if today is not None and max(exc.date, exc.moved_to.date if exc.moved_to else exc.date) < today.isoformat():
            continue
        line = _describe_exception(exc, today)
        if line:
            lines.append(line)
    if include_text and schedule.text:
        lines.append(schedule.text)
    return lines


# -- occurrences -------------------------------------------------------------


def _at(day: dt.date, hhmm: str) -> dt.datetime:
    """Wall-clock time in London; a time the spring clock change skips lands an hour later."""
    naive = dt.datetime(day.year, day.month, day.day, int(hhmm[:2]), int(hhmm[3:]), tzinfo=LONDON)
    return naive.astimezone(dt.UTC).astimezone(LONDON)


def _make(day: dt.date, opens: str | None, closes: str | None, note: str | None = None) -> Occurrence:
    if opens is None:
        start = dt.datetime(day.year, day.month, day.day, tzinfo=LONDON)
        return Occurrence(start, None, all_day=True, note=note)
    start = _at(day, opens)
    if closes is None or closes == opens:
        return Occurrence(start, None, note=note)
    end_day = day + dt.timedelta(days=1) if closes < opens else day
    return Occurrence(start, _at(end_day, closes), note=note)


def effective_end(occ: Occurrence) -> dt.datetime:
    """When an occurrence is over: its end, else the end of its day (all-day) or :data:`UNTIMED_LENGTH` on."""
    if occ.end is not None:
        return occ.end
    if occ.all_day:
        nxt = occ.start.date() + dt.timedelta(days=1)
        return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=LONDON)
    return occ.start + UNTIMED_LENGTH


def _months(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def _rule_dates(rule: Rule, first: dt.date, last: dt.date) -> list[dt.date]:
    """Dates in ``[first, last]`` the rule falls on (dateutil rrule, with dtstart moved close to ``first``)."""
    starts = dt.date.fromisoformat(rule.starts) if rule.starts else None
    until = dt.date.fromisoformat(rule.until) if rule.until else None
    if until is not None and until < first:
        return []
    if starts is not None and starts > last:
        return []
    anchor = starts or INTERVAL_ANCHOR
    byweekday: list[rr.weekday] = []
    for code in rule.byday:
        day = _RR_DAYS[_DAYS[code[-2:]]]
        byweekday.append(day(int(code[:-2])) if code[:-2] else day)
    bymonthday = list(rule.bymonthday)
    if rule.freq == "weekly":
        if not byweekday:
            if starts is None:
                return []
            byweekday = [_RR_DAYS[starts.weekday()]]
        period = 7 * rule.interval
        skip = (first - anchor).days // period - 1
        dtstart = anchor + dt.timedelta(days=period * skip) if skip > 0 else anchor
        freq = rr.WEEKLY
    else:
        if not byweekday and not bymonthday:
            if starts is None:
                return []
            bymonthday = [starts.day]
        skip = (_months(first) - _months(anchor)) // rule.interval - 1
        month = _months(anchor) + rule.interval * skip if skip > 0 else _months(anchor)
        dtstart = dt.date(month // 12, month % 12 + 1, 1)
        freq = rr.MONTHLY
    rule_set = rr.rrule(
        freq,  # type: ignore[arg-type]  # WEEKLY/MONTHLY constants are typed int in the stubs
        dtstart=dt.datetime(dtstart.year, dtstart.month, dtstart.day),
        interval=rule.interval,
        wkst=rr.MO,
        byweekday=byweekday or None,
        bymonthday=bymonthday or None,
        until=dt.datetime(until.year, until.month, until.day) if until else None,
    )
    lo = max(first, starts) if starts else first
    hits = rule_set.between(
        dt.datetime(lo.year, lo.month, lo.day), dt.datetime(last.year, last.month, last.day), inc=True
    )
    return [h.date() for h in hits]


def _base(schedule: Schedule, first: dt.date, last: dt.date) -> Iterator[tuple[dt.date, str | None, str | None]]:
    """Every scheduled (date, opens, closes) in ``[first, last]`` before exceptions."""
    for rule in schedule.rules:
        for day in _rule_dates(rule, first, last):
            if schedule.not_on_bank_holidays and day in BANK_HOLIDAYS:
                continue
            yield day, rule.opens, rule.closes
    for one in schedule.dates:
        day = dt.date.fromisoformat(one.date)
        if first <= day <= last:
            yield day, one.opens, one.closes


def _moved(schedule: Schedule, exc: ScheduleException, target: OneOff) -> Iterator[Occurrence]:
    day = dt.date.fromisoformat(exc.date)
    for _, opens, closes in _base(schedule, day, day):
        o = target.opens or opens
        c = target.closes if target.opens or target.closes else closes
        yield _make(dt.date.fromisoformat(target.date), o, c, exc.note)


def occurrences(schedule: Schedule | None, start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """Occurrences that overlap ``[start, end)`` (aware datetimes), in order of start.

    An occurrence overlaps when it starts before ``end`` and its
    :func:`effective_end` is after ``start``, so a session under way at
    ``start`` is included.
    """
    if schedule is None or start >= end:
        return []
    first = start.astimezone(LONDON).date() - dt.timedelta(days=1)  # an overnight session from the day before
    return _overlapping(_sessions(schedule, first, end.astimezone(LONDON).date()), start, end)


def _sessions(schedule: Schedule, first: dt.date, last: dt.date) -> list[Occurrence]:
    """Every session the schedule puts on the days ``first..last``, cancelled ones left out, moved ones
    at their new date; in the order the rules give them, duplicates kept (see :func:`_overlapping`)."""
    exceptions = {e.date: e for e in schedule.exceptions}
    found: list[Occurrence] = []
    for day, opens, closes in _base(schedule, first, last):
        exc = exceptions.get(day.isoformat())
        if exc is not None and (exc.cancelled or exc.moved_to is not None):
            continue
        found.append(_make(day, opens, closes))
    for exc in schedule.exceptions:
        if exc.moved_to is None:
            continue
        target = dt.date.fromisoformat(exc.moved_to.date)
        if first <= target <= last:
            found.extend(_moved(schedule, exc, exc.moved_to))
    return found


def _overlapping(found: Iterable[Occurrence], start: dt.datetime, end: dt.datetime) -> list[Occurrence]:
    """Those of ``found`` overlapping ``[start, end)``, one per start and end (the last given), by start."""
    hits = {(o.start, o.end): o for o in found if o.start < end and effective_end(o) > start}
    return sorted(hits.values(), key=lambda o: (o.start, o.end or o.start))


_HORIZONS: Final = (dt.timedelta(days=8), dt.timedelta(days=63), dt.timedelta(days=400), dt.timedelta(days=1500))


# The days held for a day D: the first step (eight days) seen from any moment of D reads the sessions
# of D-1 (overnight from the day before) to at most D+9, whatever clock change falls between.
_HELD_BEFORE: Final = dt.timedelta(days=1)
_HELD_AFTER: Final = dt.timedelta(days=10)
_SCHEDULE_DECODER: Final = msgspec.json.Decoder(Schedule)


@functools.lru_cache(maxsize=2048)
def _held(schedule_json: bytes, day: dt.date) -> tuple[Occurrence, ...]:
    """The sessions of the days around ``day`` (:func:`_sessions`, before any overlap test).

    Every result on a page shows its next session, and many listings share a schedule
    ("Tuesdays 7pm"), so this is kept per schedule and day rather than expanded per hit.
    """
    return tuple(_sessions(_SCHEDULE_DECODER.decode(schedule_json), day - _HELD_BEFORE, day + _HELD_AFTER))


def next_occurrence(schedule: Schedule | None, now: dt.datetime) -> Occurrence | None:
    """The first occurrence not yet over at ``now`` (one under way counts), or ``None``.

    Looks up to about four years ahead, in widening steps so the common case is cheap.
    The first step reads the sessions held for ``now``'s day (:func:`_held`): they include
    every day that step's :func:`occurrences` would expand, in the same order, so the
    overlap test gives the same answer (tests/pages/test_next_occurrence_held.py).
    """
    if schedule is None:
        return None
    held = _held(msgspec.json.encode(schedule), now.astimezone(LONDON).date())
    found = _overlapping(held, now, now + _HORIZONS[0])
    if found:
        return found[0]
    for horizon in _HORIZONS[1:]:
        found = occurrences(schedule, now, now + horizon)
        if found:
            return found[0]
    return None


def format_occurrence(occ: Occurrence, *, today: dt.date | None = None) -> str:
    """``"Tuesday 24 November, 10:30am to 12:30pm"`` (``"Today, …"`` / ``"Tomorrow, …"`` near ``today``)."""
    day = occ.start.date()
    if today is not None and day == today:
        label = "Today"
    elif today is not None and day == today + dt.timedelta(days=1):
        label = "Tomorrow"
    else:
        label = format_date(day, today=today)
    if occ.all_day:
        return label
    opens = occ.start.strftime("%H:%M")
    closes = occ.end.astimezone(LONDON).strftime("%H:%M") if occ.end else None
    return _with_times(label, opens, closes)
