"""A search by words alone counts what it shows as two index counts (node.directory.unshown, migration 10).

The count must equal checking every match's row (closed, hidden, kept visible, ended) on every
query, after every kind of write with no job run since, and across a day's turn, when a
search falls back to the exact count until the set is filled for the new day.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from node.directory import search as search_module
from node.directory import unshown
from node.directory.ending import has_ended
from node.directory.filters import fts_query, is_hidden, parse_filters
from node.directory.schedule import LONDON
from node.directory.search import search
from node.storage.console import keep_visible_key, set_keep_visible
from node.storage.index import unindex
from node.storage.store import connect, init_schema, transaction
from nodeutil import index_records as _write
from protocol.records import Record

NOW = dt.datetime(2026, 11, 27, 15, 0, tzinfo=LONDON)  # a Friday afternoon
TOMORROW = NOW + dt.timedelta(days=1)
PUBLISHER = "sp1:" + "u" * 26
WORDS = ["support", "group", "peer", "hearing", "voices", "bipolar", "walk", "carers", "art", "leeds"]
QUERIES = ["support", "group", "peer support", "hearing voices", "bipolar", "walk", "carers art", "leeds", "sup", "zzz"]


def _day(days: int) -> str:
    return (NOW.date() + dt.timedelta(days=days)).isoformat()


def _listing(rng: random.Random, i: int, **over: Any) -> Record:
    fields: dict[str, Any] = {
        "publisher": PUBLISHER,
        "id": f"r{i}",
        "rev": 1_700_000_000_000_000 + i,
        "updated": "2026-10-01T10:00:00Z",
        "kind": "group",
        "name": " ".join(rng.sample(WORDS, 2)),
        "description": " ".join(rng.sample(WORDS, 3)),
        "delivery": "online",
        "status": rng.choices(["active", "paused", "closed"], [80, 10, 10])[0],
        # Around the hidden cutoff (365 days back): hidden today, hidden from tomorrow, shown both days.
        "reviewed": _day(-rng.choice([3, 200, 364, 365, 366, 700])),
    }
    kind = rng.random()
    if kind < 0.4:
        # An event whose last date is yesterday, today or tomorrow: ended, ended from tomorrow, not ended.
        fields["kind"] = "event"
        last = rng.choice([-9, -1, 0, 1, 5])
        fields["schedule"] = {"dates": [{"date": _day(last), "opens": "10:00", "closes": "12:00"}]}
    elif kind < 0.7:
        fields["schedule"] = {"rules": [{"freq": "weekly", "byday": ["MO"], "opens": "10:00", "closes": "12:00"}]}
    fields.update(over)
    return msgspec.convert(fields, Record)


def _join_count(conn: sqlite3.Connection, q: str, now: dt.datetime) -> int:
    """The exact count: every match's row checked (what the count was before the set)."""
    sql, args = search_module._select(parse_filters({"q": q}), None, now, "count(*)", ranked=True)
    return int(conn.execute(sql, args).fetchone()[0])


def _fast(conn: sqlite3.Connection, q: str, now: dt.datetime) -> int | None:
    return unshown.count_shown(conn, fts_query(parse_filters({"q": q}).words), now)


def _unshown_in_python(conn: sqlite3.Connection, now: dt.datetime) -> set[int]:
    """Which listings search does not show at ``now``, from the records themselves."""
    kept = {str(k) for (k,) in conn.execute("SELECT key FROM meta WHERE key LIKE 'keep-visible:%'")}
    out = set()
    for rowid, payload in conn.execute("SELECT rowid, payload FROM listings"):
        r = msgspec.json.decode(payload, type=Record)
        visible_kept = keep_visible_key(r.publisher, r.id) in kept
        if is_hidden(r.status, r.reviewed, now, kept_visible=visible_kept) or has_ended(r.schedule, now.date()):
            out.add(int(rowid))
    return out


