"""Search filters: parsed once from query parameters, matched the same way everywhere.

The public pages, the JSON API and slice feeds all take the same parameters
(:data:`FILTER_PARAMS`), so they share :func:`parse_filters` and
:func:`to_params`.  :func:`matches` decides whether one record is in a
filtered set with exactly the rules :func:`node.directory.search.search` applies in SQL
(the SQL only narrows candidates cheaply; the exact checks are the functions
below, used by both):

- closed listings never match; a listing not checked (``reviewed``) for
  :data:`~node.directory.freshness.HIDDEN_DAYS` is hidden.  A listing with no ``reviewed``
  date is shown (and flagged as possibly out of date).
- ``q``: every word must appear (prefix match, English stemming, accents
  ignored) in the name, summary, description, topics, area or audience.  The
  words go through the very FTS5 tokenizer the search index uses.
- ``near``/``within``: in-person listings within the radius of the place.
  A listing offered online or by phone matches any place (it is offered
  alongside local ones), unless ``delivery`` rules that mode out.
  A listing with a ``service_area`` (spec §2.2, §2.6) is offered that way only to a
  place inside its area (:func:`serves`).
- ``delivery``: ``hybrid`` listings count as both in person and online.
- ``when``: see :data:`WHENS`; the exact occurrences come from
  :mod:`node.directory.schedule`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from node.core.errors import BadRequest
from node.directory.ending import has_ended
from node.directory.freshness import HIDDEN_DAYS, STALE_DAYS
from node.directory.geo import Place, distance_km
from node.directory.schedule import LONDON, Occurrence, effective_end, occurrences
from protocol.records import KINDS, PUBLISHER_PATTERN, TOPICS, AreaLocation, PublicLocation, Record, Schedule

__all__ = [
    "FILTER_PARAMS",
    "WHENS",
    "DELIVERY_FILTERS",
    "DEFAULT_RADIUS_KM",
    "EVENING_FROM",
    "Filters",
    "FilterError",
    "parse_filters",
    "to_params",
    "matches",
    "words",
    "fts_query",
    "radius_km",
    "remote_ok",
    "delivery_values",
    "when_window",
    "when_days",
    "in_window",
    "within_reach",
    "serves",
    "day_span",
    "occurs",
    "is_hidden",
    "is_stale",
    "hidden_cutoff",
]

FILTER_PARAMS: Final = frozenset({"q", "near", "within", "kind", "topic", "delivery", "free", "when", "publisher"})

When = Literal["today", "tomorrow", "this-weekend", "weekday-evenings", "open-now"]
WHENS: Final[dict[str, str]] = {
    "today": "Today (from now until midnight)",
    "tomorrow": "Tomorrow",
    "this-weekend": "This weekend (Friday 5pm to Sunday midnight)",
    "weekday-evenings": "Weekday evenings (Monday to Friday, starting 5pm or later, in the next four weeks)",
    "open-now": "On now",
}
EVENING_FROM: Final = dt.time(17, 0)
EVENINGS_AHEAD: Final = dt.timedelta(days=28)

DELIVERY_FILTERS: Final[dict[str, str]] = {"in_person": "In person", "online": "Online", "phone": "By phone"}
# Which listing delivery values each filter value accepts (hybrid is in person and online).
_DELIVERY_ACCEPTS: Final[dict[str, tuple[str, ...]]] = {
    "in_person": ("in_person", "hybrid"),
    "online": ("online", "hybrid"),
    "phone": ("phone",),
}
# Modes in which a listing can be joined from anywhere.
_REMOTE_MODES: Final[dict[str, frozenset[str]]] = {
    "in_person": frozenset(),
    "online": frozenset({"online"}),
    "hybrid": frozenset({"online"}),
    "phone": frozenset({"phone"}),
}
DEFAULT_RADIUS_KM: Final[dict[str, float]] = {
    "postcode": 8.0,
    "sector": 8.0,
    "outcode": 10.0,
    "authority": 15.0,
    # Named places from the gazetteer (node.directory.places) and the coordinator's own names.
    "city": 15.0,
    "town": 10.0,
    "suburb": 8.0,
    "village": 8.0,
    "locality": 8.0,
    "hamlet": 8.0,
    "local": 8.0,
}
MAX_RADIUS_KM: Final = 200.0
MAX_Q_CHARS: Final = 200
MAX_WORDS: Final = 8
MAX_WORD_CHARS: Final = 40
# Words too common to narrow a search; dropped so "groups for carers" finds carers' groups.
STOPWORDS: Final = frozenset(
    [
        "a",
        "an",
        "and",
        "any",
        "are",
        "at",
        "by",
        "for",
        "from",
        "i",
        "in",
        "is",
        "it",
        "me",
        "my",
        "near",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
    ]
)
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "no", "off"})
_WITHIN = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,2})?)\s*(?:km)?\s*$", re.I)
_WORD = re.compile(r"\w+", re.UNICODE)


class FilterError(BadRequest):
    """A filter parameter has a value we do not understand; says which and what is allowed."""

    reason = "bad-filter"

    def __init__(self, param: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(f"{param}: {message}", hint=hint)
        self.param = param
        self.problem = message


@dataclass(frozen=True)
class Filters:
    """What a searcher asked for.  Empty tuples and ``None`` mean "any"."""

    q: str = ""
    near: str = ""
    within_km: float | None = None
    kind: tuple[str, ...] = ()
    topic: tuple[str, ...] = ()
    delivery: tuple[str, ...] = ()
    free: bool = False
    when: str | None = None
    publisher: str | None = None
    words: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", words(self.q))

    @property
    def empty(self) -> bool:
        return self == Filters()


def words(q: str) -> tuple[str, ...]:
    """The searchable words of ``q``: lower-cased, stop words dropped, at most :data:`MAX_WORDS`."""
    out: list[str] = []
    for w in _WORD.findall(q[:MAX_Q_CHARS].lower()):
        w = w.strip("_")[:MAX_WORD_CHARS]
        if w and w not in STOPWORDS and w not in out:
            out.append(w)
    return tuple(out[:MAX_WORDS])


def fts_query(ws: Iterable[str]) -> str:
    """An FTS5 MATCH expression: each word quoted (so no FTS syntax survives) and prefix-matched."""
    return " ".join('"' + w.replace('"', '""') + '"*' for w in ws)


def _values(params: Mapping[str, str], name: str) -> list[str]:
    getall = getattr(params, "getall", None)
    raw = getall(name, []) if getall is not None else ([params[name]] if name in params else [])
    out: list[str] = []
    for value in raw:
        for part in str(value).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def _one(params: Mapping[str, str], name: str) -> str:
    getall = getattr(params, "getall", None)
    raw = getall(name, []) if getall is not None else ([params[name]] if name in params else [])
    values = [str(v) for v in raw if str(v).strip()]
    if len(values) > 1:
        raise FilterError(name, "was given more than once")
    return " ".join(values[0].split()) if values else ""


def _choices(
    params: Mapping[str, str], name: str, allowed: Iterable[str], aliases: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    allowed = tuple(allowed)
    out = []
    for v in _values(params, name):
        key = v.lower().replace(" ", "-")
        key = (aliases or {}).get(key, key)
        if key not in allowed:
            raise FilterError(name, f"{v[:40]!r} is not one we know", hint=f"use one of: {', '.join(allowed)}")
        out.append(key)
    return tuple(sorted(set(out), key=allowed.index))


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Filters from query parameters (a dict or aiohttp's MultiDict; lists may repeat or be comma-separated).

    Parameters not in :data:`FILTER_PARAMS` are ignored, so callers can mix in
    their own (``page``, ``afterChangeNumber``).  Raises :class:`FilterError`
    naming the parameter for any value we do not understand.
    """
    q = _one(params, "q")
    if len(q) > MAX_Q_CHARS:
        q = q[:MAX_Q_CHARS]
    near = _one(params, "near")
    if len(near) > 100:
        raise FilterError("near", "is too long for a place name or postcode")
    within_raw = _one(params, "within")
    within = None
    if within_raw:
        m = _WITHIN.match(within_raw)
        if not m or not (0.5 <= float(m.group(1)) <= MAX_RADIUS_KM):
            raise FilterError(
                "within",
                f"{within_raw[:40]!r} is not a distance",
                hint=f"give kilometres from 0.5 to {MAX_RADIUS_KM:g}, like 10km",
            )
        if not near:
            raise FilterError("within", "needs a place to measure from", hint="add near=, a postcode or town")
        within = float(m.group(1))
    free_raw = _one(params, "free").lower()
    if free_raw not in _TRUE | _FALSE:
        raise FilterError("free", f"{free_raw[:40]!r} is not yes or no", hint="use free=1 for free listings only")
    when_raw = _one(params, "when").lower().replace(" ", "-").replace("_", "-")
    if when_raw and when_raw not in WHENS:
        raise FilterError("when", f"{when_raw[:40]!r} is not one we know", hint=f"use one of: {', '.join(WHENS)}")
    publisher = _one(params, "publisher") or None
    if publisher is not None and not re.match(PUBLISHER_PATTERN, publisher):
        raise FilterError(
            "publisher", "is not a publisher id", hint="publisher ids look like sp1: followed by 26 letters and digits"
        )
    return Filters(
        q=q,
        near=near,
        within_km=within,
        kind=_choices(params, "kind", KINDS),
        topic=_choices(params, "topic", TOPICS),
        delivery=_choices(
            params,
            "delivery",
            DELIVERY_FILTERS,
            {"in-person": "in_person", "inperson": "in_person", "telephone": "phone"},
        ),
        free=free_raw in _TRUE,
        when=when_raw or None,
        publisher=publisher,
    )


