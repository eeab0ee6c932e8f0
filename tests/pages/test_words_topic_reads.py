"""Best-effort words read by rowid, not by scanning every listing (issue 20).

When the words' intent is only words and topics, the public search reads the word matches and
the listings the FTS index finds each topic's words in, instead of checking every listing's
topics.  These tests run each search with that set and with every listing in it (what the scan
read), and require the same total and the same page, on the example networks and on a corpus
with ties, side kinds, service areas and listings search must not show.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from node.directory import search as search_module
from node.directory.filters import parse_filters
from node.directory.schedule import LONDON
from node.directory.search import SearchResults, prepare, search
from node.storage.index import index_record
from node.storage.store import connect, init_schema, transaction
from protocol.records import Record

CASES = Path(__file__).resolve().parents[1] / "bench" / "relevance"
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=LONDON)
PUBLISHER = "sp1:" + "b" * 26


def _public(conn: sqlite3.Connection, q: str, limit: int, offset: int, now: dt.datetime) -> SearchResults:
    p = prepare(parse_filters({"q": q}))
    return search(conn, p.filters, place=p.place, now=now, limit=limit, offset=offset, intent=p.intent)


def _both_ways(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, q: str, limit: int, offset: int, now: dt.datetime
) -> tuple[tuple[int, list[str]], tuple[int, list[str]]]:
    """(with every listing read, as the scan did; with the words' and topics' matches read)."""
    out = []
    everything = {r for (r,) in conn.execute("SELECT rowid FROM listing_facets")}
    for topic_hits in (lambda c, topics: everything, search_module._topic_hits):
        monkeypatch.setattr(search_module, "_topic_hits", topic_hits)
        r = _public(conn, q, limit, offset, now)
        out.append((r.total, [f"{h.publisher}/{h.record.id}" for h in r.items]))
    return out[0], out[1]


def _words_cases() -> list[str]:
    cases = json.loads((CASES / "cases.json").read_text()) + json.loads((CASES / "heldout.json").read_text())
    return sorted({str(c["q"]) for c in cases if c.get("q") and not c.get("near")})


@pytest.mark.parametrize("limit", [1, 3, 20])
def test_reading_by_rowid_gives_the_same_page_on_the_example_networks(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    from example_network import NOW as EXAMPLE_NOW

    for q in [*_words_cases(), "peer", "recovery cafe", "walk", "volunteers", "online", "men", "hearing voices"]:
        full, bounded = _both_ways(conn, monkeypatch, q, limit, 0, EXAMPLE_NOW)
        assert bounded == full, q


def _record(i: int, **fields: Any) -> Record:
    base: dict[str, Any] = {
        "publisher": PUBLISHER,
        "id": f"r{i:03d}",
        "rev": 1_700_000_000_000_000 + i,
        "updated": "2026-10-01T10:00:00Z",
        "reviewed": "2026-10-01",
        "kind": "group",
        "name": "Anxiety circle",
        "delivery": "online",
        "status": "active",
    }
    base.update(fields)
    return msgspec.convert(base, Record)


@pytest.fixture
def corpus(tmp_path: Path) -> sqlite3.Connection:
    """Ties (many listings alike), side kinds, topics, service areas, and listings search must not show:
    closed, long unchecked, and an event whose last day has passed."""
    c = connect(tmp_path / "signpost.db")
    init_schema(c)
    records = [_record(i) for i in range(30)]  # thirty exact ties
    records += [_record(30 + i, name=f"Circle {i}", topics=["anxiety"]) for i in range(20)]
    records += [_record(50 + i, name=f"Anxiety course {i}", kind="training") for i in range(10)]
    records += [
        _record(60 + i, name=f"Helpline {i}", description="For anxiety.", service_area=["Leeds"]) for i in range(10)
    ]
    records += [
        _record(70 + i, name=f"Walk {i}", description="Anxiety and low mood, walking together.") for i in range(20)
    ]
    records.append(_record(90, name="Anxiety cafe", status="closed"))
    records.append(_record(91, name="Anxiety drop-in", reviewed="2020-01-01"))
    records.append(
        _record(
            92,
            name="Anxiety workshop",
            kind="event",
            schedule={"dates": [{"date": "2026-10-10", "opens": "10:00", "closes": "12:00"}]},
        )
    )
    records += [_record(93 + i, name=f"Craft {i}", description="Knitting.") for i in range(10)]
    enc = msgspec.json.Encoder()
    with transaction(c):
        for r in records:
            index_record(c, r, enc.encode(r).decode())
    return c


@pytest.mark.parametrize(("limit", "offset"), [(1, 0), (5, 0), (20, 0), (7, 14), (20, 80)])
def test_reading_by_rowid_gives_the_same_page_with_ties_and_hidden_listings(
    corpus: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch, limit: int, offset: int
) -> None:
    for q in ("anxiety", "anxiety leeds", "anxious", "walking anxiety", "circle", "feeling anxious"):
        full, bounded = _both_ways(corpus, monkeypatch, q, limit, offset, NOW)
        assert bounded == full, q
    total, page = _both_ways(corpus, monkeypatch, "anxiety", 100, 0, NOW)[1]
    assert total == 90 and not {"r090", "r091", "r092"} & {p.split("/")[1] for p in page}


def test_a_topic_search_reads_the_listings_with_the_topic_not_every_listing(corpus: sqlite3.Connection) -> None:
    seen: list[str] = []
    corpus.set_trace_callback(seen.append)
    found = _public(corpus, "feeling anxious", 100, 0, NOW)  # the topic anxiety, and the word "anxious"
    corpus.set_trace_callback(None)
    assert found.total == 20 and {h.record.topics[0] for h in found.items} == {"anxiety"}
    reads = [sql for sql in seen if sql.startswith("SELECT l.rowid, l.name, l.kind")]
    assert len(reads) == 1
    driver = json.loads(reads[0].rsplit("json_each('", 1)[1].split("')", 1)[0])
    assert len(driver) == 20  # the listings with the topic, of 104
