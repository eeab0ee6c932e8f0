"""A search with no filter at all (the public page's "support", a filler word) counts from the set of
listings not shown and walks the name index kind by kind; it returns exactly what sorting every
listing shown returned: the same total, the same pages, ties on the name included."""

from __future__ import annotations

import re
import sqlite3

import pytest

from node.directory import unshown
from node.directory.filters import matches, parse_filters
from node.directory.search import prepare, search
from protocol.records import Record
from tests.directory.test_search_order import NOW, _kept, _nocase, _page, corpus

__all__ = ["corpus"]


def _expected(conn: sqlite3.Connection, records: list[Record]) -> list[str]:
    kept = _kept(conn)
    rowids = {str(i): int(r) for r, i in conn.execute("SELECT rowid, id FROM listings")}
    shown = [r for r in records if matches(r, parse_filters({}), place=None, now=NOW, kept_visible=r.id in kept)]
    return [r.id for r in sorted(shown, key=lambda r: (_nocase(r.name), rowids[r.id]))]


@pytest.mark.parametrize("filled", [True, False], ids=["set-filled", "set-not-filled"])
def test_no_filter_counts_and_pages_every_shown_listing_by_name_exactly(
    corpus: tuple[sqlite3.Connection, list[Record]], filled: bool
) -> None:
    conn, records = corpus
    if filled:
        unshown.refresh(conn, NOW)
        assert unshown.count_all_shown(conn, NOW) is not None
    else:
        assert unshown.count_all_shown(conn, NOW) is None  # never filled for this day: counted the exact way
    ids = _expected(conn, records)
    assert len(ids) < len(records)  # closed, hidden and ended listings are left out
    for offset in (0, 9, 40, len(ids) - 3, len(ids) + 5):
        assert _page(conn, {}, offset) == (len(ids), ids[offset : offset + 9]), offset
    # The public page reads "support" as a filler word: the same listings.
    prepared = prepare(parse_filters({"q": "support"}))
    assert prepared.intent.empty
    results = search(conn, prepared.filters, place=None, now=NOW, limit=9, offset=9, intent=prepared.intent)
    assert (results.total, [h.record.id for h in results.items]) == (len(ids), ids[9:18])


def test_no_filter_is_counted_and_paged_without_reading_every_listing(
    corpus: tuple[sqlite3.Connection, list[Record]],
) -> None:
    conn, _ = corpus
    unshown.refresh(conn, NOW)
    conn.execute("ANALYZE")
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    _page(conn, {}, 0)
    conn.set_trace_callback(None)
    searches = [s for s in seen if "listing" in s]
    assert searches
    for statement in searches:
        plan = [str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}")]
        # Counting every listing reads an index (the count's own), never the listing rows.
        assert not any(re.match(r"SCAN (l|listing_facets)\b", p) for p in plan), plan
        assert not any(re.match(r"SCAN listings(?! USING COVERING INDEX)\b", p) for p in plan), plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
