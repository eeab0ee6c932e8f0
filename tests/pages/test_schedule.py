"""Plain-language schedules and their occurrences in Europe/London."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest
from dateutil import rrule as rr
from dateutil.easter import easter
from hypothesis import given, settings
from hypothesis import strategies as st

from node.directory.schedule import (
    BANK_HOLIDAYS,
    LONDON,
    _rule_dates,
    describe,
    format_time,
    next_occurrence,
    occurrences,
)
from protocol.records import Rule, Schedule


def sched(**kw: Any) -> Schedule:
    return msgspec.convert(kw, Schedule)


def weekly(*days: str, opens: str | None = None, closes: str | None = None, **kw: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {"freq": "weekly", "byday": list(days), **kw}
    if opens:
        rule["opens"] = opens
    if closes:
        rule["closes"] = closes
    return rule


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=LONDON)


TODAY = dt.date(2026, 11, 23)

PHRASES = [
    ({"rules": [weekly("TU", opens="10:30", closes="12:30")]}, None, ["Every Tuesday, 10:30am to 12:30pm"]),
    (
        {"rules": [weekly("WE", opens="19:00", closes="21:00", interval=2, starts="2026-01-07")]},
        TODAY,
        ["Every other Wednesday, 7pm to 9pm"],
    ),
    (
        {"rules": [{"freq": "monthly", "byday": ["1MO"], "opens": "19:00", "closes": "20:30"}]},
        None,
        ["First Monday of the month, 7pm to 8:30pm"],
    ),
    (
        {"rules": [{"freq": "monthly", "byday": ["-1FR"], "opens": "19:00", "closes": "21:00"}]},
        None,
        ["Last Friday of the month, 7pm to 9pm"],
    ),
    (
        {"rules": [{"freq": "monthly", "byday": ["1MO", "3MO"], "opens": "12:00"}]},
        None,
        ["First and third Monday of the month, from midday"],
    ),
    ({"rules": [{"freq": "monthly", "bymonthday": [15]}]}, None, ["The 15th of the month"]),
    ({"rules": [{"freq": "monthly", "byday": ["2SA"], "interval": 2}]}, None, ["Second Saturday of every other month"]),
    (
        {"rules": [weekly("FR", "SA", "SU", opens="18:00", closes="02:00")]},
        None,
        ["Fridays, Saturdays and Sundays, 6pm to 2am (overnight)"],
    ),
    (
        {"rules": [weekly("MO", "TU", "WE", "TH", "FR", opens="09:00", closes="17:00")], "not_on_bank_holidays": True},
        None,
        ["Monday to Friday, 9am to 5pm", "Not on bank holidays"],
    ),
    (
        {"rules": [weekly("MO", "TU", "WE", "TH", "FR", "SA", "SU", opens="16:00", closes="22:00")]},
        None,
        ["Every day, 4pm to 10pm"],
    ),
    (
        {"dates": [{"date": "2027-03-14", "opens": "10:00", "closes": "16:00"}]},
        None,
        ["Sunday 14 March 2027, 10am to 4pm"],
    ),
    (
        {"dates": [{"date": "2027-03-13", "opens": "10:00", "closes": "16:00"}]},
        TODAY,
        ["Saturday 13 March 2027, 10am to 4pm"],
    ),
    (
        {"rules": [weekly("FR", opens="10:00")], "exceptions": [{"date": "2026-12-25", "note": "Christmas Day"}]},
        TODAY,
        ["Every Friday, from 10am", "Cancelled on Friday 25 December (Christmas Day)"],
    ),
    (
        {
            "rules": [weekly("TU", opens="10:00", closes="12:00")],
            "exceptions": [{"date": "2026-12-01", "cancelled": False, "moved_to": {"date": "2026-12-02"}}],
        },
        TODAY,
        ["Every Tuesday, 10am to midday", "Moved from Tuesday 1 December to Wednesday 2 December"],
    ),
    (
        {"rules": [weekly("TU", opens="10:00")], "exceptions": [{"date": "2025-12-30"}]},
        TODAY,
        ["Every Tuesday, from 10am"],
    ),
    ({"text": "Flexible — arranged with your peer worker"}, None, ["Flexible — arranged with your peer worker"]),
    (
        {"rules": [weekly("TU", opens="19:00", closes="20:00")], "text": "Bob yn ail nos Fawrth 🌙"},
        None,
        ["Every Tuesday, 7pm to 8pm", "Bob yn ail nos Fawrth 🌙"],
    ),
    (
        {"rules": [weekly("WE", opens="14:00", until="2027-06-30")]},
        TODAY,
        ["Every Wednesday, from 2pm, until Wednesday 30 June 2027"],
    ),
    (
        {"rules": [weekly("SA", interval=3, starts="2027-01-02")]},
        TODAY,
        ["Every third Saturday, starting Saturday 2 January 2027"],
    ),
]


@pytest.mark.parametrize(("schedule", "today", "lines"), PHRASES)
def test_schedule_reads_as_plain_english(schedule: dict[str, Any], today: dt.date | None, lines: list[str]) -> None:
    assert describe(sched(**schedule), today=today) == lines


@pytest.mark.parametrize(
    ("hhmm", "text"),
    [
        ("10:30", "10:30am"),
        ("19:00", "7pm"),
        ("12:00", "midday"),
        ("00:00", "midnight"),
        ("12:15", "12:15pm"),
        ("00:30", "12:30am"),
    ],
)
def test_times_are_twelve_hour(hhmm: str, text: str) -> None:
    assert format_time(hhmm) == text


def starts(s: Schedule, start: dt.datetime, end: dt.datetime) -> list[str]:
    return [o.start.strftime("%Y-%m-%d %H:%M %Z") for o in occurrences(s, start, end)]


OCCURRENCES = [
    # Wall-clock time holds across the spring clock change (last Sunday of March 2027 is the 28th).
    (
        {"rules": [weekly("SA", "SU", opens="10:00", closes="11:00")]},
        at(2027, 3, 26),
        at(2027, 4, 5),
        ["2027-03-27 10:00 GMT", "2027-03-28 10:00 BST", "2027-04-03 10:00 BST", "2027-04-04 10:00 BST"],
    ),
    # ...and the autumn one (25 October 2026).
    (
        {"rules": [weekly("SU", opens="10:30")]},
        at(2026, 10, 17),
        at(2026, 11, 2),
        ["2026-10-18 10:30 BST", "2026-10-25 10:30 GMT", "2026-11-01 10:30 GMT"],
    ),
    # 01:30 does not exist on 28 March 2027: it happens at 02:30 BST.
    (
        {"rules": [weekly("SU", opens="01:30", closes="03:00")]},
        at(2027, 3, 27),
        at(2027, 3, 29),
        ["2027-03-28 02:30 BST"],
    ),
    # Every other week counts from `starts`.
    (
        {"rules": [weekly("WE", interval=2, starts="2026-11-04", opens="18:00")]},
        at(2026, 11, 1),
        at(2026, 12, 10),
        ["2026-11-04 18:00 GMT", "2026-11-18 18:00 GMT", "2026-12-02 18:00 GMT"],
    ),
    # ... also when `starts` is years before the window.
    (
        {"rules": [weekly("WE", interval=2, starts="2020-01-08", opens="18:00")]},
        at(2026, 11, 1),
        at(2026, 11, 20),
        ["2026-11-04 18:00 GMT", "2026-11-18 18:00 GMT"],
    ),
    # Ordinal weekdays and `until`.
    (
        {"rules": [{"freq": "monthly", "byday": ["-1FR"], "opens": "19:00", "until": "2027-01-29"}]},
        at(2026, 11, 1),
        at(2027, 4, 1),
        ["2026-11-27 19:00 GMT", "2026-12-25 19:00 GMT", "2027-01-29 19:00 GMT"],
    ),
    # Not on bank holidays: Easter Monday 2027 (29 March) and the early May bank holiday are skipped.
    (
        {"rules": [weekly("MO", opens="13:00")], "not_on_bank_holidays": True},
        at(2027, 3, 22),
        at(2027, 5, 11),
        [
            "2027-03-22 13:00 GMT",
            "2027-04-05 13:00 BST",
            "2027-04-12 13:00 BST",
            "2027-04-19 13:00 BST",
            "2027-04-26 13:00 BST",
            "2027-05-10 13:00 BST",
        ],
    ),
    # Exceptions: cancelled, and moved to another day with the original times.
    (
        {
            "rules": [weekly("FR", opens="10:00", closes="11:30")],
            "exceptions": [
                {"date": "2026-12-25"},
                {"date": "2027-01-01", "cancelled": False, "moved_to": {"date": "2026-12-31"}},
            ],
        },
        at(2026, 12, 18),
        at(2027, 1, 9),
        ["2026-12-18 10:00 GMT", "2026-12-31 10:00 GMT", "2027-01-08 10:00 GMT"],
    ),
    # A one-off date falls on a bank holiday and still happens.
    (
        {"dates": [{"date": "2026-12-25", "opens": "12:00", "closes": "16:00"}], "not_on_bank_holidays": True},
        at(2026, 12, 1),
        at(2027, 1, 1),
        ["2026-12-25 12:00 GMT"],
    ),
    # A text-only schedule has no dates.
    ({"text": "Flexible"}, at(2026, 1, 1), at(2027, 1, 1), []),
]


@pytest.mark.parametrize(("schedule", "start", "end", "expected"), OCCURRENCES)
def test_occurrences_in_london_time(
    schedule: dict[str, Any], start: dt.datetime, end: dt.datetime, expected: list[str]
) -> None:
    assert starts(sched(**schedule), start, end) == expected


def test_overnight_session_ends_next_morning_and_is_found_while_under_way() -> None:
    s = sched(rules=[weekly("FR", opens="18:00", closes="02:00")])
    found = occurrences(s, at(2026, 11, 28, 1, 0), at(2026, 11, 28, 1, 1))
    assert len(found) == 1 and found[0].start == at(2026, 11, 27, 18) and found[0].end == at(2026, 11, 28, 2)


def test_session_across_autumn_clock_change_lasts_an_hour_longer() -> None:
    s = sched(rules=[weekly("SA", opens="23:00", closes="03:00")])
    (occ,) = occurrences(s, at(2026, 10, 24, 12), at(2026, 10, 25))
    assert occ.end is not None
    assert occ.end.astimezone(dt.UTC) - occ.start.astimezone(dt.UTC) == dt.timedelta(hours=5)


@pytest.mark.parametrize(
    ("schedule", "now", "expected"),
    [
        (
            {"rules": [weekly("TU", opens="10:30", closes="12:30")]},
            at(2026, 11, 24, 11),
            at(2026, 11, 24, 10, 30),
        ),  # under way
        ({"rules": [weekly("TU", opens="10:30", closes="12:30")]}, at(2026, 11, 24, 13), at(2026, 12, 1, 10, 30)),
        (
            {"rules": [{"freq": "monthly", "byday": ["1MO"], "opens": "18:00"}], "not_on_bank_holidays": True},
            at(2027, 4, 6),
            at(2027, 6, 7, 18),
        ),  # 3 May is a bank holiday
        ({"dates": [{"date": "2025-01-01"}]}, at(2026, 11, 23), None),
    ],
)
def test_next_occurrence(schedule: dict[str, Any], now: dt.datetime, expected: dt.datetime | None) -> None:
    nxt = next_occurrence(sched(**schedule), now)
    assert (nxt.start if nxt else None) == expected


def _computed_bank_holidays(year: int) -> set[dt.date]:
    """The England and Wales rules, to check the shipped table for typos."""

    def monday_on_or_after(d: dt.date) -> dt.date:
        return d + dt.timedelta(days=(7 - d.weekday()) % 7)

    def last_monday(month: int) -> dt.date:
        d = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
        return d - dt.timedelta(days=d.weekday())

    e = easter(year)
    out = {
        e - dt.timedelta(days=2),
        e + dt.timedelta(days=1),
        monday_on_or_after(dt.date(year, 5, 1)),
        last_monday(5),
        last_monday(8),
    }
    new_year = dt.date(year, 1, 1)
    out.add(monday_on_or_after(new_year) if new_year.weekday() >= 5 else new_year)
    christmas, boxing = dt.date(year, 12, 25), dt.date(year, 12, 26)
    if christmas.weekday() == 5:
        out |= {dt.date(year, 12, 27), dt.date(year, 12, 28)}
    elif christmas.weekday() == 6:
        out |= {dt.date(year, 12, 26), dt.date(year, 12, 27)}
    elif boxing.weekday() == 5:
        out |= {christmas, dt.date(year, 12, 28)}
    else:
        out |= {christmas, boxing}
    return out


@pytest.mark.parametrize("year", [2025, 2026, 2027, 2028])
def test_bank_holiday_table_matches_the_rules(year: int) -> None:
    assert {d for d in BANK_HOLIDAYS if d.year == year} == _computed_bank_holidays(year)


@settings(max_examples=150, deadline=None)
@given(
    start=st.dates(dt.date(2019, 1, 1), dt.date(2027, 12, 31)),
    offset=st.integers(0, 3000),
    interval=st.integers(1, 4),
    freq=st.sampled_from(["weekly", "monthly"]),
    day=st.sampled_from(["MO", "TU", "WE", "TH", "FR", "SA", "SU", "1MO", "-1FR", "2SA", "4TH"]),
)
def test_moving_dtstart_forward_never_changes_the_dates(
    start: dt.date, offset: int, interval: int, freq: str, day: str
) -> None:
    """The shortcut that starts rrule near the window gives the same dates as expanding from ``starts``."""
    if freq == "weekly":
        day = day[-2:]
    rule = msgspec.convert({"freq": freq, "interval": interval, "byday": [day], "starts": start.isoformat()}, Rule)
    first = start + dt.timedelta(days=offset)
    last = first + dt.timedelta(days=45)
    weekday = getattr(rr, day[-2:])
    byweekday = weekday(int(day[:-2])) if day[:-2] else weekday
    plain = rr.rrule(
        rr.WEEKLY if freq == "weekly" else rr.MONTHLY,
        dtstart=dt.datetime.combine(start if freq == "weekly" else start.replace(day=1), dt.time()),
        interval=interval,
        byweekday=[byweekday],
        wkst=rr.MO,
    )
    expected = [
        d.date()
        for d in plain.between(dt.datetime.combine(first, dt.time()), dt.datetime.combine(last, dt.time()), inc=True)
        if d.date() >= start
    ]
    assert _rule_dates(rule, first, last) == expected
