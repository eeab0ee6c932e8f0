"""Searches without words walk an index in their own order (migration 9); they return exactly
what reading and sorting every match returned: the same totals, the same pages, ties included."""

from __future__ import annotations

import datetime as dt
import random
import re
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from node.directory.filters import matches, parse_filters
from node.directory.occurrences import fill_pending, refresh
from node.directory.schedule import LONDON
from node.directory.search import search
from node.storage.console import set_keep_visible
from node.storage.store import connect, init_schema, transaction
from nodeutil import index_records as _write
from protocol.records import Record

NOW = dt.datetime(2026, 11, 27, 15, 0, tzinfo=LONDON)  # a Friday afternoon
PUBLISHER = "sp1:" + "t" * 26
# Few names, in several cases and scripts, so many listings tie on the name and on the start.
NAMES = [
    "Alpha group",
    "alpha group",
    "ALPHA GROUP",
    "Éclair circle",
    "éclair circle",
    "Straße club",
    "Strasse hub",
    "zeta",
    "Zeta",
]
TIMES = [("10:00", "12:00"), ("18:30", "20:00"), ("22:00", "02:00")]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
KINDS = ["group", "group", "event", "service", "training"]


def _listing(rng: random.Random, i: int) -> Record:
    kind = rng.choice(KINDS)
    opens, closes = rng.choice(TIMES)
    schedule: dict[str, Any] | None
    if kind in ("event", "training"):
        # Dates around now: some ended (the last a few days ago), some this weekend, some later.
        first = NOW.date() + dt.timedelta(days=rng.randint(-9, 6))
        dates = [first + dt.timedelta(days=7 * k) for k in range(rng.choice([1, 1, 2]))]
        schedule = {"dates": [{"date": d.isoformat(), "opens": opens, "closes": closes} for d in dates]}
    elif rng.random() < 0.8:
        schedule = {
            "rules": [
                {"freq": "weekly", "byday": rng.sample(DAYS, rng.randint(1, 3)), "opens": opens, "closes": closes}
            ]
        }
    elif rng.random() < 0.5:
        schedule = {
            "rules": [{"freq": "monthly", "byday": [f"-1{rng.choice(DAYS)}"], "opens": opens, "closes": closes}]
        }
    else:
        schedule = None
    fields: dict[str, Any] = {
        "publisher": PUBLISHER,
        "id": f"r{i}",
        "rev": 1_700_000_000_000_000 + i,
        "updated": "2026-10-01T10:00:00Z",
        "kind": kind,
        "name": rng.choice(NAMES),
        "delivery": rng.choice(["in_person", "in_person", "online", "phone", "hybrid"]),
        "status": rng.choices(["active", "paused", "closed"], [85, 8, 7])[0],
        # Some unchecked for long enough to be hidden (a few of those kept visible below).
        "reviewed": (NOW.date() - dt.timedelta(days=rng.choice([3, 40, 200, 500, 700]))).isoformat(),
        "cost": {"free": rng.random() < 0.7},
    }
    if fields["delivery"] in ("in_person", "hybrid"):
        fields["location"] = {"type": "public", "name": "Hall", "area": "Leeds", "lat": "53.82", "lon": "-1.58"}
    if schedule is not None:
        fields["schedule"] = schedule
    return msgspec.convert(fields, Record)


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[sqlite3.Connection, list[Record]]:
    conn = connect(tmp_path / "signpost.db")
    init_schema(conn)
    rng = random.Random(10)
    records = [_listing(rng, i) for i in range(700)]
    _write(conn, records)
    old = [r for r in records if r.reviewed is not None and r.reviewed < "2025-11-01"]
    with transaction(conn):
        for r in old[::4]:
            set_keep_visible(conn, r.publisher, r.id, True)
    return conn, records


def _page(conn: sqlite3.Connection, params: dict[str, str], offset: int, limit: int = 9) -> tuple[int, list[str]]:
    results = search(conn, parse_filters(params), place=None, now=NOW, limit=limit, offset=offset)
    return results.total, [h.record.id for h in results.items]


