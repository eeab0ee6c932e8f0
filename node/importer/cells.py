"""Parsers for the values people really type into spreadsheet cells.

Each parser takes a raw cell (``str``, number, ``date``/``datetime``/``time``
from XLSX, or ``None``) and returns a clean value, or raises :class:`CellError`
whose message says what was wrong and what to write instead.  Blank cells are
the caller's business: parsers are only handed cells that have something in them.

Text is never interpreted: a cell that looks like a formula (``=``, ``+``, ``-``,
``@``) or holds HTML is kept as the characters it contains, and the pages that
show it escape it.  The lookup tables (yes/no words, delivery, topics,
languages …) are data, so a reader can scan what is understood.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final

from protocol.records import TOPICS

__all__ = [
    "CellValue",
    "CellError",
    "TimeRange",
    "text",
    "fold",
    "parse_date",
    "parse_time",
    "parse_time_range",
    "find_time_range",
    "parse_yes_no",
    "parse_phone",
    "parse_email",
    "parse_url",
    "parse_cost",
    "split_contact",
    "split_list",
    "parse_topics",
    "parse_languages",
    "parse_delivery",
    "parse_status",
    "parse_kind",
    "parse_join",
    "YES_WORDS",
    "NO_WORDS",
    "TOPIC_SYNONYMS",
    "LANGUAGES",
    "DELIVERY_WORDS",
    "STATUS_WORDS",
    "KIND_WORDS",
    "JOIN_WORDS",
]

CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None


class CellError(ValueError):
    """A cell that cannot be read; the message says what to write instead."""


# -- text -------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text(value: CellValue) -> str | None:
    """The cell as plain text: trimmed, NFC-normalised, control characters removed.

    Formula-looking and HTML content is kept verbatim: it is data, not markup.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        s = "TRUE" if value else "FALSE"
    elif isinstance(value, float) and value.is_integer():
        s = str(int(value))
    elif isinstance(value, dt.datetime):
        s = value.isoformat(sep=" ", timespec="minutes")
    elif isinstance(value, (dt.date, dt.time)):
        s = value.isoformat()
    else:
        s = str(value)
    s = _CONTROL.sub("", unicodedata.normalize("NFC", s)).replace("\r\n", "\n").replace("\r", "\n").strip()
    return s or None


def fold(value: str) -> str:
    """Lower case, accents and punctuation removed: the key lookup tables use."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("&", " and ").replace("+", " plus ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def split_list(value: CellValue, separators: str = r"[,;\n/|]") -> list[str]:
    """A cell holding several items: "a, b; c" → ["a", "b", "c"]."""
    s = text(value)
    if s is None:
        return []
    return [part.strip() for part in re.split(separators, s) if part.strip()]


# -- dates ------------------------------------------------------------------

_EXCEL_EPOCH: Final = dt.date(1899, 12, 30)  # serial 1 is 1900-01-01, after Excel's leap-year bug
_SERIAL_RANGE: Final = (18264, 73051)  # 1950-01-01 .. 2099-12-31: numbers outside are not dates
_MONTHS: Final[dict[str, int]] = {
    name: i
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_WEEKDAY_PREFIX = re.compile(r"^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*,?\s+", re.I)
_ISO_DATE = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:,?\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_WORDY_DATE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]+)\.?,?\s+(\d{4}|\d{2})$", re.I)
_US_WORDY_DATE = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$", re.I)
_DATE_HINT: Final = "write it day first, like 14/06/2025"


def _year(text_year: str) -> int:
    year = int(text_year)
    return 2000 + year if year < 100 else year


def _make_date(year: int, month: int, day: int, raw: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellError(f"{raw!r} is not a real date; {_DATE_HINT}") from None


def parse_date(value: CellValue) -> dt.date:
    """A date from a real date cell, an Excel serial number, ISO text, or UK day-first text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool) or value is None or isinstance(value, dt.time):
        raise CellError(f"{value!r} is not a date; {_DATE_HINT}")
    if isinstance(value, (int, float)):
        return _serial(float(value), str(value))
    raw = text(value) or ""
    s = _WEEKDAY_PREFIX.sub("", raw)
    if re.fullmatch(r"\d{5}(\.\d+)?", s):
        return _serial(float(s), raw)
    if m := _ISO_DATE.match(s):
        return _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)), raw)
    if m := _NUMERIC_DATE.match(s):
        return _make_date(_year(m.group(3)), int(m.group(2)), int(m.group(1)), raw)
    if (m := _WORDY_DATE.match(s)) and m.group(2).lower() in _MONTHS:
        return _make_date(_year(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)), raw)
    if (m := _US_WORDY_DATE.match(s)) and m.group(1).lower() in _MONTHS:
        return _make_date(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)), raw)
    raise CellError(f"{raw!r} is not a date I can read; {_DATE_HINT}")


