"""Free-text schedules: the phrases understood become rules; the rest stays verbatim with a warning."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from node.importer.rows import check_fields
from node.importer.schedule_text import parse_schedule

WEEKLY_TU = {"freq": "weekly", "byday": ["TU"]}

# (days, time, expected rules)
UNDERSTOOD: list[tuple[str, str | None, list[dict[str, Any]]]] = [
    ("Tues", None, [WEEKLY_TU]),
    ("Tuesdays", None, [WEEKLY_TU]),
    ("Tuesday evenings", None, [WEEKLY_TU]),
    ("Tuesdays 10.30-12.30", None, [{**WEEKLY_TU, "opens": "10:30", "closes": "12:30"}]),
    (
        "Fri, Sat, Sun",
        "6pm till 2am",
        [{"freq": "weekly", "byday": ["FR", "SA", "SU"], "opens": "18:00", "closes": "02:00"}],
    ),
    ("Sun & Fri", None, [{"freq": "weekly", "byday": ["FR", "SU"]}]),
    (
        "Mon-Fri",
        "9am-5pm",
        [{"freq": "weekly", "byday": ["MO", "TU", "WE", "TH", "FR"], "opens": "09:00", "closes": "17:00"}],
    ),
    ("Monday to Wednesday", None, [{"freq": "weekly", "byday": ["MO", "TU", "WE"]}]),
    ("Weekends", None, [{"freq": "weekly", "byday": ["SA", "SU"]}]),
    ("Daily", None, [{"freq": "weekly", "byday": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]}]),
    ("Weekly on Thursday", "19:00–20:30", [{"freq": "weekly", "byday": ["TH"], "opens": "19:00", "closes": "20:30"}]),
    ("Every Wednesday", "2-4pm", [{"freq": "weekly", "byday": ["WE"], "opens": "14:00", "closes": "16:00"}]),
    ("1st Monday of the month", None, [{"freq": "monthly", "byday": ["1MO"]}]),
    ("first Monday of each month", None, [{"freq": "monthly", "byday": ["1MO"]}]),
    (
        "1st & 3rd Tuesday of the month",
        "10-12",
        [{"freq": "monthly", "byday": ["1TU", "3TU"], "opens": "10:00", "closes": "12:00"}],
    ),
    ("last Friday of the month", None, [{"freq": "monthly", "byday": ["-1FR"]}]),
    ("2nd Thursday", None, [{"freq": "monthly", "byday": ["2TH"]}]),
    ("Tuesdays and last Saturday of the month", None, [WEEKLY_TU, {"freq": "monthly", "byday": ["-1SA"]}]),
    ("Dydd Mawrth", None, [WEEKLY_TU]),  # Welsh
]


@pytest.mark.parametrize(("days", "time", "rules"), UNDERSTOOD)
def test_understood_phrases_become_rules_and_keep_their_words(
    days: str, time: str | None, rules: list[dict[str, Any]]
) -> None:
    result = parse_schedule(days=days, time=time)
    assert result.warnings == []
    assert result.schedule is not None
    assert result.schedule["rules"] == rules
    assert result.schedule["text"] == "; ".join(w for w in (days, time) if w)
    check_fields({"kind": "group", "name": "x", "schedule": result.schedule}, "x")


@pytest.mark.parametrize(
    ("days", "frequency"),
    [
        ("Every other Wednesday", None),
        ("Wednesday", "Fortnightly"),
        ("Wednesdays", "every 2 weeks"),
        ("Alternate Wednesdays", None),
    ],
)
def test_every_other_week_needs_a_start_date(days: str, frequency: str | None) -> None:
    result = parse_schedule(days=days, frequency=frequency)
    assert result.schedule is not None
    assert result.schedule["rules"] == [{"freq": "weekly", "byday": ["WE"], "interval": 2}]
    assert [f for f, _ in result.warnings] == ["days"]
    anchored = parse_schedule(days=days, frequency=frequency, starts=dt.date(2025, 6, 4))
    assert anchored.warnings == []
    assert anchored.schedule is not None and anchored.schedule["rules"][0]["starts"] == "2025-06-04"


@pytest.mark.parametrize(
    "days",
    [
        "Flexible",
        "Varies",
        "TBC",
        "By arrangement",
        "Monthly",
        "Monthly on Tuesday",
        "every 2nd Tuesday",
        "When the moon is full",
        "3rd",
    ],
)
def test_what_cannot_be_structured_is_kept_verbatim_with_a_warning(days: str) -> None:
    result = parse_schedule(days=days)
    assert result.schedule == {"text": days}
    assert len(result.warnings) == 1 and result.warnings[0][0] == "days"


def test_assumed_afternoon_time_is_said_in_a_warning() -> None:
    result = parse_schedule(days="Thursdays", time="7-9")
    assert result.schedule is not None and result.schedule["rules"][0]["opens"] == "19:00"
    assert result.warnings == [
        ("time", "read the time as 19:00-21:00 (afternoon/evening); write am or pm if that is wrong")
    ]


def test_unreadable_time_keeps_the_days_and_warns_on_the_time_column() -> None:
    result = parse_schedule(days="Tuesdays", time="after lunch")
    assert result.schedule == {"text": "Tuesdays; after lunch", "rules": [WEEKLY_TU]}
    assert [f for f, _ in result.warnings] == ["time"]


def test_one_off_dates_carry_their_times() -> None:
    result = parse_schedule(days=None, time="7pm-8pm", dates=[dt.date(2025, 12, 3)])
    assert result.schedule == {
        "text": "7pm-8pm",
        "dates": [{"date": "2025-12-03", "opens": "19:00", "closes": "20:00"}],
    }
    assert result.warnings == []


def test_nothing_written_means_no_schedule() -> None:
    assert parse_schedule(days=None, time=None).schedule is None


def test_very_long_schedule_text_is_cut_to_the_protocol_limit() -> None:
    result = parse_schedule(days="Tuesdays " + "and sometimes other days " * 20)
    assert result.schedule is not None and len(result.schedule["text"]) == 200
