"""What keeps a results page fast at national size (docs/benchmarks.md, "HTTP search").

Each test pins the shape of the work, not a timing: how many statements a
lookup runs and which index drives them, so it holds on a loaded machine.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from node.directory.search import network_names
from node.storage.index import index_record
from node.storage.store import connect, init_schema, transaction
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


def _add(conn: sqlite3.Connection, records: list[Record]) -> None:
    enc = msgspec.json.Encoder()
    with transaction(conn):
        for r in records:
            index_record(conn, r, enc.encode(r).decode())


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