def _serial(n: float, raw: str) -> dt.date:
    if not _SERIAL_RANGE[0] <= n <= _SERIAL_RANGE[1]:
        raise CellError(f"{raw!r} is not a date I can read; {_DATE_HINT}")
    return _EXCEL_EPOCH + dt.timedelta(days=int(n))


# -- times ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Opening and (optional) closing time as ``HH:MM``; ``assumed`` says "pm" was guessed."""

    opens: str
    closes: str | None = None
    assumed: bool = False


_TOKEN = r"(?P<{p}h>\d{{1,2}})(?:[:.](?P<{p}m>[0-5]\d))?\s*(?P<{p}ap>[ap]\.?m\.?)?"
_TOKEN_4 = r"(?P<{p}hhmm>(?:[01]\d|2[0-3])[0-5]\d)"
_SEPARATOR = r"\s*(?:-|–|—|to|till|til|until|'til|’til)\s*"
_RANGE = re.compile(
    r"(?<![\d:.])(?:"
    + _TOKEN_4.format(p="a")
    + "|"
    + _TOKEN.format(p="a")
    + ")"
    + _SEPARATOR
    + r"(?:"
    + _TOKEN_4.format(p="b")
    + "|"
    + _TOKEN.format(p="b")
    + r")(?![\d])",
    re.I,
)
_SINGLE = re.compile(
    r"(?<![\d:.])(?:(?P<ah>\d{1,2})[:.](?P<am>[0-5]\d)\s*(?P<aap>[ap]\.?m\.?)?|(?P<bh>\d{1,2})\s*(?P<bap>[ap]\.?m\.?))(?![\d])",
    re.I,
)
_NOON = (
    (re.compile(r"\b12\s*noon\b|\bnoon\b|\bmidday\b", re.I), "12pm"),
    (re.compile(r"\b12\s*midnight\b|\bmidnight\b", re.I), "12am"),
)
_TIME_HINT: Final = "write it like 10:30-12:30 or 2pm-4pm"


def _prepare(s: str) -> str:
    s = s.replace("–", "-").replace("—", "-")
    for pattern, repl in _NOON:
        s = pattern.sub(repl, s)
    return s


def _clock(h: int, m: int, ap: str | None, raw: str) -> tuple[int, int]:
    if ap:
        if not 1 <= h <= 12:
            raise CellError(f"{raw!r} has an impossible time; {_TIME_HINT}")
        h = h % 12 + (12 if ap == "p" else 0)
    elif h > 23:
        raise CellError(f"{raw!r} has an impossible time; {_TIME_HINT}")
    return h, m


def _fmt(hm: tuple[int, int]) -> str:
    return f"{hm[0]:02d}:{hm[1]:02d}"


def _side(m: re.Match[str], p: str) -> tuple[int, int, str | None, bool]:
    """(hour, minute, am/pm letter, written with a leading zero) for one end of a range."""
    if m.group(f"{p}hhmm"):
        v = m.group(f"{p}hhmm")
        return int(v[:2]), int(v[2:]), None, True
    h = m.group(f"{p}h")
    ap = m.group(f"{p}ap")
    return int(h), int(m.group(f"{p}m") or 0), (ap[0].lower() if ap else None), h.startswith("0")


