""" "today" and "this weekend" right after the London day's turn, rolled horizon against a full refill.

    SIGNPOST_BENCH_CACHE=/tmp/signpost-bench-<name> .venv/bin/python tests/bench/day_turn.py [--rounds 5]

Takes a copy of the cached 100,000-listing directory (``http_search.py`` builds it), brings it up to
date and fills its stored sessions on a Thursday evening, then copies it twice and turns the day to
Friday 00:05 on each: one rolls the horizon (node.directory.occurrences.advance, as the serve job
does), the other refills from nothing (the path a node down for days takes, and what every day's
turn did before the roll).  Times ``search()`` for "today" and "this weekend" on both, alternately,
right after the turn (before any batch has run), then the cost of bringing each to the new day:
CPU and writer-held time per batch (each batch is one writer transaction in ``signpost serve``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from node.directory.filters import parse_filters
from node.directory.occurrences import advance, drop_past, extend, fill_pending, horizon, refresh
from node.directory.schedule import LONDON
from node.directory.search import resolve_place, search
from node.storage.migrations import upgrade
from node.storage.store import connect, transaction

EVENING = dt.datetime(2026, 11, 26, 23, 50, tzinfo=LONDON)  # a Thursday
TURN = dt.datetime(2026, 11, 27, 0, 5, tzinfo=LONDON)
WHENS = {"today": "today", "this weekend": "this-weekend"}


def _open(path: Path) -> sqlite3.Connection:
    conn = connect(path)
    upgrade(conn)
    return conn


def _search_ms(conn: sqlite3.Connection, when: str) -> float:
    filters = parse_filters({"when": when})
    t = time.perf_counter()
    search(conn, filters, place=resolve_place(filters), now=TURN, limit=20)
    return (time.perf_counter() - t) * 1000


def _batches(conn: sqlite3.Connection, step: Callable[[sqlite3.Connection], int]) -> list[tuple[int, float, float]]:
    """(items, CPU ms, writer-held ms) per transaction until ``step`` returns 0."""
    out = []
    while True:
        cpu, wall = time.process_time(), time.perf_counter()
        with transaction(conn):
            n = step(conn)
        out.append((n, (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000))
        if not n:
            return out


def _report(name: str, batches: list[tuple[int, float, float]]) -> None:
    work = [b for b in batches if b[0]] or batches
    cpu, held = [b[1] for b in work], [b[2] for b in work]
    print(
        f"  {name}: {sum(b[0] for b in batches):,} in {len(work)} batches; CPU {sum(cpu) / 1000:.2f} s; "
        f"writer held per batch median {statistics.median(held):.0f} ms, max {max(held):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cache = Path(os.environ.get("SIGNPOST_BENCH_CACHE", "/tmp/signpost-bench"))
    parser.add_argument("--db", type=Path, default=cache / "directory-100000-f1" / "signpost.db")
    parser.add_argument("--work", type=Path, default=cache / "day-turn")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    base = args.work / "evening.db"
    if not base.exists():
        shutil.copyfile(args.db, base)
        conn = _open(base)
        t = time.perf_counter()
        refresh(conn, EVENING)
        print(f"filled Thursday's sessions in {time.perf_counter() - t:.1f} s")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    paths = {name: args.work / f"{name}.db" for name in ("rolled", "refilled")}
    conns = {}
    for name, path in paths.items():
        shutil.copyfile(base, path)
        conns[name] = _open(path)
    with transaction(conns["refilled"]):
        conns["refilled"].execute("DELETE FROM meta WHERE key LIKE 'occurrences_%'")  # as if down for days
    for name, conn in conns.items():
        t = time.perf_counter()
        with transaction(conn):
            advance(conn, TURN)
        pending = conn.execute("SELECT count(*) FROM listing_occurrences_pending").fetchone()[0]
        print(f"{name}: advance {1000 * (time.perf_counter() - t):.0f} ms, {pending:,} listings pending")
    load = os.getloadavg()
    print(f"\nsearch() right after the turn, ms (first, then median and max of {args.rounds}; load {load[0]:.2f})")
    times: dict[tuple[str, str], list[float]] = {(n, w): [] for n in conns for w in WHENS}
    for _ in range(args.rounds + 1):
        for label, when in WHENS.items():
            for name, conn in conns.items():
                times[(name, label)].append(_search_ms(conn, when))
    for (name, label), found in times.items():
        first, rest = found[0], found[1:]
        print(f"  {name:9} {label:13} {first:7.0f}  {statistics.median(rest):7.0f}  {max(rest):7.0f}")
    print("\nbringing each to the new day (one transaction a batch)")
    rolled, refilled = conns["rolled"], conns["refilled"]
    _report("rolled: extend (listings)", _batches(rolled, extend))
    _report("rolled: drop_past (sessions)", _batches(rolled, drop_past))
    _report("refilled: fill_pending (listings)", _batches(refilled, fill_pending))
    print(f"  horizons: rolled {horizon(rolled)}, refilled {horizon(refilled)}")
    for label, when in WHENS.items():
        after = [_search_ms(rolled, when) for _ in range(args.rounds)]
        print(f"  rolled {label} once the roll is done: median {statistics.median(after):.0f} ms")
    for conn in conns.values():
        conn.close()


if __name__ == "__main__":
    main()
