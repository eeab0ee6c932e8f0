"""Search latency at 100,000 listings: p50/p95/p99 for word, place, and word + place + "this weekend".

    /tmp/venv/bin/python tests/bench/search.py [--listings 100000] [--queries 300] [--db PATH]

Builds (or reuses, with --db) a synthetic directory: listings spread over GB
postcode sectors in proportion to how many postcodes each holds (so cities are
dense and the Highlands sparse), with a realistic mix of kinds, delivery,
schedules, private groups and review dates.  Rows go straight into the
listings index (no signing): only search is measured.  Each query is timed
around ``node.directory.search.search`` on one reader connection, including decoding the
page of results and computing their next dates.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import msgspec

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from node.directory.filters import parse_filters
from node.directory.geo import DATA_DIR
from node.directory.schedule import LONDON
from node.directory.search import resolve_place, search
from node.storage.index import index_record
from node.storage.store import connect, init_schema, transaction
from protocol.records import TOPICS, Record

NOW = dt.datetime(2026, 11, 25, 14, 0, tzinfo=LONDON)  # a Wednesday
KINDS = [
    ("group", 55),
    ("service", 15),
    ("event", 12),
    ("training", 5),
    ("role", 5),
    ("resource", 4),
    ("organisation", 4),
]
DELIVERY = [("in_person", 75), ("online", 12), ("hybrid", 6), ("phone", 7)]
DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
TIMES = [
    ("10:00", "12:00"),
    ("10:30", "12:30"),
    ("13:00", "14:30"),
    ("14:00", "16:00"),
    ("18:00", "19:30"),
    ("18:30", "20:00"),
    ("19:00", "21:00"),
    ("18:00", "02:00"),
]
NOUNS = {
    "group": ["peer support group", "circle", "café", "drop-in", "walk and talk", "meet-up"],
    "service": ["peer support line", "crisis space", "peer mentoring"],
    "event": ["open day", "wellbeing fair", "gathering"],
    "training": ["peer facilitation course", "IPS introduction"],
    "role": ["volunteer peer supporter", "peer support worker"],
    "resource": ["toolkit", "guide", "template"],
    "organisation": ["peer support network", "mental health charity"],
}
FILLER = [
    "we",
    "meet",
    "together",
    "share",
    "experience",
    "listen",
    "without",
    "judgement",
    "welcome",
    "everyone",
    "friendly",
    "quiet",
    "room",
    "tea",
    "coffee",
    "support",
    "each",
    "other",
    "recovery",
    "hope",
    "lived",
    "experience",
    "confidential",
    "safe",
    "space",
    "volunteers",
    "trained",
    "facilitators",
]
WORD_QUERIES = [
    "hearing voices",
    "walking",
    "carers",
    "bipolar",
    "anxiety",
    "men",
    "creative",
    "lgbtq",
    "suicide bereavement",
    "peer support",
    "crisis",
    "young people",
    "eating",
    "psychosis",
    "café",
    "veterans",
    "perinatal",
    "trauma",
    "loneliness",
    "ocd",
]


def weighted(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in table], [w for _, w in table])[0]


def load_sectors() -> list[tuple[str, float, float, str, int]]:
    with (DATA_DIR / "uk-postcode-sectors.csv").open(encoding="utf-8") as f:
        return [
            (r["sector"], float(r["latitude"]), float(r["longitude"]), r["district_name"], int(r["postcodes"]))
            for r in csv.DictReader(f)
        ]


def make_record(
    rng: random.Random, i: int, publisher: str, sector: tuple[str, float, float, str, int]
) -> dict[str, object]:
    kind = weighted(rng, KINDS)
    delivery = weighted(rng, DELIVERY)
    topics = rng.sample(list(TOPICS), rng.choice([1, 1, 2, 3]))
    area_name = sector[3]
    name = f"{area_name.split(',')[0]} {TOPICS[topics[0]].lower()} {rng.choice(NOUNS[kind])}"
    rec: dict[str, object] = {
        "publisher": publisher,
        "id": f"l{i}",
        "rev": 1_700_000_000_000_000 + i,
        "updated": "2026-10-01T10:00:00Z",
        "kind": kind,
        "name": name[:200],
        "summary": f"A {rng.choice(NOUNS[kind])} for people interested in {', '.join(TOPICS[t].lower() for t in topics)}.",
        "description": " ".join(rng.choices(FILLER, k=rng.randint(20, 60))),
        "topics": topics,
        "delivery": delivery,
        "status": rng.choices(["active", "paused", "closed"], [92, 5, 3])[0],
        "reviewed": (NOW.date() - dt.timedelta(days=rng.randint(0, 450))).isoformat(),
        "cost": {"free": rng.random() < 0.8},
    }
    lat = f"{sector[1] + rng.uniform(-0.004, 0.004):.5f}"
    lon = f"{sector[2] + rng.uniform(-0.006, 0.006):.5f}"
    if delivery in ("in_person", "hybrid"):
        if kind == "group" and rng.random() < 0.2:
            rec["private"] = True
            rec["location"] = {
                "type": "area",
                "area": area_name,
                "postcode_area": sector[0],
                "lat": f"{sector[1]:.5f}",
                "lon": f"{sector[2]:.5f}",
            }
        else:
            rec["location"] = {
                "type": "public",
                "name": "Community centre",
                "address": f"{rng.randint(1, 200)} High Street",
                "area": area_name,
                "lat": lat,
                "lon": lon,
            }
    roll = rng.random()
    opens, closes = rng.choice(TIMES)
    if kind in ("event", "training"):
        start = NOW.date() + dt.timedelta(days=rng.randint(-30, 200))
        rec["schedule"] = {
            "dates": [
                {"date": (start + dt.timedelta(days=7 * k)).isoformat(), "opens": opens, "closes": closes}
                for k in range(rng.choice([1, 1, 2, 4]))
            ]
        }
    elif kind in ("group", "service") and roll < 0.65:
        days = rng.sample(DAYS, rng.choice([1, 1, 1, 2, 3]))
        rule: dict[str, object] = {"freq": "weekly", "byday": days, "opens": opens, "closes": closes}
        if rng.random() < 0.15:
            rule.update(
                interval=2, starts=(NOW.date() - dt.timedelta(days=rng.randint(0, 700))).isoformat(), byday=days[:1]
            )
        rec["schedule"] = {"rules": [rule], "not_on_bank_holidays": rng.random() < 0.3}
    elif kind in ("group", "service") and roll < 0.85:
        rec["schedule"] = {
            "rules": [
                {
                    "freq": "monthly",
                    "byday": [f"{rng.choice(['1', '2', '3', '-1'])}{rng.choice(DAYS)}"],
                    "opens": opens,
                    "closes": closes,
                }
            ]
        }
    elif kind in ("group", "service"):
        rec["schedule"] = {"text": "Times vary: get in touch"}
    return rec


def build(path: Path, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    sectors = load_sectors()
    weights = [s[4] for s in sectors]
    publishers = [f"sp1:{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz234567', k=26))}" for _ in range(300)]
    conn = connect(path)
    init_schema(conn)
    enc = msgspec.json.Encoder()
    t = time.perf_counter()
    batch = 5000
    for start in range(0, n, batch):
        with transaction(conn):
            for i in range(start, min(n, start + batch)):
                sector = rng.choices(sectors, weights)[0]
                rec = msgspec.convert(make_record(rng, i, rng.choice(publishers), sector), Record)
                index_record(conn, rec, enc.encode(rec).decode())
        print(f"  {min(n, start + batch)} listings ({time.perf_counter() - t:.0f}s)", file=sys.stderr)
    conn.execute("PRAGMA optimize")
    conn.execute("INSERT INTO listings_fts (listings_fts) VALUES ('optimize')")
    conn.close()


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {statistics.median(samples):6.2f} ms   p95 {q[94]:6.2f} ms   p99 {q[98]:6.2f} ms   (n={len(samples)})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listings", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--db", type=Path, help="reuse (or create) this database file")
    args = ap.parse_args()
    path = args.db or Path(tempfile.mkdtemp(prefix="signpost-bench-")) / "search.db"
    if not path.exists():
        print(f"building {args.listings} listings in {path}", file=sys.stderr)
        build(path, args.listings)
    conn = connect(path)
    total = conn.execute("SELECT count(*) FROM listings").fetchone()[0]
    rng = random.Random(11)
    sectors = load_sectors()
    weights = [s[4] for s in sectors]
    outcodes = [rng.choices(sectors, weights)[0][0].split(" ")[0] for _ in range(args.queries)]
    towns = [
        "Leeds",
        "Manchester",
        "Lambeth",
        "Bristol",
        "Liverpool",
        "Glasgow",
        "Birmingham",
        "Sheffield",
        "Norwich",
        "Cornwall",
    ]
    suites = {
        "word": [{"q": rng.choice(WORD_QUERIES)} for _ in range(args.queries)],
        "place": [{"near": rng.choice([rng.choice(outcodes), rng.choice(towns)])} for _ in range(args.queries)],
        "word+place+this weekend": [
            {
                "q": rng.choice(WORD_QUERIES),
                "near": rng.choice([rng.choice(outcodes), rng.choice(towns)]),
                "when": "this-weekend",
            }
            for _ in range(args.queries)
        ],
    }
    print(
        f"{total} listings; {args.queries} queries per kind; times include decoding the page of 20 and their next dates"
    )
    for label, queries in suites.items():
        for params in queries[:20]:  # warm the page cache
            f = parse_filters(params)
            search(conn, f, place=resolve_place(f), now=NOW)
        samples, found = [], []
        for params in queries:
            f = parse_filters(params)
            t = time.perf_counter()
            place = resolve_place(f)
            results = search(conn, f, place=place, now=NOW)
            samples.append((time.perf_counter() - t) * 1000)
            found.append(results.total)
        print(f"{label:26s} {percentiles(samples)}   median results {statistics.median(found):.0f}")


if __name__ == "__main__":
    main()