def to_params(filters: Filters) -> dict[str, str]:
    """Query parameters that :func:`parse_filters` turns back into equal filters (only what is set)."""
    out: dict[str, str] = {}
    if filters.q:
        out["q"] = filters.q
    if filters.near:
        out["near"] = filters.near
    if filters.within_km is not None:
        out["within"] = f"{filters.within_km:g}km"
    for name in ("kind", "topic", "delivery"):
        values: tuple[str, ...] = getattr(filters, name)
        if values:
            out[name] = ",".join(values)
    if filters.free:
        out["free"] = "1"
    if filters.when:
        out["when"] = filters.when
    if filters.publisher:
        out["publisher"] = filters.publisher
    return out


# -- the shared exact checks ------------------------------------------------


def radius_km(filters: Filters, place: Place) -> float:
    """``within``, or a default that suits how precise the place is."""
    return filters.within_km if filters.within_km is not None else DEFAULT_RADIUS_KM[place.kind]


def delivery_values(filters: Filters) -> tuple[str, ...]:
    """Listing ``delivery`` values the filter accepts (empty: any)."""
    out: list[str] = []
    for d in filters.delivery:
        out += [v for v in _DELIVERY_ACCEPTS[d] if v not in out]
    return tuple(out)


def remote_ok(delivery: str, filters: Filters) -> bool:
    """Whether a listing with this delivery matches any ``near`` (offered online or by phone)."""
    modes = _REMOTE_MODES.get(delivery, frozenset())
    allowed = set(filters.delivery) if filters.delivery else {"online", "phone"}
    return bool(modes & allowed)