def _resolve_range(m: re.Match[str], raw: str) -> TimeRange:
    h1, m1, ap1, zero1 = _side(m, "a")
    h2, m2, ap2, zero2 = _side(m, "b")
    assumed = False
    if ap2 and not ap1 and h1 <= 12:
        ap1 = ap2
        start, end = _clock(h1, m1, ap1, raw), _clock(h2, m2, ap2, raw)
        if ap2 == "p" and start > end:  # "11-1pm" is 11am to 1pm
            ap1 = "a"
    elif ap1 and not ap2 and h2 <= 12:
        ap2 = ap1
        if _clock(h2, m2, ap2, raw) < _clock(h1, m1, ap1, raw):  # "11am-1" is 11am to 1pm
            ap2 = "p" if ap1 == "a" else "a"
    elif not ap1 and not ap2:
        # Nobody meets for support from 2am to 4am: "2-4" and "6.30-8.30" are afternoon
        # or evening.  Written with a leading zero ("07:00") it is a 24-hour time.
        if 1 <= h1 <= 7 and not zero1:
            h1 += 12
            assumed = True
        if h2 <= 12 and not zero2 and (h2, m2) < (h1, m1) and h2 + 12 > h1:
            h2 += 12
            assumed = True
    start, end = _clock(h1, m1, ap1, raw), _clock(h2, m2, ap2, raw)
    return TimeRange(_fmt(start), _fmt(end), assumed)


def find_time_range(s: str) -> tuple[TimeRange, tuple[int, int]] | None:
    """The first time or time range inside longer text, with its span, or ``None``."""
    prepared = _prepare(s)
    if m := _RANGE.search(prepared):
        return _resolve_range(m, s), m.span()
    if m := _SINGLE.search(prepared):
        if m.group("ah"):
            hm = _clock(int(m.group("ah")), int(m.group("am")), (m.group("aap") or " ")[0].lower().strip() or None, s)
        else:
            hm = _clock(int(m.group("bh")), 0, m.group("bap")[0].lower(), s)
        return TimeRange(_fmt(hm)), m.span()
    return None


def parse_time_range(value: CellValue) -> TimeRange:
    """ "10.30-12.30", "6pm till 2am", "2-4pm", "19:00–20:30", "7pm", or a time cell."""
    if isinstance(value, (dt.time, dt.datetime)):
        return TimeRange(f"{value.hour:02d}:{value.minute:02d}")
    if isinstance(value, float) and 0 <= value < 1:  # Excel's fraction-of-a-day time
        minutes = round(value * 24 * 60)
        return TimeRange(f"{minutes // 60 % 24:02d}:{minutes % 60:02d}")
    raw = text(value) or ""
    found = find_time_range(raw)
    if found is None:
        raise CellError(f"{raw!r} is not a time I can read; {_TIME_HINT}")
    return found[0]


def parse_time(value: CellValue) -> str:
    """A single time ("10:30", "7pm", "1930", a time cell) as ``HH:MM``."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 23:
        return f"{value:02d}:00"
    s = text(value) if not isinstance(value, (dt.time, dt.datetime, float)) else None
    if s is not None and re.fullmatch(r"([01]\d|2[0-3])[0-5]\d", s):
        return f"{s[:2]}:{s[2:]}"
    if s is not None and re.fullmatch(r"\d{1,2}", s) and int(s) <= 23:
        return f"{int(s):02d}:00"
    return parse_time_range(value).opens


# -- yes / no ---------------------------------------------------------------

YES_WORDS: Final = frozenset(
    {
        "yes",
        "y",
        "true",
        "1",
        "x",
        "ok",
        "okay",
        "agreed",
        "agree",
        "consent",
        "consent given",
        "yes please",
        "private",
        "closed",
        "ja",
        "oui",
        "ydw",
        "ie",
    }
)
NO_WORDS: Final = frozenset(
    {
        "no",
        "n",
        "false",
        "0",
        "not",
        "none",
        "public",
        "open",
        "open to all",
        "not private",
        "no consent",
        "nope",
        "na",
        "n a",
        "na ddim",
        "nac ydw",
    }
)
_TICKS: Final = frozenset({"✓", "✔", "☑", "✅"})


def parse_yes_no(
    value: CellValue, *, yes_words: frozenset[str] = YES_WORDS, no_words: frozenset[str] = NO_WORDS
) -> bool:
    """ "Yes", "y", "TRUE", "1", a tick → True; "No", "n", "FALSE", "0" → False.

    ``yes_words`` and ``no_words`` are the folded words read as each answer;
    :mod:`node.importer.privacy` passes its own tables for private and consent.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    raw = text(value) or ""
    if raw in _TICKS:
        return True
    key = fold(raw)
    if key in yes_words:
        return True
    if key in no_words:
        return False
    first = key.split(" ")[0] if key else ""
    if first in ("yes", "y"):
        return True
    if first in ("no", "n", "not"):
        return False
    raise CellError(f"{raw!r} is not yes or no; write Yes or No")


