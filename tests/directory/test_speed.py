"""What keeps a results page fast at national size (docs/benchmarks.md, "HTTP search").

Each test pins the shape of the work, not a timing: how many statements a
lookup runs and which index drives them, so it holds on a loaded machine.
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
from node.directory.filters import Filters, parse_filters
from node.directory.geo import Place
from node.directory.occurrences import fill_pending, refresh, stored_window
from node.directory.schedule import LONDON
from node.directory.search import SearchResults, network_names, resolve_place, search
from node.storage.store import connect, init_schema, transaction
from nodeutil import index_records as _add
from nodeutil import make_node
from protocol.records import Record


def _record(publisher: str, i: int, **fields: Any) -> Record:
    base: dict[str, Any] = {
        "publisher": publisher,
        "id": f"r{i}",
        "rev": 1_700_000_000_000_000 + i,
        "updated": "2026-10-01T10:00:00Z",
        "kind": "group",
        "name": f"Group {i}",
        "delivery": "in_person",
        "status": "active",
    }
    base.update(fields)
    return msgspec.convert(base, Record)


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    c = connect(tmp_path / "signpost.db")
    init_schema(c)
    return c


def _traced(conn: sqlite3.Connection) -> list[str]:
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen


def test_network_names_is_one_indexed_query_for_a_whole_page(conn: sqlite3.Connection) -> None:
    publishers = [f"sp1:{'a' * 25}{c}" for c in "bcdefghijk"]
    records = []
    for n, p in enumerate(publishers):
        # Two organisation records: the earlier (lower rev) names the publisher, a closed one never does.
        records.append(_record(p, 1000 * n + 1, kind="organisation", name=f"Network {n}", rev=2_000_000 + n))
        records.append(_record(p, 1000 * n + 2, kind="organisation", name=f"Later {n}", rev=3_000_000 + n))
        records.append(_record(p, 1000 * n + 3, kind="organisation", name=f"Closed {n}", status="closed", rev=1))
        records += [_record(p, 1000 * n + 10 + k) for k in range(30)]
    _add(conn, records)
    conn.execute("ANALYZE")
    seen = _traced(conn)
    names = network_names(conn, publishers * 2, own_publisher="sp1:own", own_name="Own")
    conn.set_trace_callback(None)
    assert names == {p: f"Network {n}" for n, p in enumerate(publishers)}
    assert len(seen) == 1, seen
    plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {seen[0]}"))
    assert "listings_org" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


def test_network_names_falls_back_to_own_name_then_peer_name_then_the_id(conn: sqlite3.Connection) -> None:
    own, peer, unknown = "sp1:" + "o" * 26, "sp1:" + "p" * 26, "sp1:" + "u" * 26
    conn.execute(
        "INSERT INTO peers (url, publisher, name, added) VALUES (?, ?, ?, 0)",
        ("https://peer.example.org", peer, "Peer Net"),
    )
    names = network_names(conn, [own, peer, unknown], own_publisher=own, own_name="Our Network")
    assert names == {own: "Our Network", peer: "Peer Net", unknown: f"network {unknown[:12]}…"}


# -- "today" and "this weekend" from listing_occurrences -------------------------------------------

_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


def _scheduled(rng: random.Random, publisher: str, i: int) -> Record:
    """A listing with one of the schedule shapes publishers write (weekly, fortnightly, monthly,
    overnight, one-off dates, cancelled and moved sessions, untimed, text only)."""
    opens, closes = rng.choice([("10:00", "12:00"), ("18:30", "20:00"), ("22:00", "02:00"), (None, None)])
    shape = rng.randrange(7)
    timed = {"opens": opens, "closes": closes} if opens else {}
    schedule: dict[str, Any]
    if shape == 0:
        schedule = {"rules": [{"freq": "weekly", "byday": rng.sample(_DAYS, rng.randint(1, 3)), **timed}]}
    elif shape == 1:
        start = NOW.date() - dt.timedelta(days=rng.randint(0, 30))
        schedule = {"rules": [{"freq": "weekly", "interval": 2, "starts": start.isoformat(), **timed}]}
    elif shape == 2:
        schedule = {"rules": [{"freq": "monthly", "byday": [f"{rng.choice(['1', '-1'])}{rng.choice(_DAYS)}"], **timed}]}
    elif shape == 3:
        days = [NOW.date() + dt.timedelta(days=rng.randint(-3, 12)) for _ in range(rng.randint(1, 3))]
        schedule = {"dates": [{"date": d.isoformat(), **timed} for d in sorted(set(days))]}
    elif shape == 4:
        day = NOW.date() + dt.timedelta(days=rng.randint(0, 6))
        schedule = {
            "rules": [{"freq": "weekly", "byday": [_DAYS[day.weekday()]], **timed}],
            "exceptions": [
                {
                    "date": day.isoformat(),
                    "cancelled": False,
                    "moved_to": {"date": (day + dt.timedelta(days=2)).isoformat()},
                }
                if rng.random() < 0.5
                else {"date": day.isoformat()}
            ],
        }
    elif shape == 5:
        schedule = {"rules": [{"freq": "weekly", "byday": ["SA", "SU"]}], "not_on_bank_holidays": True}
    else:
        schedule = {"text": "Times vary: get in touch"}
    where: dict[str, Any] = {"delivery": rng.choice(["in_person", "in_person", "online", "hybrid"])}
    if where["delivery"] != "online":
        lat, lon = 53.8208 + rng.uniform(-0.1, 0.1), -1.5855 + rng.uniform(-0.1, 0.1)
        where["location"] = {
            "type": "public",
            "name": "Hall",
            "area": "Leeds",
            "lat": f"{lat:.5f}",
            "lon": f"{lon:.5f}",
        }
    return _record(publisher, i, name=f"Listing {i:04d}", schedule=schedule, **where)


NOW = dt.datetime(2026, 11, 25, 14, 0, tzinfo=LONDON)  # a Wednesday


def _ids(
    conn: sqlite3.Connection, when: str, now: dt.datetime, limit: int = 400, offset: int = 0, **params: str
) -> tuple[int, list[str]]:
    filters = parse_filters({"when": when, **params})
    results = search(conn, filters, place=resolve_place(filters), now=now, limit=limit, offset=offset)
    return results.total, [h.record.id for h in results.items]


@pytest.fixture
def scheduled(conn: sqlite3.Connection) -> sqlite3.Connection:
    rng = random.Random(20)
    _add(conn, [_scheduled(rng, "sp1:" + "s" * 26, i) for i in range(600)])
    return conn


def test_today_and_this_weekend_read_stored_sessions_and_agree_with_expanding_schedules(
    scheduled: sqlite3.Connection,
) -> None:
    conn = scheduled
    moments = [NOW + dt.timedelta(hours=h) for h in (0, 5, 10, 30, 50, 58, 75, 90)]
    whens = ["today", "tomorrow", "this-weekend", "open-now"]
    # Before any fill every listing is pending: the exact expansion answers.
    expanded = {(w, m): _ids(conn, w, m) for w in whens for m in moments}
    pages = {(w, m, o): _ids(conn, w, m, limit=7, offset=o) for w in whens for m in moments for o in (0, 5, 30)}
    near = {(w, m): _ids(conn, w, m, near="LS6", within="10") for w in whens for m in moments[:3]}
    assert stored_window(conn, "today", NOW) is None
    refresh(conn, NOW)
    assert conn.execute("SELECT count(*) FROM listing_occurrences_pending").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM listing_occurrences").fetchone()[0] > 600
    for w in whens:
        for m in moments:
            assert stored_window(conn, w, m) is not None, (w, m)
            assert _ids(conn, w, m) == expanded[(w, m)], (w, m)
            for o in (0, 5, 30):
                assert _ids(conn, w, m, limit=7, offset=o) == pages[(w, m, o)], (w, m, o)
    for (w, m), found in near.items():
        assert _ids(conn, w, m, near="LS6", within="10") == found, (w, m)
    assert any(total for total, _ in expanded.values()) and any(total for total, _ in near.values())


def test_a_listing_written_after_the_fill_is_found_at_once(scheduled: sqlite3.Connection) -> None:
    conn = scheduled
    refresh(conn, NOW)
    before = _ids(conn, "today", NOW)
    saturday = {"rules": [{"freq": "weekly", "byday": ["WE"], "opens": "19:00", "closes": "21:00"}]}
    _add(conn, [_record("sp1:" + "s" * 26, 9999, name="Late Wednesday group", schedule=saturday)])
    assert conn.execute("SELECT count(*) FROM listing_occurrences_pending").fetchone()[0] == 1
    total, ids = _ids(conn, "today", NOW)
    assert total == before[0] + 1 and "r9999" in ids
    with transaction(conn):
        fill_pending(conn)
    assert _ids(conn, "today", NOW) == (total, ids)
    # Moving it to Thursday takes it out of today, stored or not.
    thursday = {"rules": [{"freq": "weekly", "byday": ["TH"], "opens": "19:00", "closes": "21:00"}]}
    _add(
        conn,
        [_record("sp1:" + "s" * 26, 9999, name="Late Wednesday group", schedule=thursday, rev=2_000_000_000_000_000)],
    )
    assert _ids(conn, "today", NOW) == before


def test_the_horizon_moves_with_the_london_day(scheduled: sqlite3.Connection) -> None:
    conn = scheduled
    refresh(conn, NOW)
    later = NOW + dt.timedelta(days=9)
    assert stored_window(conn, "this-weekend", later) is None  # beyond the stored days: expanded instead
    expanded = _ids(conn, "this-weekend", later)
    refresh(conn, later)
    assert stored_window(conn, "this-weekend", later) is not None
    assert _ids(conn, "this-weekend", later) == expanded


# -- the online/phone set during an ingest ---------------------------------------------------------


def _online(i: int, delivery: str = "online") -> tuple[str, dict[str, Any]]:
    fields: dict[str, Any] = {"kind": "group", "name": f"Online group {i:04d}", "delivery": delivery}
    if delivery == "in_person":
        fields["location"] = {"type": "public", "name": "Hall", "area": "Truro", "lat": "50.26", "lon": "-5.05"}
    return f"g{i:04d}", fields


def test_the_online_set_takes_in_new_writes_without_reading_everything_again(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    node.publish([_online(i) for i in range(300)])
    conn = connect(node.directory / "signpost.db")
    filters = parse_filters({"near": "LS6"})
    place = resolve_place(filters)
    now = dt.datetime.now(LONDON)
    first = search(conn, filters, place=place, now=now, limit=1000)
    assert first.total == 300
    # Writes land (as a sync's pages do): new online listings, some no longer online, one deleted.
    node.publish([_online(i) for i in range(300, 340)])
    node.publish([_online(i, "in_person") for i in range(5)])
    seen = _traced(conn)
    again = search(conn, filters, place=place, now=now, limit=1000)
    conn.set_trace_callback(None)
    assert [h.record.id for h in again.items] == [f"g{i:04d}" for i in range(5, 340)]  # by name, as a full read
    assert again.total == 335
    remote_reads = [sql for sql in seen if "l.delivery IN" in sql and "listing_facets" in sql]
    assert remote_reads and all("json_each" in sql for sql in remote_reads), remote_reads
    # A deletion is taken in the same way (a peer's feed carries tombstones among its records), and is gone.
    node.delete("g0100")
    node.publish([_online(i) for i in range(340, 345)])
    seen = _traced(conn)
    after = search(conn, filters, place=place, now=now, limit=1000)
    conn.set_trace_callback(None)
    assert [h.record.id for h in after.items] == [f"g{i:04d}" for i in range(5, 345) if i != 100]
    assert after.total == 339
    remote_reads = [sql for sql in seen if "l.delivery IN" in sql and "listing_facets" in sql]
    assert remote_reads and all("json_each" in sql for sql in remote_reads), remote_reads
    # The newest listing deleted and another written: SQLite may give the new one the deleted one's rowid.
    node.delete("g0344")
    node.publish([("g9999", {"kind": "group", "name": "Aaa first online group", "delivery": "in_person"})])
    node.publish([_online(9998)])
    ids = [h.record.id for h in search(conn, filters, place=place, now=now, limit=1000).items]
    assert ids == [f"g{i:04d}" for i in range(5, 344) if i != 100] + ["g9998"]


def test_a_listing_rewritten_before_the_fill_stays_pending_once(scheduled: sqlite3.Connection) -> None:
    conn = scheduled
    refresh(conn, NOW)
    weekly = {"rules": [{"freq": "weekly", "byday": ["WE"], "opens": "19:00", "closes": "21:00"}]}
    for n, day in enumerate(["WE", "TH", "WE"]):
        schedule = {"rules": [{**weekly["rules"][0], "byday": [day]}]}
        # An upsert, as the ledger writes it, each time before any fill.
        _add(conn, [_record("sp1:" + "s" * 26, 7777, name="Rewritten", schedule=schedule, rev=3_000_000 + n)])
    assert conn.execute("SELECT count(*) FROM listing_occurrences_pending").fetchone()[0] == 1
    assert "r7777" in _ids(conn, "today", NOW)[1]


def test_service_areas_take_in_new_writes_without_reading_every_payload_again(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")

    def online(i: int, *area: str) -> tuple[str, dict[str, Any]]:
        rid, fields = _online(i)
        return rid, {**fields, "service_area": list(area)} if area else fields

    node.publish([online(0, "Leeds"), online(1, "Lambeth"), online(2), online(3, "LS6", "LS7")])
    conn = connect(node.directory / "signpost.db")
    filters = parse_filters({"near": "LS6"})
    place = resolve_place(filters)
    now = dt.datetime.now(LONDON)
    first = search(conn, filters, place=place, now=now, limit=100)
    assert sorted(h.record.id for h in first.items) == ["g0000", "g0002", "g0003"]
    # Writes land (as a sync's pages do): an area widened to Leeds, one narrowed away, a new one, one dropped.
    node.publish([online(1, "Lambeth", "Leeds"), online(3, "LS7"), online(4, "LS"), online(0)])
    seen = _traced(conn)
    again = search(conn, filters, place=place, now=now, limit=100)
    conn.set_trace_callback(None)
    assert sorted(h.record.id for h in again.items) == ["g0000", "g0001", "g0002", "g0004"]  # as a full read
    area_reads = [sql for sql in seen if "service_area" in sql]
    assert area_reads and all("json_each" in sql for sql in area_reads), area_reads
    # A deletion is taken in the same way, and is gone.
    node.delete("g0001")
    seen = _traced(conn)
    after = search(conn, filters, place=place, now=now, limit=100)
    conn.set_trace_callback(None)
    assert sorted(h.record.id for h in after.items) == ["g0000", "g0002", "g0004"]
    area_reads = [sql for sql in seen if "service_area" in sql]
    assert area_reads and all("json_each" in sql for sql in area_reads), area_reads


def _read_in_full(
    monkeypatch: pytest.MonkeyPatch, conn: sqlite3.Connection, filters: Filters, place: Place | None, now: dt.datetime
) -> SearchResults:
    """The search with every online set read afresh (none held is young enough to reuse)."""
    with monkeypatch.context() as m:
        m.setattr(search_module, "CANDIDATE_CACHE_SECONDS", -1.0)
        return search(conn, filters, place=place, now=now, limit=1000)


def test_an_online_set_with_words_takes_in_new_writes_and_matches_a_full_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = make_node(tmp_path / "node")

    def group(i: int, name: str, delivery: str = "online") -> tuple[str, dict[str, Any]]:
        rid, fields = _online(i, delivery)
        return rid, {**fields, "name": f"{name} {i:04d}"}

    node.publish([group(i, "Online support group" if i % 2 == 0 else "Online group") for i in range(200)])
    conn = connect(node.directory / "signpost.db")
    filters = parse_filters({"q": "support", "near": "LS6"})
    place = resolve_place(filters)
    now = dt.datetime.now(LONDON)
    assert search(conn, filters, place=place, now=now, limit=1000).total == 100
    # Writes land (as a sync's pages do): new listings with and without the word, one losing the word,
    # one gaining it, one no longer online, one deleted.
    node.publish([group(i, "Peer support online" if i % 3 else "Peer online") for i in range(200, 260)])
    node.publish([group(0, "Online group"), group(1, "Online support group"), group(2, "Support", "in_person")])
    node.delete("g0004")
    seen = _traced(conn)
    again = search(conn, filters, place=place, now=now, limit=1000)
    conn.set_trace_callback(None)
    remote_reads = [sql for sql in seen if "l.delivery IN" in sql and "listing_facets" in sql]
    assert remote_reads and all("json_each" in sql for sql in remote_reads), remote_reads
    # Which listings, and how many, are exactly what a full read finds (their order by bm25 may lag).
    full = _read_in_full(monkeypatch, conn, filters, place, now)
    assert again.total == full.total == 100 - 3 + 1 + 40
    assert sorted(h.record.id for h in again.items) == sorted(h.record.id for h in full.items)
    # Once the set is REMOTE_RANK_SECONDS old, a write makes it read in full again, ranked afresh.
    monkeypatch.setattr(search_module, "REMOTE_RANK_SECONDS", 0.0)
    node.publish([group(300, "Support line")])
    seen = _traced(conn)
    last = search(conn, filters, place=place, now=now, limit=1000)
    conn.set_trace_callback(None)
    remote_reads = [sql for sql in seen if "l.delivery IN" in sql and "listing_facets" in sql]
    assert remote_reads and not any("json_each" in sql for sql in remote_reads), remote_reads
    full = _read_in_full(monkeypatch, conn, filters, place, now)
    assert [h.record.id for h in last.items] == [h.record.id for h in full.items]


def test_an_online_set_of_one_kind_reads_the_writes_by_rowid_not_every_listing_of_the_kind(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    node.publish([_online(i) for i in range(100)])
    conn = connect(node.directory / "signpost.db")
    filters = parse_filters({"near": "LS6", "kind": "group", "when": "this-weekend"})
    place = resolve_place(filters)
    now = dt.datetime.now(LONDON)
    search(conn, filters, place=place, now=now, limit=100)
    node.publish([_online(i) for i in range(100, 110)])
    seen = _traced(conn)
    search(conn, filters, place=place, now=now, limit=100)
    conn.set_trace_callback(None)
    remote_reads = [sql for sql in seen if "l.delivery IN" in sql and "json_each" in sql]
    assert remote_reads
    for sql in remote_reads:
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        assert plan[0] == "SEARCH l USING INTEGER PRIMARY KEY (rowid=?)", plan