def _nocase(name: str) -> str:
    """SQLite's NOCASE: ASCII letters folded, every other character as it is."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in name)


def _kept(conn: sqlite3.Connection) -> set[str]:
    return {str(k).split("/", 1)[1] for (k,) in conn.execute("SELECT key FROM meta WHERE key LIKE 'keep-visible:%'")}


KIND_QUERIES = [
    {"kind": "event"},
    {"kind": "group"},
    {"kind": "group", "kind2": "service"},
    {"kind": "group", "free": "1"},
]


@pytest.mark.parametrize("params", KIND_QUERIES, ids=lambda p: "+".join(p.values()))
def test_a_kind_counts_and_pages_in_name_order_exactly_as_reading_every_match(
    corpus: tuple[sqlite3.Connection, list[Record]], params: dict[str, str]
) -> None:
    conn, records = corpus
    query = {k: v for k, v in params.items() if k != "kind2"}
    if "kind2" in params:
        query["kind"] = f"{params['kind']},{params['kind2']}"
    filters = parse_filters(query)
    kept = _kept(conn)
    rowids = {str(i): int(r) for r, i in conn.execute("SELECT rowid, id FROM listings")}
    expected = sorted(
        (r for r in records if matches(r, filters, place=None, now=NOW, kept_visible=r.id in kept)),
        key=lambda r: (_nocase(r.name), rowids[r.id]),
    )
    assert len({r.name for r in expected}) < len(expected) / 5  # ties on the name decide most of the order
    assert any(r.id in kept and r.reviewed is not None and r.reviewed < "2025-11-01" for r in expected)
    ids = [r.id for r in expected]
    for offset in (0, 9, 40, len(ids) - 3, len(ids) + 5):
        assert _page(conn, query, offset) == (len(ids), ids[offset : offset + 9]), offset


@pytest.mark.parametrize(
    "params",
    [
        {"when": "today"},
        {"when": "this-weekend"},
        {"when": "tomorrow"},
        {"when": "this-weekend", "kind": "group"},
        {"when": "this-weekend", "kind": "event,training"},
        {"when": "today", "delivery": "online"},
        {"when": "this-weekend", "free": "1", "kind": "group"},
    ],
    ids=lambda p: "+".join(p.values()),
)
def test_a_time_walked_from_stored_sessions_gives_the_totals_and_pages_of_expanding_every_schedule(
    corpus: tuple[sqlite3.Connection, list[Record]], params: dict[str, str]
) -> None:
    conn, records = corpus
    # Before any fill every listing is pending: each schedule is expanded, the exact way.
    offsets = (0, 5, 40, 150, 400)
    exact = {o: _page(conn, params, o) for o in offsets}
    kept = _kept(conn)
    filters = parse_filters(params)
    everything = _page(conn, params, 0, limit=1000)
    assert set(everything[1]) == {
        r.id for r in records if matches(r, filters, place=None, now=NOW, kept_visible=r.id in kept)
    }
    refresh(conn, NOW)
    assert conn.execute("SELECT count(*) FROM listing_occurrences_pending").fetchone()[0] == 0
    for o in offsets:
        assert _page(conn, params, o) == exact[o], o
    assert exact[0][0] > 20


def test_a_listing_closed_or_rechecked_after_the_fill_is_read_again_before_the_walk_uses_it(
    corpus: tuple[sqlite3.Connection, list[Record]],
) -> None:
    conn, records = corpus
    refresh(conn, NOW)
    params = {"when": "this-weekend"}
    total, ids = _page(conn, params, 0, limit=1000)
    shown = next(r for r in records if r.id == ids[0])
    hidden = next(
        r
        for r in records
        if r.id not in ids
        and r.status == "active"
        and r.reviewed is not None
        and r.reviewed < "2025-01-01"
        and r.id not in _kept(conn)
        and r.schedule is not None
        and r.kind == "group"
        and any(rule.byday and {"SA", "SU"} & set(rule.byday) for rule in r.schedule.rules)
    )
    later = 2_000_000_000_000_000
    _write(
        conn,
        [
            msgspec.structs.replace(shown, status="closed", rev=later),
            msgspec.structs.replace(hidden, reviewed=NOW.date().isoformat(), rev=later),
        ],
    )
    pending = {row[0] for row in conn.execute("SELECT listing FROM listing_occurrences_pending")}
    assert len(pending) == 2
    expected = [i for i in ids if i != shown.id]
    now_total, now_ids = _page(conn, params, 0, limit=1000)  # answered the exact way meanwhile
    assert now_total == total and shown.id not in now_ids and hidden.id in now_ids
    with transaction(conn):
        fill_pending(conn)
    assert _page(conn, params, 0, limit=1000) == (now_total, now_ids)
    assert set(expected) < set(now_ids)


def test_a_kind_and_a_time_are_counted_and_paged_from_indexes_without_reading_every_listing(
    corpus: tuple[sqlite3.Connection, list[Record]],
) -> None:
    conn, _ = corpus
    refresh(conn, NOW)
    conn.execute("ANALYZE")
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    for params in ({"kind": "event"}, {"when": "this-weekend"}, {"when": "today", "kind": "group"}):
        _page(conn, params, 0)
    conn.set_trace_callback(None)
    searches = [s for s in seen if "listing_facets" in s or "listing_occurrences" in s]
    assert len(searches) >= 5
    for statement in searches:
        plan = [str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")]
        assert not any(re.match(r"SCAN (l|o|listings|listing_facets|listing_occurrences)\b", p) for p in plan), plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
