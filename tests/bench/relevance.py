"""Relevance of the public search: top-3 success and mean reciprocal rank over searches people type.

    .venv/bin/python tests/bench/relevance.py [--verbose]

The three example networks (``examples/*/listings.jsonl``) go into one
directory index, each under its own publisher, as a node holding its own
listings and its two peers' would.  Each case in ``tests/bench/relevance/``
(``cases.json``, and the held-out ``heldout.json`` reported beside it, never
tuned on) is run through the path the public search page takes
(:func:`node.directory.filters.parse_filters`, :func:`node.directory.search.prepare`,
then :func:`node.directory.search.search` with the words' intent, best-effort) with the clock fixed at Friday 4 December 2026, 17:30
London time.  A case succeeds when any listing it expects is in the first
three results; its reciprocal rank is 1/rank of the first expected listing
(0 when none is in the first 20).  A place the search does not recognise counts
as a failure.  See docs/benchmarks.md (Relevance).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from node.directory.filters import FilterError, parse_filters
from node.directory.schedule import LONDON
from node.directory.search import prepare, search
from node.storage.index import index_record
from node.storage.store import connect, init_schema, transaction
from protocol.records import Record

NOW = dt.datetime(2026, 12, 4, 17, 30, tzinfo=LONDON)  # a Friday evening
CASES = ROOT / "tests" / "bench" / "relevance"
NETWORKS = {
    "lambeth": "sp1:" + "a" * 26,
    "leeds": "sp1:" + "b" * 26,
    "national": "sp1:" + "c" * 26,
}
DEPTH = 20
GOAL = 0.95  # top-3 success on cases.json (issue: findability)


@dataclass
class Outcome:
    case: dict[str, object]
    rank: int | None  # 1-based rank of the first expected listing, None if not in the first DEPTH
    top: list[str]
    error: str | None = None


def build(path: Path) -> None:
    """One index holding the three example networks, as signed records would be indexed."""
    conn = connect(path)
    init_schema(conn)
    enc = msgspec.json.Encoder()
    with transaction(conn):
        for network, publisher in NETWORKS.items():
            lines = (ROOT / "examples" / network / "listings.jsonl").read_text("utf-8").splitlines()
            for i, line in enumerate(x for x in lines if x.strip()):
                obj = json.loads(line)
                obj.update(publisher=publisher, rev=1_780_000_000_000_000 + i, updated="2026-11-20T10:00:00Z")
                rec = msgspec.convert(obj, Record)
                index_record(conn, rec, enc.encode(rec).decode())
    conn.close()


def run_case(conn: object, case: dict[str, object]) -> Outcome:
    names = {v: k for k, v in NETWORKS.items()}
    params = {k: str(case[k]) for k in ("q", "near") if case.get(k)}
    expect = set(case["expect"])  # type: ignore[arg-type]
    try:
        prepared = prepare(parse_filters(params))
    except FilterError as e:
        return Outcome(case, None, [], error=f"{type(e).__name__}: {e}")
    results = search(
        conn,  # type: ignore[arg-type]
        prepared.filters,
        place=prepared.place,
        now=NOW,
        limit=DEPTH,
        intent=prepared.intent,
    )
    top = [f"{names[h.publisher]}:{h.record.id}" for h in results.items]
    rank = next((i for i, key in enumerate(top, 1) if key in expect), None)
    return Outcome(case, rank, top)


def run_all(conn: object, name: str) -> list[Outcome]:
    """Every case of ``cases.json`` or ``heldout.json``."""
    cases = json.loads((CASES / f"{name}.json").read_text("utf-8"))
    return [run_case(conn, c) for c in cases]


def report(label: str, outcomes: list[Outcome], verbose: bool) -> tuple[float, float]:
    n = len(outcomes)
    top3 = sum(1 for o in outcomes if o.rank is not None and o.rank <= 3) / n
    mrr = sum(1 / o.rank for o in outcomes if o.rank is not None) / n
    print(f"{label:<10} {n:4d} searches   top-3 success {top3:6.1%}   MRR {mrr:.3f}")
    for o in outcomes:
        if o.rank is not None and o.rank <= 3 and not verbose:
            continue
        where = f" near {o.case['near']!r}" if o.case.get("near") else ""
        got = o.error or ", ".join(o.top[:3]) or "nothing"
        status = "ok  " if o.rank is not None and o.rank <= 3 else "MISS"
        print(f"  {status} rank {o.rank or '-':>2}  q={o.case['q']!r}{where}  top: {got}")
    return top3, mrr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="show every case, not only the misses")
    parser.add_argument("--quick", action="store_true", help="accepted for the benchmark smoke test (always quick)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "relevance.db"
        build(path)
        conn = connect(path)
        figures = {name: report(name, run_all(conn, name), args.verbose) for name in ("cases", "heldout")}
        conn.close()
    (top3, mrr), (held3, held_mrr) = figures["cases"], figures["heldout"]
    print(
        f"RESULT relevance: cases top-3 {top3:.1%} MRR {mrr:.3f} (goal top-3 >= {GOAL:.0%}); "
        f"heldout top-3 {held3:.1%} MRR {held_mrr:.3f}"
    )


if __name__ == "__main__":
    main()