# -- contact details --------------------------------------------------------

_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"']{1,64}@[^@\s<>()\[\],;:\"']{1,190}\.[a-z]{2,}", re.I)
_PHONE_IN_TEXT = re.compile(r"(?:\+44\s?\(0\)\s?|\+44\s?|\(?0)[\d\s()-]{8,16}\d|\b[1-9]\d{9}\b")


def _format_national(d: str) -> str:
    if d.startswith("02"):
        return f"{d[:3]} {d[3:7]} {d[7:]}"
    if len(d) == 11 and (d.startswith(("011", "03", "05", "08", "09")) or (d.startswith("01") and d[3] == "1")):
        return f"{d[:4]} {d[4:7]} {d[7:]}"
    return f"{d[:5]} {d[5:]}"


def parse_phone(value: CellValue) -> str:
    """A UK phone number, restoring a leading zero a spreadsheet dropped (1132345678 → 0113 234 5678)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    raw = text(value) or ""
    s = re.sub(r"^(tel|phone|mob|mobile|t|m)\s*[:.]?\s*", "", raw, flags=re.I)
    s = re.sub(r"\s*(ext\.?|extension|x)\s*\d+$", "", s, flags=re.I)
    digits = re.sub(r"\D", "", s)
    if s.startswith("+") and not s.startswith("+44"):
        if 7 <= len(digits) <= 15:
            return "+" + digits
        raise CellError(f"{raw!r} is not a phone number I can read; write it like 0113 234 5678")
    if s.startswith("+44") or (digits.startswith("44") and len(digits) == 12):
        digits = "0" + digits[2:].removeprefix("0")
    elif len(digits) == 10 and digits[0] in "1235789":
        digits = "0" + digits  # the spreadsheet stored it as a number and lost the zero
    if digits in ("999", "111", "112"):
        return digits
    if re.fullmatch(r"116\d{3}", digits):
        return f"{digits[:3]} {digits[3:]}"
    if re.fullmatch(r"0\d{9,10}", digits):
        return _format_national(digits)
    raise CellError(f"{raw!r} is not a phone number I can read; write it like 0113 234 5678")


def parse_email(value: CellValue) -> str:
    raw = text(value) or ""
    s = raw.removeprefix("mailto:").strip().strip("<>")
    if not _EMAIL.fullmatch(s):
        raise CellError(f"{raw!r} is not an email address; write it like name@example.org")
    return s


def split_contact(value: CellValue) -> tuple[str | None, str | None, str | None]:
    """One cell with any of name, email and phone ("Sam, sam@x.org, 07700 900123") → the three parts."""
    raw = text(value) or ""
    email = None
    if m := _EMAIL.search(raw):
        email = m.group(0)
        raw = raw[: m.start()] + " " + raw[m.end() :]
    phone = None
    if m := _PHONE_IN_TEXT.search(raw):
        try:
            phone = parse_phone(m.group(0))
            raw = raw[: m.start()] + " " + raw[m.end() :]
        except CellError:
            phone = None
    name = re.sub(r"(?i)\b(e-?mail|tel|phone|mob|mobile|name)\s*:", " ", raw)
    name = " ".join(re.sub(r"[,;|\n]+", " ", name).split()).strip(" -–:/")
    return (name or None), email, phone


# -- links and money --------------------------------------------------------

_BARE_URL = re.compile(r"^(?:www\.)?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+(?:[/?#]\S*)?$", re.I)


def parse_url(value: CellValue) -> str:
    """A web address; "www.example.org" gets ``https://``."""
    raw = text(value) or ""
    s = raw.strip().strip("<>")
    if re.fullmatch(r"https?://[^\s]{1,2000}", s, re.I):
        return re.sub(r"^HTTPS?", lambda m: m.group(0).lower(), s, flags=re.I)
    if _BARE_URL.fullmatch(s) and len(s) <= 2000:
        return "https://" + s
    raise CellError(f"{raw!r} is not a web address; write it like https://example.org/page")


