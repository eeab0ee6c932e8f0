"""The next session shown beside every result is read from occurrences held per schedule and day
(node.directory.schedule._days_from); it must be exactly what widening the search from ``now`` gives,
whatever the time of day, the clock change, an overnight session or a moved or cancelled date."""

from __future__ import annotations

import datetime as dt

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from node.directory.schedule import _HORIZONS, LONDON, Occurrence, next_occurrence, occurrences
from protocol.records import Schedule


def widened(schedule: Schedule, now: dt.datetime) -> Occurrence | None:
    """The rule as first written: the first occurrence over ever wider spans from ``now``."""
    for horizon in _HORIZONS:
        found = occurrences(schedule, now, now + horizon)
        if found:
            return found[0]
    return None


# Around both clock changes of 2026 (29 March, 25 October), and an ordinary week.
_STARTS = [dt.date(2026, 3, d) for d in (20, 28, 29)] + [dt.date(2026, 10, d) for d in (17, 24, 25)]
_DAYS = st.sampled_from([*_STARTS, dt.date(2026, 11, 24)]).flatmap(
    lambda d: st.integers(0, 10).map(lambda k: d + dt.timedelta(days=k))
)
_TIMES = st.sampled_from(["00:00", "00:30", "01:30", "07:00", "10:30", "18:00", "19:30", "22:00", "23:30"])


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    rules = []
    for _ in range(draw(st.integers(0, 2))):
        rule: dict[str, object] = {
            "freq": draw(st.sampled_from(["weekly", "monthly"])),
            "byday": [draw(st.sampled_from(["MO", "TU", "SA", "SU", "1MO", "-1FR", "2SA"]))],
            "interval": draw(st.integers(1, 3)),
        }
        if rule["freq"] == "weekly":
            rule["byday"] = [str(b)[-2:] for b in rule["byday"]]  # type: ignore[attr-defined]
        if draw(st.booleans()):
            rule["opens"] = draw(_TIMES)
            if draw(st.booleans()):
                rule["closes"] = draw(_TIMES)  # earlier than opens: past midnight
        if draw(st.booleans()):
            rule["starts"] = draw(_DAYS).isoformat()
        if draw(st.booleans()):
            rule["until"] = draw(_DAYS).isoformat()
        rules.append(rule)
    dates = [
        {"date": draw(_DAYS).isoformat(), "opens": draw(_TIMES), "closes": draw(_TIMES)}
        for _ in range(draw(st.integers(0, 2)))
    ]
    exceptions = []
    for _ in range(draw(st.integers(0, 2))):
        exc: dict[str, object] = {"date": draw(_DAYS).isoformat()}
        if draw(st.booleans()):
            exc["moved_to"] = {"date": draw(_DAYS).isoformat(), "opens": draw(_TIMES)}
        exceptions.append(exc)
    return msgspec.convert(
        {"rules": rules, "dates": dates, "exceptions": exceptions, "not_on_bank_holidays": draw(st.booleans())},
        Schedule,
    )


@settings(max_examples=400, deadline=None)
@given(schedule=schedules(), day=_DAYS, minute=st.integers(0, 24 * 60 - 1), utc=st.booleans())
def test_next_session_from_the_days_held_is_the_one_widening_finds(
    schedule: Schedule, day: dt.date, minute: int, utc: bool
) -> None:
    now = dt.datetime.combine(day, dt.time(), LONDON) + dt.timedelta(minutes=minute)
    if utc:
        now = now.astimezone(dt.UTC)
    assert next_occurrence(schedule, now) == widened(schedule, now)


def test_a_session_under_way_at_the_last_minute_of_a_day_is_still_next() -> None:
    """Held from the day's midnight, an overnight session begun before ``now`` still counts."""
    schedule = msgspec.convert(
        {"rules": [{"freq": "weekly", "byday": ["SA"], "opens": "22:00", "closes": "02:00"}]}, Schedule
    )
    now = dt.datetime(2026, 10, 25, 1, 30, tzinfo=LONDON)  # the clocks go back at 02:00 that night
    found = next_occurrence(schedule, now)
    assert found is not None and found == widened(schedule, now)
    assert found.start == dt.datetime(2026, 10, 24, 22, 0, tzinfo=LONDON)


def test_an_all_day_session_counts_after_a_timed_one_at_the_same_midnight_is_over() -> None:
    """Two rules on one Monday, one all day and one at midnight with no end: at 1am only the all-day
    one is still on.  Found by the property test when the held sessions were de-duplicated before the
    overlap test (the timed one, listed last, hid the all-day one)."""
    schedule = msgspec.convert(
        {"rules": [{"freq": "weekly", "byday": ["MO"]}, {"freq": "weekly", "byday": ["MO"], "opens": "00:00"}]},
        Schedule,
    )
    now = dt.datetime(2026, 3, 23, 1, 0, tzinfo=LONDON)
    found = next_occurrence(schedule, now)
    assert found == widened(schedule, now)
    assert found is not None and found.all_day and found.start == dt.datetime(2026, 3, 23, tzinfo=LONDON)
