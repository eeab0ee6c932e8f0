"""Free-text "when" → the protocol's ``Schedule``, or the words kept verbatim with a warning.

People write "Tuesdays 10.30-12.30", "Fri, Sat, Sun", "Every other Wednesday",
"1st & 3rd Monday of the month", "last Friday of the month 7-9pm".  What the
phrase tables below cover becomes RRULE-style rules; anything else (including
"Flexible") stays as ``schedule.text`` only, and the caller reports a warning
naming the row and column.  The publisher's own words are always kept in
``text`` so readers can see exactly what was written.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Final

from node.importer.cells import TimeRange, find_time_range

__all__ = [
    "DAYS",
    "DAY_GROUPS",
    "ORDINALS",
    "INTERVALS",
    "MONTHLY_MARKERS",
    "VAGUE",
    "FILLER",
    "ScheduleResult",
    "parse_schedule",
]

WEEK_ORDER: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAYS: Final[dict[str, str]] = {
    word: code
    for code, words in (
        ("MO", ("mon", "mons", "monday", "mondays", "llun", "dydd llun")),
        ("TU", ("tue", "tues", "tuesday", "tuesdays", "mawrth")),
        ("WE", ("wed", "weds", "wednesday", "wednesdays", "mercher")),
        ("TH", ("thu", "thur", "thurs", "thursday", "thursdays", "iau")),
        ("FR", ("fri", "fris", "friday", "fridays", "gwener")),
        ("SA", ("sat", "sats", "saturday", "saturdays", "sadwrn")),
        ("SU", ("sun", "suns", "sunday", "sundays", "sul")),
    )
    for word in words
}
DAY_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "weekdays": WEEK_ORDER[:5],
    "weekday": WEEK_ORDER[:5],
    "weekends": WEEK_ORDER[5:],
    "weekend": WEEK_ORDER[5:],
    "daily": WEEK_ORDER,
    "everyday": WEEK_ORDER,
    "every day": WEEK_ORDER,
    "7 days a week": WEEK_ORDER,
    "seven days a week": WEEK_ORDER,
}
ORDINALS: Final[dict[str, int]] = {
    "1st": 1,
    "first": 1,
    "2nd": 2,
    "second": 2,
    "3rd": 3,
    "third": 3,
    "4th": 4,
    "fourth": 4,
    "5th": 5,
    "fifth": 5,
    "last": -1,
    "final": -1,
}
# Phrase → weeks between sessions.  Longest phrases are matched first.
INTERVALS: Final[dict[str, int]] = {
    "every other week": 2,
    "every other": 2,
    "alternate": 2,
    "fortnightly": 2,
    "every fortnight": 2,
    "every 2 weeks": 2,
    "every two weeks": 2,
    "every 2nd week": 2,
    "every second week": 2,
    "every 3 weeks": 3,
    "every three weeks": 3,
    "every 4 weeks": 4,
    "every four weeks": 4,
    "weekly": 1,
    "every week": 1,
    "each week": 1,
}
MONTHLY_MARKERS: Final = (
    "of the month",
    "of each month",
    "of every month",
    "each month",
    "every month",
    "a month",
    "monthly",
    "in the month",
)
# Words that say "there is no fixed schedule": kept as text, with a warning.
VAGUE: Final = (
    "flexible",
    "varies",
    "various",
    "vary",
    "tbc",
    "tba",
    "to be confirmed",
    "by arrangement",
    "by appointment",
    "ad hoc",
    "as needed",
    "on request",
    "see website",
    "contact for",
    "dates vary",
)
FILLER: Final = frozenset(
    {
        "every",
        "each",
        "on",
        "the",
        "of",
        "a",
        "at",
        "and",
        "in",
        "s",
        "evening",
        "evenings",
        "morning",
        "mornings",
        "afternoon",
        "afternoons",
        "night",
        "nights",
        "lunchtime",
        "lunchtimes",
        "meets",
        "meet",
        "meeting",
        "day",
        "days",
        "from",
        "week",
        "weeks",
        "only",
        "session",
        "sessions",
        "dydd",
        "bob",
        "group",
        "am",
        "pm",
    }
)
_VAGUE_SEARCH: Final = re.compile("(?<![a-z])(?:" + "|".join(re.escape(v) for v in VAGUE) + ")")
_RANGE_WORDS: Final = ("-", "to", "till", "until", "through", "thru")


@dataclass
class ScheduleResult:
    """The schedule (protocol ``Schedule`` content) and warnings as (field, message) pairs."""

    schedule: dict[str, Any] | None
    warnings: list[tuple[str, str]] = field(default_factory=list)


def _tokens(s: str) -> list[str]:
    s = s.lower().replace("’", "'").replace("–", "-").replace("—", "-")
    s = re.sub(r"[,;/&+|()\[\].!?:]", " , ", s)
    s = re.sub(r"\band\b", " , ", s)
    s = re.sub(r"-", " - ", s)
    return s.split()


def _expand_ranges(tokens: list[str]) -> list[str]:
    """ "mon - fri" / "monday to friday" → the days in between."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if i + 2 < len(tokens) and tokens[i] in DAYS and tokens[i + 1] in _RANGE_WORDS and tokens[i + 2] in DAYS:
            a, b = WEEK_ORDER.index(DAYS[tokens[i]]), WEEK_ORDER.index(DAYS[tokens[i + 2]])
            span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
            out.extend(WEEK_ORDER[j].lower() + "@" for j in span)
            i += 3
            continue
        out.append(tokens[i])
        i += 1
    return out


@functools.cache
def _phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?![a-z0-9])")


