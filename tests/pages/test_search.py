"""Filters and search: parsing, round trips, SQL/Python agreement, hostile input."""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import sqlite3

import msgspec
import pytest
from example_network import NOW, Network
from hypothesis import given, settings
from hypothesis import strategies as st

from node.directory.filters import WHENS, FilterError, Filters, matches, parse_filters, to_params
from node.directory.search import UnknownPlace, resolve_place, search
from protocol.records import TOPICS, Record

BAD_PARAMS = [
    ({"kind": "spaceship"}, "kind"),
    ({"kind": "group,spaceship"}, "kind"),
    ({"topic": "astrology"}, "topic"),
    ({"delivery": "carrier-pigeon"}, "delivery"),
    ({"when": "someday"}, "when"),
    ({"free": "maybe"}, "free"),
    ({"within": "far", "near": "LS6"}, "within"),
    ({"within": "900km", "near": "LS6"}, "within"),
    ({"within": "10km"}, "within"),
    ({"publisher": "bob"}, "publisher"),
    ({"near": "x" * 101}, "near"),
]


@pytest.mark.parametrize(("params", "param"), BAD_PARAMS)
def test_unknown_filter_values_name_the_parameter(params: dict[str, str], param: str) -> None:
    with pytest.raises(FilterError) as e:
        parse_filters(params)
    assert e.value.param == param and e.value.http_status == 400


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "Group, event", "when": "This weekend"}, Filters(kind=("group", "event"), when="this-weekend")),
        ({"delivery": "in-person,phone", "free": "on"}, Filters(delivery=("in_person", "phone"), free=True)),
        ({"near": "  ls6  3qr ", "within": "5 km"}, Filters(near="ls6 3qr", within_km=5.0)),
        ({"q": "  hearing   voices ", "page": "2", "utm_source": "x"}, Filters(q="hearing voices")),
    ],
)
def test_filters_are_parsed_leniently(params: dict[str, str], expected: Filters) -> None:
    assert parse_filters(params) == expected


def test_repeated_list_parameters_are_combined() -> None:
    from multidict import MultiDict

    assert parse_filters(MultiDict([("kind", "group"), ("kind", "event"), ("delivery", "online")])).kind == (
        "group",
        "event",
    )


filters_strategy = st.builds(
    Filters,
    q=st.sampled_from(["", "hearing voices", "walk", "Cymraeg"]),
    near=st.sampled_from(["", "LS6", "Lambeth"]),
    kind=st.lists(st.sampled_from(["group", "event", "service"]), unique=True).map(
        lambda v: tuple(sorted(v, key=["group", "service", "event"].index))
    ),
    topic=st.lists(st.sampled_from(list(TOPICS)[:5]), unique=True, max_size=2).map(
        lambda v: tuple(sorted(v, key=list(TOPICS).index))
    ),
    delivery=st.lists(st.sampled_from(["in_person", "online", "phone"]), unique=True).map(
        lambda v: tuple(sorted(v, key=["in_person", "online", "phone"].index))
    ),
    free=st.booleans(),
    when=st.sampled_from([None, *WHENS]),
)


@settings(max_examples=200, deadline=None)
@given(filters_strategy, st.sampled_from([None, 3.0, 25.0]))
def test_to_params_round_trips(filters: Filters, within: float | None) -> None:
    if filters.near and within:
        filters = Filters(**{**filters.__dict__, "within_km": within, "words": ()})
    assert parse_filters(to_params(filters)) == filters


COMBINATIONS = (
    [
        dict(zip(("q", "near", "kind", "delivery", "when", "free", "topic"), combo, strict=True))
        for combo in itertools.product(
            ["", "peer", "hearing voices", "walk", "online group"],
            ["", "LS6", "Lambeth", "SW2 1AA"],
            ["", "group", "event,training"],
            ["", "in_person", "online,phone"],
            ["", "this-weekend", "today", "weekday-evenings"],
            [""],
            [""],
        )
    ]
    + [{"topic": t} for t in TOPICS]
    + [
        {"free": "1"},
        {"free": "1", "near": "Leeds"},
        {"kind": "role"},
        {"when": "tomorrow", "near": "Leeds", "within": "3km"},
    ]
)


def _all_records(conn: sqlite3.Connection) -> list[Record]:
    return [msgspec.json.decode(p, type=Record) for (p,) in conn.execute("SELECT payload FROM listings")]


def test_matches_agrees_with_search_on_the_example_networks(conn: sqlite3.Connection) -> None:
    records = _all_records(conn)
    now = NOW
    checked = 0
    for params in COMBINATIONS:
        filters = parse_filters({k: v for k, v in params.items() if v})
        place = resolve_place(filters)
        found = search(conn, filters, place=place, now=now, limit=1000)
        by_search = {(h.record.publisher, h.record.id) for h in found.items}
        if found.corrected_q:
            by_search = set()
        by_matches = {(r.publisher, r.id) for r in records if matches(r, filters, place=place, now=now)}
        assert by_search == by_matches, params
        assert found.total == len(by_matches) or found.corrected_q
        checked += len(by_matches)
    assert checked > 500  # the combinations really do select listings


@pytest.mark.parametrize("hour", [0, 9, 17, 23])
@pytest.mark.parametrize("day", range(7))
def test_time_filters_agree_all_week(conn: sqlite3.Connection, day: int, hour: int) -> None:
    records = _all_records(conn)
    now = NOW + dt.timedelta(days=day, hours=hour - NOW.hour)
    for when in WHENS:
        filters = Filters(when=when)
        found = {
            (h.record.publisher, h.record.id) for h in search(conn, filters, place=None, now=now, limit=1000).items
        }
        assert found == {(r.publisher, r.id) for r in records if matches(r, filters, place=None, now=now)}, when


