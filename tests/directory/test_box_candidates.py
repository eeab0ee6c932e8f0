"""Listings in reach of a place are read from the latitude index, with the words checked on them by
ranking them rather than through the set of every match of the words: they are exactly the
listings, ranks and order the whole set gave (sessions pending and stored, hidden, closed, ended)."""

from __future__ import annotations

import math
import random
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from node.directory import search as search_module
from node.directory.filters import matches, parse_filters, radius_km
from node.directory.geo import Place
from node.directory.occurrences import refresh
from node.directory.search import search
from node.storage.console import set_keep_visible
from node.storage.store import connect, init_schema, transaction
from protocol.records import Record
from tests.directory.test_search_order import NOW, _kept, _listing, _write

LEEDS = Place("Leeds", "outcode", 53.80, -1.55, "Leeds")
WORDS = ["peer support", "support group", "hearing voices", "carers", "walking", "support for carers"]


def _record(rng: random.Random, i: int) -> Record:
    fields: dict[str, Any] = msgspec.to_builtins(_listing(rng, i))
    fields["summary"] = rng.choice(WORDS)
    if "location" in fields:
        # Spread over a band wider than the radius, so the bounding box leaves many out.
        fields["location"]["lat"] = f"{53.80 + rng.uniform(-0.2, 0.2):.4f}"
        fields["location"]["lon"] = f"{-1.55 + rng.uniform(-0.4, 0.4):.4f}"
    return msgspec.convert(fields, Record)


@pytest.fixture
def placed(tmp_path: Path) -> tuple[sqlite3.Connection, list[Record]]:
    conn = connect(tmp_path / "signpost.db")
    init_schema(conn)
    rng = random.Random(20)
    records = [_record(rng, i) for i in range(1500)]
    _write(conn, records[:1350])
    refresh(conn, NOW)
    _write(conn, records[1350:])  # written after the fill: their sessions are still pending
    assert conn.execute("SELECT count(*) FROM listing_occurrences_pending").fetchone()[0] > 0
    old = [r for r in records if r.reviewed is not None and r.reviewed < "2025-11-01"]
    with transaction(conn):
        for r in old[::4]:
            set_keep_visible(conn, r.publisher, r.id, True)
    return conn, records


def _in_box(c: Any, filters: Any) -> bool:
    radius = radius_km(filters, LEEDS)
    dlat, dlon = radius / 110.0, radius / (110.0 * max(0.05, math.cos(math.radians(LEEDS.lat))))
    return (
        c.lat is not None
        and LEEDS.lat - dlat <= c.lat <= LEEDS.lat + dlat
        and LEEDS.lon - dlon <= c.lon <= LEEDS.lon + dlon
    )


QUERIES = [
    {"q": "support", "when": "this-weekend", "kind": "group"},
    {"q": "support", "when": "this-weekend"},
    {"q": "hearing voices", "when": "weekday-evenings"},
    {"q": "support"},
    {"q": "carers", "within": "40"},
    {"when": "this-weekend"},
    {"q": "support", "when": "tomorrow", "free": "1"},
]


@pytest.mark.parametrize("params", QUERIES, ids=lambda p: "+".join(p.values()))
def test_the_box_gives_the_candidates_ranks_and_order_of_the_whole_match_sets(
    placed: tuple[sqlite3.Connection, list[Record]], params: dict[str, str]
) -> None:
    conn, records = placed
    filters = parse_filters({**params, "near": "LS1"})
    box = search_module._fetch(conn, filters, LEEDS, NOW, "box")
    # Without a place the words are the set of every match (an IN); keep those in the box.
    whole = [c for c in search_module._fetch(conn, filters, None, NOW, "either") if _in_box(c, filters)]
    assert box == whole
    assert len(box) > 5
    # And the search itself finds the listings the exact rule finds.
    kept = _kept(conn)
    results = search(conn, filters, place=LEEDS, now=NOW, limit=1000)
    assert {h.record.id for h in results.items} == {
        r.id for r in records if matches(r, filters, place=LEEDS, now=NOW, kept_visible=r.id in kept)
    }
    assert results.total == len(results.items)


def test_the_box_reads_no_set_of_every_match_of_the_words(
    placed: tuple[sqlite3.Connection, list[Record]],
) -> None:
    conn, _ = placed
    conn.execute("ANALYZE")
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    search_module._fetch(
        conn, parse_filters({"q": "support", "near": "LS1", "when": "this-weekend"}), LEEDS, NOW, "box"
    )
    conn.set_trace_callback(None)
    (statement,) = [s for s in seen if "listing_facets_lat" in s]
    plan = [str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")]
    assert any(p.startswith("SEARCH l USING INDEX listing_facets_lat") for p in plan), plan
    assert not any("listings_fts" in p for p in plan), plan