def _assert_exact(conn: sqlite3.Connection, now: dt.datetime) -> None:
    stored = {int(r) for (r,) in conn.execute("SELECT rowid FROM listing_unshown_fts")}
    assert stored == _unshown_in_python(conn, now)
    for q in QUERIES:
        assert _fast(conn, q, now) == _join_count(conn, q, now), q


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[sqlite3.Connection, random.Random]:
    conn = connect(tmp_path / "signpost.db")
    init_schema(conn)
    rng = random.Random(20)
    _write(conn, [_listing(rng, i) for i in range(400)])
    unshown.refresh(conn, NOW)
    with transaction(conn):
        for i in range(0, 400, 7):  # some kept visible: those long unchecked stay shown
            set_keep_visible(conn, PUBLISHER, f"r{i}", True)
    return conn, rng


def test_the_fast_count_equals_checking_every_match_for_every_query(
    corpus: tuple[sqlite3.Connection, random.Random],
) -> None:
    conn, _ = corpus
    assert 0 < conn.execute("SELECT count(*) FROM listing_unshown_fts").fetchone()[0] < 400
    _assert_exact(conn, NOW)


def test_each_kind_of_write_keeps_the_count_exact_without_the_job(
    corpus: tuple[sqlite3.Connection, random.Random],
) -> None:
    conn, rng = corpus
    old = _day(-700)
    writes = [
        [_listing(rng, 1000, status="active", reviewed=_day(-3))],  # a new shown listing
        [_listing(rng, 1001, status="closed")],  # a new closed one
        [_listing(rng, 1, status="closed")],  # closed
        [_listing(rng, 1, status="active", reviewed=_day(-1))],  # re-opened and re-checked
        [_listing(rng, 2, status="active", reviewed=old)],  # long unchecked: hidden
        [_listing(rng, 2, status="active", reviewed=_day(0))],  # re-checked: shown again
        [_listing(rng, 3, name="support walk renamed", status="closed")],  # closed with new words
        [_listing(rng, 3, name="carers only", status="closed")],  # words change while not shown
        [  # an event ended yesterday, then given a later date
            _listing(rng, 4, kind="event", status="active", reviewed=_day(-3), schedule={"dates": [{"date": _day(-1)}]})
        ],
        [_listing(rng, 4, kind="event", status="active", reviewed=_day(-3), schedule={"dates": [{"date": _day(2)}]})],
        [_listing(rng, 5, status="active", reviewed=_day(-3), schedule=None)],  # no schedule at all
    ]
    for records in writes:
        _write(conn, records)
        _assert_exact(conn, NOW)
    # The coordinator keeps a long-unchecked listing visible, then withdraws it.
    _write(conn, [_listing(rng, 6, status="active", reviewed=old, schedule=None)])
    with transaction(conn):
        set_keep_visible(conn, PUBLISHER, "r6", True)
    _assert_exact(conn, NOW)
    with transaction(conn):
        set_keep_visible(conn, PUBLISHER, "r6", False)
    _assert_exact(conn, NOW)
    # Deleted (a tombstone), shown or not.
    with transaction(conn):
        unindex(conn, PUBLISHER, "r1")
        unindex(conn, PUBLISHER, "r3")
        unindex(conn, PUBLISHER, "r1001")
    _assert_exact(conn, NOW)
    assert conn.execute("SELECT value FROM meta WHERE key = 'unshown_day'").fetchone()[0] == _day(0)