def _strip_phrases(s: str, phrases: tuple[str, ...]) -> tuple[str, list[str]]:
    """Remove every phrase of the table from ``s`` (longest first); return what was found."""
    found: list[str] = []

    def take(m: re.Match[str]) -> str:
        found.append(m.group(0))
        return " "

    return _phrase_pattern(phrases).sub(take, s), found


def _ordered(codes: list[str]) -> list[str]:
    seen = dict.fromkeys(codes)
    return sorted(seen, key=lambda c: (WEEK_ORDER.index(c[-2:]), c))


def _parse_days(s: str) -> tuple[list[dict[str, Any]], str | None]:
    """Rules (without times) for a day phrase, or the reason it could not be structured."""
    low = " " + s.lower().replace("–", "-").replace("—", "-") + " "
    low, intervals = _strip_phrases(low, tuple(INTERVALS))
    low, monthly = _strip_phrases(low, MONTHLY_MARKERS)
    low, groups = _strip_phrases(low, tuple(DAY_GROUPS))
    interval = max((INTERVALS[p] for p in intervals), default=1)

    weekly: list[str] = [code for g in groups for code in DAY_GROUPS[g]]
    ordinal_days: list[str] = []
    pending: list[int] = []
    leftovers: list[str] = []
    for tok in _expand_ranges(_tokens(low)):
        if tok.endswith("@"):
            weekly.append(tok[:-1].upper())
        elif tok in DAYS:
            if pending:
                ordinal_days.extend(f"{o}{DAYS[tok]}" for o in pending)
                pending = []
            else:
                weekly.append(DAYS[tok])
        elif tok in ORDINALS:
            pending.append(ORDINALS[tok])
        elif tok == "," or tok in FILLER or tok == "-":
            continue
        else:
            leftovers.append(tok)
    if leftovers:
        return [], f"did not understand {' '.join(leftovers)!r}"
    if pending:
        return [], "an ordinal ('1st', 'last') without a day"
    if ordinal_days and not monthly and re.search(r"\bevery\b", s.lower()):
        return (
            [],
            "'every 2nd …' could mean fortnightly or monthly; write 'every other Tuesday' or '2nd Tuesday of the month'",
        )
    if monthly and weekly and not ordinal_days:
        return [], "a monthly day needs to say which one, like '1st Tuesday of the month'"
    if interval > 1 and ordinal_days:
        return [], "a monthly day repeating every few weeks is ambiguous"
    rules: list[dict[str, Any]] = []
    if weekly:
        rule: dict[str, Any] = {"freq": "weekly", "byday": _ordered(weekly)}
        if interval > 1:
            rule["interval"] = interval
        rules.append(rule)
    if ordinal_days:
        rules.append({"freq": "monthly", "byday": _ordered(ordinal_days)})
    if not rules:
        return [], "no day of the week given"
    return rules, None


def parse_schedule(
    *,
    days: str | None,
    frequency: str | None = None,
    time: str | None = None,
    times: TimeRange | None = None,
    dates: list[dt.date] | None = None,
    starts: dt.date | None = None,
) -> ScheduleResult:
    """Build a schedule from the "when" columns.

    ``days`` and ``frequency`` are free text (times written inside them are found
    too); ``time`` is the time column's text; ``times`` an already-parsed range
    (from separate start/end columns); ``dates`` one-off dates for events.
    """
    words = [w for w in (days, frequency, time) if w]
    verbatim = "; ".join(words)[:200] or None
    result = ScheduleResult(None)
    if not words and not dates:
        return result

    day_text = " ".join(w for w in (days, frequency) if w)
    if times is None and time:
        found = find_time_range(time)
        if found is None:
            result.warnings.append(
                ("time", f"{time!r} is not a time I can read; kept as written. Write it like 10:30-12:30 or 2pm-4pm")
            )
        else:
            times = found[0]
            rest = (time[: found[1][0]] + time[found[1][1] :]).strip(" ,;-")
            if rest:
                day_text = f"{day_text} {rest}".strip()
    if times is None and day_text:
        found = find_time_range(day_text)
        if found is not None:
            times = found[0]
            day_text = day_text[: found[1][0]] + " " + day_text[found[1][1] :]
    if times is not None and times.assumed:
        result.warnings.append(
            (
                "time",
                f"read the time as {times.opens}-{times.closes} (afternoon/evening); write am or pm if that is wrong",
            )
        )
    clock: dict[str, str] = {}
    if times is not None:
        clock["opens"] = times.opens
        if times.closes:
            clock["closes"] = times.closes

    schedule: dict[str, Any] = {}
    if verbatim:
        schedule["text"] = verbatim
    if dates:
        schedule["dates"] = [{"date": d.isoformat(), **clock} for d in sorted(set(dates))]

    stripped = day_text.strip(" ,;-")
    if stripped:
        if _VAGUE_SEARCH.search(stripped.lower()):
            result.warnings.append(("days", f"{stripped!r} has no fixed days, so it is shown as written"))
        else:
            rules, why = _parse_days(stripped)
            if why is not None:
                result.warnings.append(
                    (
                        "days",
                        f"{stripped!r}: {why}; kept as written. Write it like 'Tuesdays' or '1st Monday of the month'",
                    )
                )
            for rule in rules:
                rule.update(clock)
                if starts is not None:
                    rule["starts"] = starts.isoformat()
                elif rule.get("interval", 1) > 1:
                    result.warnings.append(
                        (
                            "days",
                            "every other week, but which weeks is unknown; add a Start date column with the date of one session",
                        )
                    )
            if rules:
                schedule["rules"] = rules
    elif not dates and times is not None:
        result.warnings.append(("days", "a time but no day is given; kept as written. Add the day(s) it meets"))
    result.schedule = schedule or None
    return result