_FREE = re.compile(r"^(free|no cost|no charge|nothing|none|nil|£?0(\.00)?|0p|n/?a)\b", re.I)


def parse_cost(value: CellValue) -> dict[str, Any]:
    """ "Free" → {"free": True}; "£2" or 2 → {"free": False, "details": "£2"}; "Free, donations welcome" keeps the words."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value == 0:
            return {"free": True}
        amount = f"{value:.2f}".removesuffix(".00")
        return {"free": False, "details": f"£{amount}"}
    raw = text(value) or ""
    if re.fullmatch(r"\d+(\.\d{1,2})?", raw):
        return parse_cost(float(raw))
    if _FREE.match(raw):
        rest = _FREE.sub("", raw).strip(" .,-–:;")
        return {"free": True, "details": raw} if rest else {"free": True}
    return {"free": False, "details": raw}


# -- lookup tables ----------------------------------------------------------

# Words people use for each topic; the slugs and labels of TOPICS match too.
TOPIC_SYNONYMS: Final[dict[str, str]] = {
    "voices": "hearing-voices",
    "hearing voices": "hearing-voices",
    "voice hearers": "hearing-voices",
    "bipolar disorder": "bipolar",
    "manic depression": "bipolar",
    "low mood": "depression",
    "depressed": "depression",
    "panic": "anxiety",
    "worry": "anxiety",
    "stress": "anxiety",
    "paranoia": "psychosis",
    "schizophrenia": "psychosis",
    "unusual beliefs": "psychosis",
    "eating disorder": "eating-difficulties",
    "eating disorders": "eating-difficulties",
    "anorexia": "eating-difficulties",
    "bulimia": "eating-difficulties",
    "self injury": "self-harm",
    "self harm": "self-harm",
    "bereaved by suicide": "suicide-bereavement",
    "suicide bereavement": "suicide-bereavement",
    "bereavement by suicide": "suicide-bereavement",
    "suicidal thoughts": "suicidal-feelings",
    "suicide": "suicidal-feelings",
    "carer": "carers",
    "caring": "carers",
    "family and friends": "carers",
    "lgbt": "lgbtq",
    "lgbtq": "lgbtq",
    "lgbtqia": "lgbtq",
    "lgbtq plus": "lgbtq",
    "lgbt plus": "lgbtq",
    "queer": "lgbtq",
    "trans": "lgbtq",
    "gay": "lgbtq",
    "male": "men",
    "mens": "men",
    "female": "women",
    "womens": "women",
    "youth": "young-people",
    "young adults": "young-people",
    "teenagers": "young-people",
    "older adults": "older-people",
    "over 50s": "older-people",
    "over 60s": "older-people",
    "elderly": "older-people",
    "bame": "black-and-minoritised",
    "bme": "black-and-minoritised",
    "global majority": "black-and-minoritised",
    "racially minoritised": "black-and-minoritised",
    "armed forces": "veterans",
    "veteran": "veterans",
    "ex forces": "veterans",
    "postnatal": "perinatal",
    "antenatal": "perinatal",
    "maternal": "perinatal",
    "new parents": "perinatal",
    "mums": "perinatal",
    "art": "creative",
    "arts": "creative",
    "craft": "creative",
    "crafts": "creative",
    "music": "creative",
    "writing": "creative",
    "walk": "walking",
    "walks": "walking",
    "nature": "walking",
    "bpd": "personality-disorder",
    "eupd": "personality-disorder",
    "ptsd": "trauma",
    "abuse": "trauma",
    "alcohol": "addiction",
    "drugs": "addiction",
    "recovery": "addiction",
    "substance use": "addiction",
    "gambling": "addiction",
    "autism": "neurodivergent",
    "autistic": "neurodivergent",
    "adhd": "neurodivergent",
    "neurodiversity": "neurodivergent",
    "isolation": "loneliness",
    "lonely": "loneliness",
    "social isolation": "loneliness",
    "peer support work": "peer-work",
    "peer worker": "peer-work",
    "peer workers": "peer-work",
    "mental health": "wellbeing",
    "general": "wellbeing",
    "well being": "wellbeing",
    "mental wellbeing": "wellbeing",
    "obsessive compulsive disorder": "ocd",
}
_TOPIC_KEYS: Final[dict[str, str]] = {
    **{fold(slug): slug for slug in TOPICS},
    **{fold(label): slug for slug, label in TOPICS.items()},
    **{fold(k): v for k, v in TOPIC_SYNONYMS.items()},
}
_TOPIC_SEARCH: Final = re.compile(
    r"\b(?:" + "|".join(re.escape(w) for w in sorted(_TOPIC_KEYS, key=len, reverse=True)) + r")\b"
)


def parse_topics(value: CellValue) -> tuple[list[str], list[str]]:
    """Topic slugs from free text, and the items that matched nothing (to warn about)."""
    slugs: list[str] = []
    unknown: list[str] = []
    for item in split_list(value):
        key = fold(item)
        if key in _TOPIC_KEYS:
            found = [_TOPIC_KEYS[key]]
        else:  # words inside a longer phrase, in the order they were written
            found = [_TOPIC_KEYS[m.group(0)] for m in _TOPIC_SEARCH.finditer(key)]
        if not found:
            unknown.append(item)
        for slug in found:
            if slug not in slugs:
                slugs.append(slug)
    return slugs, unknown


LANGUAGES: Final[dict[str, str]] = {
    "english": "en",
    "welsh": "cy",
    "cymraeg": "cy",
    "scottish gaelic": "gd",
    "gaelic": "gd",
    "irish": "ga",
    "bsl": "bfi",
    "british sign language": "bfi",
    "sign language": "bfi",
    "urdu": "ur",
    "punjabi": "pa",
    "polish": "pl",
    "arabic": "ar",
    "bengali": "bn",
    "bangla": "bn",
    "sylheti": "syl",
    "gujarati": "gu",
    "hindi": "hi",
    "tamil": "ta",
    "somali": "so",
    "french": "fr",
    "spanish": "es",
    "portuguese": "pt",
    "romanian": "ro",
    "italian": "it",
    "german": "de",
    "lithuanian": "lt",
    "latvian": "lv",
    "russian": "ru",
    "ukrainian": "uk",
    "turkish": "tr",
    "kurdish": "ku",
    "sorani": "ckb",
    "farsi": "fa",
    "persian": "fa",
    "dari": "prs",
    "pashto": "ps",
    "tigrinya": "ti",
    "amharic": "am",
    "swahili": "sw",
    "yoruba": "yo",
    "igbo": "ig",
    "twi": "tw",
    "chinese": "zh",
    "mandarin": "zh",
    "cantonese": "yue",
    "vietnamese": "vi",
    "greek": "el",
    "albanian": "sq",
    "bulgarian": "bg",
    "hungarian": "hu",
    "czech": "cs",
    "slovak": "sk",
    "nepali": "ne",
}
_LANGUAGE_CODES: Final = frozenset(LANGUAGES.values())


def parse_languages(value: CellValue) -> tuple[list[str], list[str]]:
    """Language codes from names ("English, Welsh, BSL" → en, cy, bfi), and the unknown names."""
    codes: list[str] = []
    unknown: list[str] = []
    for item in split_list(value, r"[,;\n/|]|\band\b|&"):
        key = fold(item)
        code = LANGUAGES.get(key) or (key if key in _LANGUAGE_CODES else None)
        if code is None:
            unknown.append(item)
        elif code not in codes:
            codes.append(code)
    return codes, unknown


# Each table: (value, words that mean it), checked in order, first hit wins.
DELIVERY_WORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("hybrid", ("both", "hybrid", "mixed", "blended", "either")),
    ("in_person", ("face to face", "in person", "f2f", "venue", "face")),
    ("online", ("online", "zoom", "teams", "virtual", "video", "internet", "web")),
    ("phone", ("phone", "telephone", "call")),
)
STATUS_WORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("paused", ("paused", "on hold", "suspended", "temporarily", "not running", "on a break", "break")),
    ("closed", ("closed", "ended", "finished", "stopped", "no longer", "cancelled", "canceled", "inactive")),
    ("active", ("active", "running", "open", "yes", "ongoing", "current", "live")),
)
KIND_WORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("training", ("training", "course", "workshop")),
    ("role", ("role", "volunteer", "vacancy", "job", "peer worker", "opportunity")),
    ("event", ("event", "one off", "talk", "conference", "festival")),
    ("service", ("service", "helpline", "one to one", "1 to 1", "advocacy", "drop in centre")),
    ("resource", ("resource", "website", "app", "leaflet", "book", "podcast")),
    ("organisation", ("organisation", "organization", "charity", "org")),
    ("group", ("group", "meeting", "peer support", "circle", "club", "cafe")),
)
JOIN_WORDS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("drop_in", ("no need to book", "drop in", "turn up", "just come", "come along", "walk in", "open to all")),
    ("referral", ("referral", "referred", "refer", "gp", "care coordinator", "professional")),
    ("booking", ("book", "booking", "register", "registration", "eventbrite", "sign up", "reserve", "ticket")),
    ("contact_first", ("contact", "call", "phone", "email", "get in touch", "ring", "message", "text", "speak to")),
)


@functools.cache
def _patterns(table: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """One compiled alternation per value of a word table (compiled once, not per cell)."""
    return tuple(
        (value, re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b"))
        for value, words in table
    )


def _lookup(table: tuple[tuple[str, tuple[str, ...]], ...], raw: str) -> str | None:
    key = fold(raw)
    for value, pattern in _patterns(table):
        if pattern.search(key):
            return value
    return None


def _in_person_and_remote(key: str) -> bool:
    in_person = _lookup(DELIVERY_WORDS[1:2], key) is not None
    remote = _lookup(DELIVERY_WORDS[2:], key) is not None
    return in_person and remote


def parse_delivery(value: CellValue) -> str:
    """ "Face to face" → in_person; "Online (Zoom)" → online; "Both" or "face to face and online" → hybrid."""
    raw = text(value) or ""
    if _in_person_and_remote(raw):
        return "hybrid"
    found = _lookup(DELIVERY_WORDS, raw)
    if found is None:
        raise CellError(f"{raw!r} is not a way of meeting I know; write Face to face, Online, Phone or Both")
    return found


def _one_of(table: tuple[tuple[str, tuple[str, ...]], ...], value: CellValue, what: str, write: str) -> str:
    """The table's value for a cell, or a CellError saying what to write instead."""
    raw = text(value) or ""
    found = _lookup(table, raw)
    if found is None:
        raise CellError(f"{raw!r} is not {what} I know; write {write}")
    return found


def parse_status(value: CellValue) -> str:
    return _one_of(STATUS_WORDS, value, "a status", "Active, Paused or Closed")


def parse_kind(value: CellValue) -> str:
    return _one_of(
        KIND_WORDS, value, "a kind of listing", "group, service, event, role, training, resource or organisation"
    )


_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"')]+", re.I)


def parse_join(value: CellValue) -> tuple[dict[str, Any], bool]:
    """How to join, as the protocol's ``Join``, and whether the method was only a fallback guess."""
    raw = text(value) or ""
    found = _lookup(JOIN_WORDS, raw)
    join: dict[str, Any] = {"method": found or "contact_first", "details": raw[:8000]}
    if m := _URL_IN_TEXT.search(raw):
        join["url"] = m.group(0).rstrip(".,;")
    return join, found is None