def hidden_cutoff(now: dt.datetime) -> str:
    """Listings last checked before this date (ISO) are hidden from search."""
    return (now.astimezone(LONDON).date() - dt.timedelta(days=HIDDEN_DAYS)).isoformat()


def is_hidden(status: str, reviewed: str | None, now: dt.datetime, *, kept_visible: bool = False) -> bool:
    """Closed, or unchecked for HIDDEN_DAYS, unless the coordinator chose to keep it visible (node.storage.console)."""
    return status == "closed" or (not kept_visible and reviewed is not None and reviewed < hidden_cutoff(now))


def is_stale(reviewed: str | None, today: dt.date) -> bool:
    """ "May be out of date": not checked for :data:`~node.directory.freshness.STALE_DAYS`, or never."""
    return reviewed is None or reviewed < (today - dt.timedelta(days=STALE_DAYS)).isoformat()


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=LONDON)


@functools.lru_cache(maxsize=64)
def when_window(when: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The span of time a ``when`` value asks about, in London time (memoised: a search asks it per candidate)."""
    now = now.astimezone(LONDON)
    today = now.date()
    if when == "today":
        return now, _midnight(today + dt.timedelta(days=1))
    if when == "tomorrow":
        return _midnight(today + dt.timedelta(days=1)), _midnight(today + dt.timedelta(days=2))
    if when == "this-weekend":
        friday = today + dt.timedelta(days=4 - today.weekday())
        start = dt.datetime.combine(friday, EVENING_FROM, tzinfo=LONDON)
        return max(now, start), _midnight(friday + dt.timedelta(days=3))
    if when == "weekday-evenings":
        return now, now + EVENINGS_AHEAD
    if when == "open-now":
        return now, now + dt.timedelta(minutes=1)
    raise ValueError(f"unknown when {when!r}")


def when_days(when: str, now: dt.datetime) -> tuple[dt.date, dt.date]:
    """Whole London days covering the window, plus the day before (overnight sessions)."""
    start, end = when_window(when, now)
    return start.date() - dt.timedelta(days=1), (end - dt.timedelta(microseconds=1)).date()


def day_span(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return _midnight(first), _midnight(last + dt.timedelta(days=1))


def in_window(found: Iterable[Occurrence], when: str, now: dt.datetime) -> bool:
    """Whether any occurrence fits ``when`` (overlaps its window; for evenings, starts 5pm+ Monday to Friday)."""
    start, end = when_window(when, now)
    for occ in found:
        if not (occ.start < end and effective_end(occ) > start):
            continue
        if when == "weekday-evenings":
            local = occ.start.astimezone(LONDON)
            if occ.all_day or local.weekday() > 4 or local.time() < EVENING_FROM:
                continue
        return True
    return False


def occurs(schedule: Schedule | None, when: str, now: dt.datetime) -> bool:
    """Whether a schedule has an occurrence that fits ``when`` at ``now``."""
    if schedule is None:
        return False
    first, last = when_days(when, now)
    return in_window(occurrences(schedule, *day_span(first, last)), when, now)


# -- words, through the index's own tokenizer --------------------------------


class _OneRowIndex(threading.local):
    """An in-memory copy of the listings schema, one per thread, for matching one record's words."""

    def __init__(self) -> None:
        from node.storage.store import init_schema

        self.conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        init_schema(self.conn)


_ONE_ROW = _OneRowIndex()


def _words_match(record: Record, ws: tuple[str, ...]) -> bool:
    from node.storage.index import index_record

    conn = _ONE_ROW.conn
    conn.execute("BEGIN")
    try:
        index_record(conn, record, "{}")
        hit = conn.execute("SELECT 1 FROM listings_fts WHERE listings_fts MATCH ?", (fts_query(ws),)).fetchone()
    finally:
        conn.execute("ROLLBACK")
    return hit is not None


def _coordinates(record: Record) -> tuple[float, float] | None:
    loc = record.location
    if isinstance(loc, (PublicLocation, AreaLocation)) and loc.lat is not None and loc.lon is not None:
        return float(loc.lat), float(loc.lon)
    return None


def within_reach(
    delivery: str, lat: float | None, lon: float | None, filters: Filters, place: Place
) -> tuple[bool, float | None]:
    """Whether a listing is near enough to ``place``, and its distance in km (``None`` if it has no point)."""
    distance = None if lat is None or lon is None else distance_km(place.lat, place.lon, lat, lon)
    if remote_ok(delivery, filters):
        return True, distance
    return distance is not None and distance <= radius_km(filters, place), distance


def serves(areas: tuple[str, ...], place: Place | None) -> bool:
    """Whether a listing with this service area (spec §2.2 ``service_area``) is offered to a search at ``place``.

    An empty area serves everyone; without a place the listing is shown (its
    area is on the card).  An entry is a local authority, a postcode district
    ("LS6") or area ("LS"), or a place name, compared without case or spaces.
    """
    if not areas or place is None:
        return True
    label = place.label.upper()
    outward = label.split()[0] if place.kind in ("postcode", "sector", "outcode") else ""
    for area in areas:
        a = " ".join(area.upper().split())
        if a in (place.district_name.upper(), label):
            return True
        if outward and (a == outward or (a.isalpha() and re.match(rf"^{a}\d", outward))):
            return True
    return False


def matches(
    record: Record, filters: Filters, *, place: Place | None, now: dt.datetime, kept_visible: bool = False
) -> bool:
    """Whether ``record`` is in the set :func:`node.directory.search.search` returns for ``filters`` at ``now``.

    ``place`` is the resolved ``filters.near`` (see :func:`node.directory.search.resolve_place`);
    it is required when ``near`` is set.  ``kept_visible``: the coordinator chose to
    keep this long-unchecked listing in search (``node.storage.console.kept_visible``).
    """
    if is_hidden(record.status, record.reviewed, now, kept_visible=kept_visible):
        return False
    if has_ended(record.schedule, now.astimezone(LONDON).date()):  # as search's ENDED_SQL
        return False
    if filters.publisher is not None and record.publisher != filters.publisher:
        return False
    if filters.kind and record.kind not in filters.kind:
        return False
    accepted = delivery_values(filters)
    if accepted and record.delivery not in accepted:
        return False
    if filters.free and not (record.cost is not None and record.cost.free):
        return False
    if filters.topic and not set(filters.topic) & set(record.topics):
        return False
    if filters.near:
        if place is None:
            raise ValueError("matches() needs the resolved place when filters.near is set")
        lat, lon = _coordinates(record) or (None, None)
        ok, distance = within_reach(record.delivery, lat, lon, filters, place)
        if not ok:
            return False
        in_reach = distance is not None and distance <= radius_km(filters, place)
        if not in_reach and not serves(tuple(record.service_area), place):
            return False
    if filters.when and not occurs(record.schedule, filters.when, now):
        return False
    return not (filters.words and not _words_match(record, filters.words))
