"""The JSON API's words at national size: a common word ranks a bounded candidate set (issue 20).

``search`` without an intent keeps the "every word must appear" rule; what changes for a word
matching more listings than :data:`node.directory.search.RANKED_CANDIDATES` is which listings
bm25 is computed for.  These tests shrink the bound so a small corpus shows the rule.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from node.directory import search as search_module
from node.directory.filters import fts_query, parse_filters
from node.directory.schedule import LONDON
from node.directory.search import search
from node.storage.index import index_record
from node.storage.store import connect, init_schema, transaction
from protocol.records import Record

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=LONDON)
PUBLISHER = "sp1:" + "a" * 26


def _record(i: int, **fields: Any) -> Record:
    base: dict[str, Any] = {
        "publisher": PUBLISHER,
        "id": f"r{i:03d}",
        "rev": 1_700_000_000_000_000 + i,
        "updated": "2026-10-01T10:00:00Z",
        "reviewed": "2026-10-01",
        "kind": "group",
        "name": f"Group {i}",
        "delivery": "online",
        "status": "active",
    }
    base.update(fields)
    return msgspec.convert(base, Record)


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    """60 listings mentioning bereavement only in their description (written first), 4 naming it,
    2 with it in their topics, one closed and one long unchecked (both hidden), and 10 without it."""
    c = connect(tmp_path / "signpost.db")
    init_schema(c)
    records = [
        _record(i, description=f"Friendly people; {'some ' * (i % 7)}bereavement talk now and then.") for i in range(60)
    ]
    records += [_record(60 + i, name=f"Bereavement circle {i}") for i in range(4)]
    records += [_record(64 + i, topics=["suicide-bereavement"]) for i in range(2)]
    records.append(_record(66, name="Bereavement cafe", status="closed"))
    records.append(_record(67, name="Bereavement walk", reviewed="2020-01-01"))
    records += [_record(68 + i, description="Crafts and tea.") for i in range(10)]
    enc = msgspec.json.Encoder()
    with transaction(c):
        for r in records:
            index_record(c, r, enc.encode(r).decode())
    return c


def _ids(conn: sqlite3.Connection, q: str, limit: int, offset: int = 0) -> tuple[int, list[str]]:
    results = search(conn, parse_filters({"q": q}), place=None, now=NOW, limit=limit, offset=offset)
    return results.total, [h.record.id for h in results.items]


def _bm25_order(conn: sqlite3.Connection, q: str) -> list[str]:
    """Every visible match by bm25 over the whole index (the order before the bound)."""
    rows = conn.execute(
        "SELECT l.id FROM listings_fts JOIN listings l ON l.rowid = listings_fts.rowid "
        "WHERE listings_fts MATCH ? AND l.status != 'closed' AND l.reviewed >= '2025-11-27' "
        "ORDER BY bm25(listings_fts, 10.0, 4.0, 1.0, 6.0, 3.0, 2.0), l.rowid",
        (fts_query(q.split()),),
    ).fetchall()
    return [r[0] for r in rows]


def test_below_the_bound_a_word_is_ranked_by_bm25_over_every_match(conn: sqlite3.Connection) -> None:
    total, ids = _ids(conn, "bereavement", 100)
    assert total == 66
    assert ids == _bm25_order(conn, "bereavement")


def test_a_common_word_ranks_listings_naming_it_first_though_written_last(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "RANKED_CANDIDATES", 8)
    total, ids = _ids(conn, "bereavement", 6)
    assert total == 66  # counted exactly: the closed and the hidden listing left out
    # The candidates: the four naming it, the two with it in their topics, then the first two others;
    # the six that name it or have it as a topic come first (by bm25 among themselves).
    assert set(ids) == {f"r{60 + i:03d}" for i in range(6)}


def test_pages_beyond_the_candidates_list_every_other_match_once(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "RANKED_CANDIDATES", 8)
    seen: list[str] = []
    for offset in range(0, 70, 7):
        total, ids = _ids(conn, "bereavement", 7, offset)
        assert total == 66
        seen += ids
    assert len(seen) == 66 and set(seen) == set(_bm25_order(conn, "bereavement"))
    # After the candidates, the others keep their bm25 order.
    rest = [i for i in _bm25_order(conn, "bereavement") if i not in seen[:8]]
    assert seen[8:] == rest


def test_every_word_must_still_appear(conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_module, "RANKED_CANDIDATES", 8)
    total, ids = _ids(conn, "bereavement circle", 20)
    assert total == 4 and sorted(ids) == [f"r{60 + i:03d}" for i in range(4)]
    assert _ids(conn, "bereavement crafts", 20) == (0, [])


def test_a_first_page_computes_bm25_only_for_the_candidates(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "RANKED_CANDIDATES", 8)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    total, ids = _ids(conn, "bereavement", 8)
    conn.set_trace_callback(None)
    assert total == 66 and len(ids) == 8
    ranking = [sql for sql in seen if "bm25(" in sql]
    assert ranking and all("json_each" in sql and "BETWEEN" in sql for sql in ranking), ranking
    # Each candidate read stops at the bound.
    reads = [sql for sql in seen if "listings_fts MATCH" in sql and "bm25(" not in sql and "count(*)" not in sql]
    assert reads and all(sql.rstrip().endswith(tuple(f"LIMIT {n}" for n in range(1, 9))) for sql in reads), reads
