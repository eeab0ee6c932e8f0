"""iCalendar: read back with a standard parser, expanded with dateutil, equals node.directory.schedule's dates."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import icalendar
import msgspec
import pytest
from dateutil.rrule import rruleset, rrulestr

from node.directory.schedule import LONDON, occurrences
from node.exports.calendar import build_calendar, listing_events
from protocol.records import Record

PUB = "sp1:aaaaaaaaaaaaaaaaaaaaaaaaaa"
# Across both 2027 clock changes (28 March and 31 October) and several bank holidays.
WINDOW = (dt.datetime(2027, 1, 1, tzinfo=LONDON), dt.datetime(2028, 1, 1, tzinfo=LONDON))

SCHEDULES: dict[str, dict[str, Any]] = {
    "weekly tuesday": {"rules": [{"freq": "weekly", "byday": ["TU"], "opens": "10:30", "closes": "12:30"}]},
    "every other thursday, no anchor": {
        "rules": [{"freq": "weekly", "interval": 2, "byday": ["TH"], "opens": "18:30", "closes": "20:30"}]
    },
    "every third week from a start date": {
        "rules": [
            {
                "freq": "weekly",
                "interval": 3,
                "byday": ["SA", "SU"],
                "opens": "09:00",
                "closes": "10:00",
                "starts": "2026-12-05",
            }
        ]
    },
    "last friday monthly": {"rules": [{"freq": "monthly", "byday": ["-1FR"], "opens": "19:00", "closes": "20:30"}]},
    "first monday every other month": {
        "rules": [{"freq": "monthly", "interval": 2, "byday": ["1MO"], "opens": "14:00", "closes": "15:00"}]
    },
    "15th of the month": {"rules": [{"freq": "monthly", "bymonthday": [15], "opens": "11:00"}]},
    "sundays at 1:30am across the change": {
        "rules": [{"freq": "weekly", "byday": ["SU"], "opens": "01:30", "closes": "01:45"}]
    },
    "overnight thursday": {"rules": [{"freq": "weekly", "byday": ["TH"], "opens": "22:00", "closes": "01:00"}]},
    "until a date": {
        "rules": [{"freq": "weekly", "byday": ["WE"], "opens": "10:00", "closes": "11:00", "until": "2027-06-30"}]
    },
    "all day monthly": {"rules": [{"freq": "monthly", "byday": ["2SA"]}]},
    "not on bank holidays": {
        "rules": [{"freq": "weekly", "byday": ["MO", "FR"], "opens": "10:00", "closes": "12:00"}],
        "not_on_bank_holidays": True,
    },
    "cancelled and moved": {
        "rules": [{"freq": "weekly", "byday": ["TU"], "opens": "10:30", "closes": "12:30"}],
        "exceptions": [
            {"date": "2027-03-30", "cancelled": True, "note": "Room closed"},
            {"date": "2027-10-26", "moved_to": {"date": "2027-10-28", "opens": "13:00", "closes": "15:00"}},
            {"date": "2027-11-02", "moved_to": {"date": "2027-11-03"}},
        ],
    },
    "one-off dates": {
        "dates": [
            {"date": "2027-03-27", "opens": "10:00", "closes": "16:00"},
            {"date": "2027-03-28", "opens": "10:00", "closes": "16:00"},
            {"date": "2027-10-31"},
        ]
    },
    "two rules and a date": {
        "rules": [
            {"freq": "weekly", "byday": ["MO"], "opens": "18:00", "closes": "19:00"},
            {"freq": "monthly", "byday": ["1SA"], "opens": "10:00", "closes": "12:00"},
        ],
        "dates": [{"date": "2027-07-04", "opens": "12:00", "closes": "13:00"}],
        "exceptions": [{"date": "2027-07-05", "cancelled": True}],
    },
}


def record(schedule: dict[str, Any], **extra: Any) -> Record:
    return msgspec.convert(
        {
            "publisher": PUB,
            "id": "g1",
            "rev": 1,
            "updated": "2026-11-23T10:00:00Z",
            "kind": "group",
            "name": "A group",
            "schedule": schedule,
            **extra,
        },
        type=Record,
    )


def _aware(value: Any) -> tuple[dt.datetime, bool]:
    """An aware London datetime for a DTSTART-like value, and whether it was a whole date."""
    if isinstance(value, dt.datetime):
        return value.astimezone(LONDON), False
    return dt.datetime(value.year, value.month, value.day, tzinfo=LONDON), True


def expand(ics: bytes, start: dt.datetime, end: dt.datetime) -> set[tuple[dt.datetime, dt.datetime | None]]:
    """Every (start, end) in ``[start, end)`` the calendar says, expanded with dateutil like a calendar program."""
    cal = icalendar.Calendar.from_ical(ics)
    out: set[tuple[dt.datetime, dt.datetime | None]] = set()
    for ev in cal.walk("VEVENT"):
        first, all_day = _aware(ev["DTSTART"].dt)
        length = None
        if "DTEND" in ev and not all_day:
            length = ev["DTEND"].dt.astimezone(dt.UTC) - ev["DTSTART"].dt.astimezone(dt.UTC)
        rs = rruleset()
        if "RRULE" in ev:
            rule_text = ev["RRULE"].to_ical().decode()
            if all_day:
                rs.rrule(rrulestr(rule_text, dtstart=first.replace(tzinfo=None)))
            else:
                rs.rrule(rrulestr(rule_text, dtstart=first))
        else:
            rs.rdate(first.replace(tzinfo=None) if all_day else first)
        exdates = ev.get("EXDATE", [])
        for group in exdates if isinstance(exdates, list) else [exdates]:
            for d in group.dts:
                value, _ = _aware(d.dt)
                rs.exdate(value.replace(tzinfo=None) if all_day else value)
        lo, hi = (start.replace(tzinfo=None), end.replace(tzinfo=None)) if all_day else (start, end)
        for hit in rs.between(lo - dt.timedelta(days=1), hi, inc=True):
            s = hit.replace(tzinfo=LONDON) if all_day else hit
            e = None if length is None else (s.astimezone(dt.UTC) + length).astimezone(LONDON)
            if start <= s < end:
                out.add((s, e))
    return out


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_calendar_dates_equal_the_schedule_across_clock_changes(name: str) -> None:
    rec = record(SCHEDULES[name])
    ics = build_calendar([listing_events(rec, url="https://node.example/listing/x", network="Net")], name="t")
    want = {(o.start, o.end) for o in occurrences(rec.schedule, *WINDOW) if WINDOW[0] <= o.start}
    got = expand(ics, *WINDOW)
    # compare instants, so a wall time the spring change skips is the same moment either way

    def norm(pairs):  # type: ignore[no-untyped-def]
        return {(a.astimezone(dt.UTC), b.astimezone(dt.UTC) if b else None) for a, b in pairs}

    assert norm(got) == norm(want)
    assert want, "the window should hold some dates"


def test_a_clock_change_keeps_wall_clock_times() -> None:
    rec = record(SCHEDULES["weekly tuesday"])
    got = sorted(
        expand(build_calendar([listing_events(rec, url="https://n.example/l", network="N")], name="t"), *WINDOW)
    )
    before = [s for s, _ in got if s.month == 3 and s.day < 28][-1]
    after = next(s for s, _ in got if (s.month == 3 and s.day > 28) or s.month == 4)
    assert (before.hour, before.minute, before.utcoffset()) == (10, 30, dt.timedelta(0))
    assert (after.hour, after.minute, after.utcoffset()) == (10, 30, dt.timedelta(hours=1))


def test_ics_has_uid_timezone_and_rrule_parts() -> None:
    rec = record(SCHEDULES["first monday every other month"])
    text = build_calendar([listing_events(rec, url="https://n.example/l", network="N")], name="t").decode()
    assert f"UID:g1@{PUB}" in text
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/London" in text
    assert "DTSTART;TZID=Europe/London:2024" in text
    assert "RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO;WKST=MO" in text
    assert text.endswith("END:VCALENDAR\r\n")


def _ics(rec: Record, **calendar: Any) -> bytes:
    return build_calendar([listing_events(rec, url="https://n.example/l", network="N")], **{"name": "t", **calendar})


def _unfolded(ics: bytes) -> list[str]:
    return ics.decode().replace("\r\n ", "").split("\r\n")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("a,b;c\\d", "a\\,b\\;c\\\\d"),
        ("line1\nline2", "line1\\nline2"),
        ("x\r\nATTENDEE:y", "x\\nATTENDEE:y"),
        ("bell\x07", "bell"),
    ],
)
def test_text_is_escaped(raw: str, escaped: str) -> None:
    ics = _ics(record(SCHEDULES["weekly tuesday"], name=raw), name=raw, description=raw)
    lines = _unfolded(ics)
    assert f"SUMMARY:{escaped}" in lines
    assert f"X-WR-CALNAME:{escaped}" in lines and f"X-WR-CALDESC:{escaped}" in lines
    assert not any(line.startswith("ATTENDEE") for line in lines)
    assert str(icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]["SUMMARY"]) == raw.replace("\r\n", "\n").replace(
        "\x07", ""
    )


@pytest.mark.parametrize("text", ["a" * 200, "é" * 100, "😀" * 50, "x" + "€" * 80])
def test_lines_fold_at_75_octets_without_splitting_characters(text: str) -> None:
    ics = _ics(record(SCHEDULES["weekly tuesday"], name=text))
    parts = ics.decode().split("\r\n")
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    at = next(i for i, p in enumerate(parts) if p.startswith("SUMMARY:"))
    tail = list(itertools.takewhile(lambda p: p.startswith(" "), parts[at + 1 :]))
    assert tail and parts[at] + "".join(p[1:] for p in tail) == "SUMMARY:" + text


def test_calendar_header_uids_and_refresh_are_kept() -> None:
    text = _ics(record(SCHEDULES["two rules and a date"]), refresh=True).decode()
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Signpost//signpost/")
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT12H\r\nX-PUBLISHED-TTL:PT12H\r\n" in text
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(text.encode()).walk("VEVENT")]
    assert uids == [f"g1@{PUB}", f"g1-rule-2@{PUB}", f"g1-2027-07-04-1200@{PUB}"]


def test_contact_only_when_consented() -> None:
    plain = build_calendar(
        [listing_events(record(SCHEDULES["weekly tuesday"]), url="https://n.example/l", network="N")], name="t"
    )
    assert b"Contact" not in plain
    with_contact = record(
        SCHEDULES["weekly tuesday"], contact={"consent": True, "name": "Sam", "email": "sam@example.org"}
    )
    ics = build_calendar([listing_events(with_contact, url="https://n.example/l", network="N")], name="t")
    assert "sam@example.org" in icalendar.Calendar.from_ical(ics).walk("VEVENT")[0]["DESCRIPTION"]


async def test_listing_and_slice_calendars_are_served(client: Any, leeds: Any) -> None:
    resp = await client.get(f"/listing/{leeds.publisher}/xss-group.ics")
    assert resp.status == 200 and resp.content_type == "text/calendar"
    cal = icalendar.Calendar.from_ical(await resp.read())
    assert [str(e["UID"]) for e in cal.walk("VEVENT")] == [f"xss-group@{leeds.publisher}"]
    sliced = await client.get("/calendar.ics?kind=group&near=LS6&within=10km")
    assert sliced.status == 200 and sliced.headers["Access-Control-Allow-Origin"] == "*"
    events = icalendar.Calendar.from_ical(await sliced.read()).walk("VEVENT")
    assert len({str(e["UID"]).split("@")[0].split("-rule-")[0] for e in events}) >= 5
    assert (await client.get("/calendar.ics?when=today")).status == 400
    assert (await client.get(f"/listing/{leeds.publisher}/nothing-here.ics")).status == 404