def test_across_the_days_turn_a_search_counts_the_exact_way_until_the_set_is_filled(
    corpus: tuple[sqlite3.Connection, random.Random], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, rng = corpus
    monkeypatch.setattr(search_module, "RANKED_CANDIDATES", 5)  # so pages read the count, not the candidates
    before = {q: _join_count(conn, q, TOMORROW) for q in QUERIES}
    assert before != {q: _join_count(conn, q, NOW) for q in QUERIES}  # ended and hidden from tomorrow
    # The set is for today: tomorrow's search does not read it, and still shows the exact total.
    for q in QUERIES:
        assert _fast(conn, q, TOMORROW) is None
        assert search(conn, parse_filters({"q": q}), place=None, now=TOMORROW, limit=3).total == before[q]
    # The day moves; a write lands before any batch runs; the fill goes a few listings at a time.
    with transaction(conn):
        assert unshown.advance(conn, TOMORROW)
    _write(conn, [_listing(rng, 2000, status="active", reviewed=_day(-365), schedule=None)])
    with transaction(conn):
        assert unshown.fill(conn, limit=50) == 50
    assert _fast(conn, "support", TOMORROW) is None  # half filled: not read
    while True:
        with transaction(conn):
            if not unshown.fill(conn, limit=50):
                break
    _assert_exact(conn, TOMORROW)
    for q in QUERIES:
        total = search(conn, parse_filters({"q": q}), place=None, now=TOMORROW, limit=3).total
        assert total == _join_count(conn, q, TOMORROW) == _fast(conn, q, TOMORROW)
    # A search still dated yesterday (a clock behind) does not read tomorrow's set either.
    assert _fast(conn, "support", NOW) is None
    assert search(conn, parse_filters({"q": "support"}), place=None, now=NOW, limit=3).total == _join_count(
        conn, "support", NOW
    )


def test_the_page_total_the_api_shows_is_the_fast_count(
    corpus: tuple[sqlite3.Connection, random.Random], monkeypatch: pytest.MonkeyPatch
) -> None:
    conn, _ = corpus
    monkeypatch.setattr(search_module, "RANKED_CANDIDATES", 5)
    read: list[str] = []
    real = unshown.count_shown

    def spy(c: sqlite3.Connection, match: str, now: dt.datetime) -> int | None:
        read.append(match)
        return real(c, match, now)

    monkeypatch.setattr(search_module, "count_shown", spy)
    for q in QUERIES:
        results = search(conn, parse_filters({"q": q}), place=None, now=NOW, limit=3)
        assert results.total == _join_count(conn, q, NOW), q
    assert read  # the common words were counted from the set
    # Another filter the set cannot answer (a kind) counts the exact way.
    read.clear()
    results = search(conn, parse_filters({"q": "support", "kind": "event"}), place=None, now=NOW, limit=3)
    assert not read
    sql, args = search_module._select(
        parse_filters({"q": "support", "kind": "event"}), None, NOW, "count(*)", ranked=True
    )
    assert results.total == conn.execute(sql, args).fetchone()[0]


def test_a_database_never_filled_counts_the_exact_way(tmp_path: Path) -> None:
    conn = connect(tmp_path / "signpost.db")
    init_schema(conn)
    _write(conn, [_listing(random.Random(1), i) for i in range(30)])
    assert _fast(conn, "support", NOW) is None


def test_a_closed_listing_made_private_leaves_no_words_in_the_unshown_index(tmp_path: Path) -> None:
    """The set copies a closed listing's words; withdrawing its place scrubs them as from listings_fts."""
    from nodeutil import make_node
    from tests.storage.test_privacy_scrub import PUBLIC, found

    node = make_node(tmp_path / "n")
    keep = connect(node.directory / "signpost.db")  # a running node's open connection keeps the WAL
    node.publish([("orchard", {**PUBLIC, "status": "closed"})])
    assert node.query("SELECT count(*) FROM listing_unshown_fts") == [(1,)]
    private = {k: v for k, v in PUBLIC.items() if k not in ("location", "contact")}
    private.update(status="closed", private=True, location={"type": "area", "area": "Huddersfield"})
    node.publish([("orchard", private)])
    assert node.query("SELECT count(*) FROM listing_unshown_fts WHERE listing_unshown_fts MATCH 'orchard'") == [(0,)]
    assert found(node) == []
    keep.close()


async def test_the_serve_job_fills_the_set_for_today(tmp_path: Path, aiohttp_client: Any) -> None:
    """``signpost serve``'s occurrences job moves the set to today and fills it, so word counts use it."""
    from node.core.config import load_config
    from node.web.app import create_app
    from node.web.jobs import refresh_occurrences
    from nodeutil import make_node

    node = make_node(tmp_path / "n")
    node.publish([("a", {"kind": "group", "name": "Support walk", "status": "closed"})])
    node.publish([("b", {"kind": "group", "name": "Support cafe"})])
    client = await aiohttp_client(create_app(load_config(node.directory), sync=False))
    conn = connect(node.directory / "signpost.db")
    now = dt.datetime.now(dt.UTC)
    assert unshown.count_shown(conn, fts_query(("support",)), now) is None
    await refresh_occurrences(client.server.app)
    assert unshown.count_shown(conn, fts_query(("support",)), now) == 1