def test_closed_and_long_unchecked_listings_are_not_found(conn: sqlite3.Connection) -> None:
    ids = {h.record.id for h in search(conn, Filters(), place=None, now=NOW, limit=1000).items}
    assert "bramley-hearing-voices" not in ids  # closed
    assert "session-evaluation-form" not in ids  # last checked more than a year ago
    assert "pudsey-carers-peer-circle" in ids  # stale, but shown with a flag


def test_online_and_phone_listings_are_offered_near_any_place_they_serve(conn: sqlite3.Connection) -> None:
    f = parse_filters({"near": "LS6"})
    hits = search(conn, f, place=resolve_place(f), now=NOW, limit=1000).items
    remote = {h.record.id for h in hits if h.remote}
    assert {"national-peer-support-line", "leeds-peer-support-line", "online-evening-peer-group"} <= remote
    # Lambeth's line and online group serve Lambeth only (service_area), so Leeds is not offered them.
    assert not {"weekend-peer-support-line", "lambeth-online-evening-group"} & remote
    local = [h for h in hits if not h.remote]
    assert local and all(h.distance_km is not None and h.distance_km <= 10 for h in local)
    assert [h.distance_km for h in local] == sorted(h.distance_km for h in local)  # type: ignore[misc]
    assert hits.index(local[-1]) < min(hits.index(h) for h in hits if h.remote)
    in_person = search(
        conn, parse_filters({"near": "LS6", "delivery": "in_person"}), place=resolve_place(f), now=NOW, limit=1000
    ).items
    assert not any(h.remote for h in in_person)


def test_this_weekend_finds_friday_night_crisis_support(conn: sqlite3.Connection) -> None:
    f = parse_filters({"near": "Leeds", "when": "this-weekend", "kind": "service"})
    ids = {h.record.id for h in search(conn, f, place=resolve_place(f), now=NOW).items}
    assert {"the-lantern-evening-crisis-space", "national-peer-support-line"} <= ids
    assert "weekend-peer-support-line" not in ids  # Lambeth's line serves Lambeth (service_area)
    assert "leeds-peer-support-line" not in ids  # Monday to Thursday only


def test_small_typos_are_forgiven_and_said_so(conn: sqlite3.Connection) -> None:
    found = search(conn, Filters(q="bipolor"), place=None, now=NOW)
    assert found.corrected_q == "bipolar" and found.total == 2


def test_prefixes_match(conn: sqlite3.Connection) -> None:
    assert search(conn, Filters(q="hear voi"), place=None, now=NOW).total == 2


def test_empty_results_say_which_filter_to_widen(conn: sqlite3.Connection) -> None:
    f = parse_filters({"q": "hearing voices", "near": "Lambeth", "when": "this-weekend"})
    found = search(conn, f, place=resolve_place(f), now=NOW)
    assert found.total == 0
    widen = {s.param: s for s in found.suggestions}
    assert "when" in widen and widen["when"].count >= 1 and "when" not in widen["when"].params


def test_unknown_place_is_refused_with_suggestions() -> None:
    with pytest.raises(UnknownPlace) as e:
        resolve_place(Filters(near="Leds"))
    assert "Leeds" in e.value.suggestions and e.value.param == "near"


HOSTILE = [
    '"',
    '""',
    "*",
    "NEAR(",
    "NEAR(a b",
    "OR",
    "AND NOT",
    "a OR b",
    "'; DROP TABLE listings; --",
    "%",
    "_",
    "\\",
    "^x",
    "col:val",
    "name:hearing",
    "(",
    ")",
    "{a b}",
    "\x00",
    "ʼ",
    "🌈 walk",
    "Cymraeg ŵ ŷ",
    "x" * 5000,
    "word " * 400,
    "\u202e",
    "-",
    "+",
    "a-b",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_fts_and_sql_syntax_in_any_parameter_never_errors(
    conn: sqlite3.Connection, text: str, network: Network
) -> None:
    f = Filters(q=text[:200])
    search(conn, f, place=None, now=NOW)
    search(conn, Filters(q=text[:200], when="today"), place=None, now=NOW)
    for name in ("kind", "topic", "delivery", "when", "free", "within", "publisher", "near"):
        with contextlib.suppress(FilterError):
            parse_filters({name: text, "near": "LS6"} if name == "within" else {name: text})
    try:
        resolve_place(Filters(near=" ".join(text.split())[:100]))
    except UnknownPlace as e:
        assert e.param == "near"
    assert conn.execute("SELECT count(*) FROM listings").fetchone()[0] == 65


def test_matches_needs_the_place() -> None:
    record = msgspec.convert(
        {
            "publisher": "sp1:" + "a" * 26,
            "id": "x",
            "rev": 1,
            "updated": "2026-01-01T00:00:00Z",
            "kind": "group",
            "name": "x",
        },
        Record,
    )
    with pytest.raises(ValueError):
        matches(record, Filters(near="LS6"), place=None, now=NOW)


def test_a_long_unchecked_listing_the_coordinator_keeps_visible_still_matches(conn: sqlite3.Connection) -> None:
    (payload,) = conn.execute("SELECT payload FROM listings WHERE id = 'session-evaluation-form'").fetchone()
    record = msgspec.json.decode(payload, type=Record)
    assert not matches(record, Filters(), place=None, now=NOW)
    assert matches(record, Filters(), place=None, now=NOW, kept_visible=True)
