"""Search latency where a person waits: through a real ``signpost serve``, idle and during an ingest.

    .venv/bin/python tests/bench/http_search.py                 # 100,000 listings
    .venv/bin/python tests/bench/http_search.py --quick         # 2,000 listings, a smoke run
    .venv/bin/python tests/bench/http_search.py --size 1000000  # the national-size run (long build)

The directory is the synthetic one of ``tests/bench/search.py``: listings spread
over every GB postcode sector in proportion to how many postcodes it holds (so
every district has some, cities more), 300 publishers with their organisation
records, a realistic mix of kinds, delivery and schedules.  It is built once
into a real node directory and cached under ``SIGNPOST_BENCH_CACHE``
(``/tmp/signpost-bench``); each run serves a fresh copy, because the ingest
phase adds to it.

For each query type (one word, two words, a place, a kind, "today", "this
weekend", and all combined) it times the JSON API (``/api/v1/search``) and the
HTML results page (``/search``) from one client, then runs 50 concurrent
clients over the whole mix.  Then the node follows a second real node (the
cached signed peer of ``peers.py``, 100,000 listings) and the same figures are
taken while it pulls.  RSS and PSS are summed over the serving process and its children (reader
processes, verifier workers), sampled every 100 ms.  Clients use aiohttp on 127.0.0.1
only, with bounded request counts.  The last lines (``RESULT …``) give the
figures the goals in docs/benchmarks.md are judged by.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.util
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from peers import CACHE, REPO, TreeRss, build_peer, machine, serving_copy

from nodeutil import NodeHandle, ServeProcess, make_node, signpost

_spec = importlib.util.spec_from_file_location("bench_search", BENCH / "search.py")
assert _spec is not None and _spec.loader is not None
bench_search = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_search)

DIRECTORY_FORMAT = 1
QUERIES: dict[str, dict[str, str]] = {
    "one word": {"q": "support"},
    "two words": {"q": "hearing voices"},
    "place": {"near": "LS6"},
    "kind": {"kind": "event"},
    "today": {"when": "today"},
    "this weekend": {"when": "this-weekend"},
    "combined": {"q": "support", "near": "M14", "when": "this-weekend", "kind": "group"},
}
GOAL_P95_MS = 30.0
GOAL_RPS = 300.0
GOAL_P99_MS = 250.0
GOAL_RSS_MB = 200.0
INGEST_WAIT_S = 600.0  # how long a phase waits for the pull to finish once measuring stops


def build_directory(size: int) -> Path:
    """A node directory holding ``size`` listings spread like the UK; built once, then cached."""
    target = CACHE / f"directory-{size}-f{DIRECTORY_FORMAT}"
    if (target / "ready").exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    make_node(target, "Bench Directory")
    bench_search.build(target / "signpost.db", size)
    conn = sqlite3.connect(target / "signpost.db")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    (target / "ready").write_text(f"{size} listings built in {time.perf_counter() - started:.1f} s\n")
    print(f"built directory of {size} listings in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return target


def fresh_copy(cached: Path, run_dir: Path) -> NodeHandle:
    """A writable copy of the cached directory (the ingest adds to it) on a fresh port."""
    from node.core.config import render_config
    from nodeutil import free_port

    run_dir.mkdir(parents=True)
    shutil.copytree(cached / "keys", run_dir / "keys")
    shutil.copyfile(cached / "signpost.db", run_dir / "signpost.db")
    port = free_port()
    config = render_config(name="Bench Directory", url=f"http://127.0.0.1:{port}", port=port)
    # Pull as soon as a peer is followed, once; plain HTTP is fine on 127.0.0.1.
    config = config.replace("interval = 300", "interval = 36000\njitter = 0\nallow_insecure_http = true")
    (run_dir / "signpost.toml").write_text(config, "utf-8")
    settle(run_dir / "signpost.db")
    conn = sqlite3.connect(run_dir / "signpost.db")
    try:
        publisher = str(conn.execute("SELECT value FROM meta WHERE key = 'publisher'").fetchone()[0])
    finally:
        conn.close()
    return NodeHandle(run_dir, port, publisher)


def settle(db: Path) -> None:
    """Bring the copy to where a node that has been serving a while is: schema current, today's
    sessions and the set of listings not shown filled (a copy cached on an earlier day would
    otherwise spend its first minutes, and the ingest phase, refilling them)."""
    from node.directory import occurrences, unshown
    from node.storage.migrations import upgrade

    conn = sqlite3.connect(db, isolation_level=None)
    try:
        upgrade(conn)
        now = dt.datetime.now(dt.UTC)
        occurrences.refresh(conn, now)
        unshown.refresh(conn, now)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


class Serve(ServeProcess):
    """``signpost serve`` with extra arguments (``--workers N``)."""

    def __init__(self, node: NodeHandle, extra: list[str]) -> None:
        super().__init__(node)
        self.extra = extra

    def start(self, timeout: float = 60) -> Serve:
        if not self.extra:
            super().start(timeout)
            return self
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "node",
                "serve",
                "--dir",
                str(self.node.directory),
                "--port",
                str(self.node.port),
                *self.extra,
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.node.url}/.well-known/signpost", timeout=2):
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"serve did not start: {self.log.read_text()}")


# -- measuring ----------------------------------------------------------------


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) < 2:
        v = samples[0] if samples else float("nan")
        return v, v, v
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), q[94], q[98]


async def _timed(session: Any, url: str) -> tuple[float, int]:
    t = time.perf_counter()
    async with session.get(url) as r:
        await r.read()
        return (time.perf_counter() - t) * 1000, r.status


def _urls(base: str, params: dict[str, str], html: bool) -> str:
    from urllib.parse import urlencode

    return f"{base}{'/search' if html else '/api/v1/search'}?{urlencode(params)}"


async def single_client(base: str, requests: int, until: Any = None) -> dict[str, tuple[float, float, float, int]]:
    """Per query type and surface: p50, p95, p99, errors of requests sent one after another.

    Idle, ``requests`` of each type in turn.  With ``until`` (a function saying
    whether the ingest is over), the types are sent round-robin until it is, so
    every type is timed across the whole ingest, with at most ``requests`` each.
    """
    import aiohttp

    urls = {
        f"{label} ({'HTML' if html else 'API'})": _urls(base, params, html)
        for label, params in QUERIES.items()
        for html in (False, True)
    }
    samples: dict[str, list[float]] = {k: [] for k in urls}
    errors = dict.fromkeys(urls, 0)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        if until is None:
            for label, url in urls.items():
                await _timed(session, url)  # warm
                for _ in range(requests):
                    ms, status = await _timed(session, url)
                    samples[label].append(ms)
                    errors[label] += status != 200
        else:
            for _ in range(requests):
                if await asyncio.to_thread(until):
                    break
                for label, url in urls.items():
                    ms, status = await _timed(session, url)
                    samples[label].append(ms)
                    errors[label] += status != 200
    return {k: (*percentiles(v), errors[k]) for k, v in samples.items()}


async def concurrent(
    base: str, clients: int, per_client: int, until: Any = None
) -> tuple[float, float, float, float, int, int]:
    """``clients`` clients each sending up to ``per_client`` requests over the mix (stopping early when
    ``until()`` says the ingest is over): requests/s, p50, p95, p99, errors, how many answered."""
    import aiohttp

    mix = [_urls(base, p, html) for p in QUERIES.values() for html in (False, True)]
    samples: list[float] = []
    errors = 0
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            if until is not None and await asyncio.to_thread(until):
                done.set()
            await asyncio.sleep(0.5)

    async def client(k: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for i in range(per_client):
            if done.is_set():
                return
            try:
                ms, status = await _timed(session, mix[(k + i) % len(mix)])
            except (TimeoutError, aiohttp.ClientError):
                errors += 1
                continue
            samples.append(ms)
            errors += status != 200

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        watcher = asyncio.create_task(watch())
        started = time.perf_counter()
        await asyncio.gather(*(client(k, session) for k in range(clients)))
        seconds = time.perf_counter() - started
        done.set()
        await watcher
    p50, p95, p99 = percentiles(samples)
    return (len(samples) + errors) / seconds, p50, p95, p99, errors, len(samples)


def wait_for_occurrences(node: NodeHandle, timeout: float = 300) -> str:
    """Wait until the serving node has filled its precomputed sessions (node.directory.occurrences),
    as a node that has been running for a while has; say how long it took."""
    started = time.perf_counter()
    conn = sqlite3.connect(node.directory / "signpost.db", timeout=30)
    try:
        while time.perf_counter() - started < timeout:
            try:
                pending = conn.execute("SELECT count(*) FROM listing_occurrences_pending").fetchone()[0]
                filled = conn.execute("SELECT value FROM meta WHERE key = 'occurrences_from'").fetchone()
            except sqlite3.OperationalError:
                return "no occurrences table (code before it)"
            if pending == 0 and filled is not None:
                return f"sessions filled {time.perf_counter() - started:.1f} s after start"
            time.sleep(0.5)
        return f"sessions still pending after {timeout:.0f} s"
    finally:
        conn.close()


def merged_from_peers(node: NodeHandle) -> int:
    """Records the node has merged from its peers so far (the sync's own count, per committed page)."""
    conn = sqlite3.connect(node.directory / "signpost.db", timeout=30)
    try:
        return int(conn.execute("SELECT coalesce(sum(merged), 0) FROM peers").fetchone()[0])
    finally:
        conn.close()


def listing_count(node: NodeHandle) -> int:
    conn = sqlite3.connect(node.directory / "signpost.db", timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM listings").fetchone()[0])
    finally:
        conn.close()


# -- reporting ----------------------------------------------------------------


def print_single(title: str, figures: dict[str, tuple[float, float, float, int]]) -> None:
    print(f"\n{title}")
    print(f"| {'query':28s} | {'p50 ms':>8s} | {'p95 ms':>8s} | {'p99 ms':>8s} | errors |")
    print(f"|{'-' * 30}|{'-' * 10}|{'-' * 10}|{'-' * 10}|--------|")
    for label, (p50, p95, p99, errors) in figures.items():
        print(f"| {label:28s} | {p50:8.1f} | {p95:8.1f} | {p99:8.1f} | {errors:6d} |")


def print_concurrent(title: str, r: tuple[float, float, float, float, int, int]) -> None:
    rps, p50, p95, p99, errors, n = r
    print(
        f"{title}: {rps:,.0f} requests/s; p50 {p50:.1f} / p95 {p95:.1f} / p99 {p99:.1f} ms; {errors} errors of {n + errors}"
    )


def run(
    size: int, requests: int, clients: int, per_client: int, workers: int | None, *, busy_clients: bool = True
) -> int:
    print(machine())
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    started = time.perf_counter()
    cached = build_directory(size)
    peer_cached = build_peer(size)
    print(f"directory and peer of {size} listings ready in {time.perf_counter() - started:.1f} s")
    work = Path(tempfile.mkdtemp(prefix="signpost-http-search-"))
    try:
        node = fresh_copy(cached, work / "node")
        extra = [] if workers is None else ["--workers", str(workers)]
        before = listing_count(node)
        # Idle.
        with Serve(node, extra) as serving:
            assert serving.proc is not None
            print(f"idle node: {wait_for_occurrences(node)}")
            with TreeRss(serving.proc.pid) as rss_idle:
                idle = asyncio.run(single_client(node.url, requests))
                idle_c = asyncio.run(concurrent(node.url, clients, per_client))
        print_single(f"IDLE, one client, {requests} requests each ({before:,} listings)", idle)
        print_concurrent(f"IDLE, {clients} clients x {per_client} requests over the mix", idle_c)
        print(f"IDLE serve RSS peak (with children): {rss_idle.peak_mb:.0f} MB; PSS {rss_idle.peak_pss_mb:.0f} MB")
        # During an ingest: a fresh copy follows a second real node and pulls it as soon as it starts;
        # once for one client, once more for the concurrent clients.
        peer = serving_copy(peer_cached, work / "peer")
        busy: dict[str, tuple[float, float, float, int]] = {}
        busy_c: tuple[float, float, float, float, int, int] = (0.0, 0.0, 0.0, 0.0, 0, 0)
        rss_ingest = pss_ingest = 0.0
        with ServeProcess(peer):
            for phase in ("one", "many") if busy_clients else ("one",):
                copy = fresh_copy(cached, work / f"ingest-{phase}")
                signpost("follow", "--dir", str(copy.directory), "--yes", peer.url)
                with Serve(copy, extra) as serving:
                    assert serving.proc is not None
                    t0 = time.perf_counter()

                    def over(copy: NodeHandle = copy) -> bool:
                        return merged_from_peers(copy) >= size

                    with TreeRss(serving.proc.pid) as rss:
                        at_start = merged_from_peers(copy)
                        if phase == "one":
                            busy = asyncio.run(single_client(copy.url, requests, until=over))
                        else:
                            busy_c = asyncio.run(concurrent(copy.url, clients, per_client * 20, until=over))
                        at_end = merged_from_peers(copy)
                        seconds = time.perf_counter() - t0
                    rss_ingest, pss_ingest = max(rss_ingest, rss.peak_mb), max(pss_ingest, rss.peak_pss_mb)
                    while not over() and time.perf_counter() - t0 < INGEST_WAIT_S:
                        time.sleep(0.5)
                    pulled = time.perf_counter() - t0
                    merged = merged_from_peers(copy)
                done = f"all {size:,}" if merged >= size else f"only {merged:,} of {size:,} (stopped waiting)"
                print(
                    f"ingest with {'one client' if phase == 'one' else f'{clients} clients'}: {at_start:,} merged "
                    f"before the first request, {at_end:,} when measuring stopped after {seconds:.1f} s; "
                    f"{done} in {pulled:.1f} s ({merged / pulled:,.0f} records/s under load)"
                )
        print_single("DURING INGEST, one client, round-robin over the types until the ingest ends", busy)
        if busy_clients:
            print_concurrent(f"DURING INGEST, {clients} clients over the mix until the ingest ends", busy_c)
        else:
            print(f"DURING INGEST, {clients} clients: not run (--no-busy-clients)")
        print(f"DURING INGEST serve RSS peak (with children): {rss_ingest:.0f} MB; PSS {pss_ingest:.0f} MB")
        load = os.getloadavg()
        print(f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        worst = max(idle.items(), key=lambda kv: kv[1][1])
        ratio = max(busy[k][1] / max(idle[k][1], 0.001) for k in idle)
        print(
            f"RESULT http_search idle: worst p95 {worst[1][1]:.1f} ms ({worst[0]}) (goal < {GOAL_P95_MS:.0f}: "
            f"{'met' if worst[1][1] < GOAL_P95_MS else 'MISSED'})"
        )
        print(f"RESULT http_search ingest: worst p95 ratio ingest/idle {ratio:.2f} (goal <= 2)")
        print(
            f"RESULT http_search throughput: {idle_c[0]:,.0f} req/s idle, p99 {idle_c[3]:.0f} ms, {idle_c[4]} errors "
            f"(goal >= {GOAL_RPS:.0f}, p99 < {GOAL_P99_MS:.0f}, 0 errors)"
        )
        print(
            f"RESULT http_search RSS: {rss_ingest:.0f} MB during ingest (RSS sum: shared pages once per process); "
            f"PSS {pss_ingest:.0f} MB (shared pages split between processes: the memory really held) "
            f"(goal < {GOAL_RSS_MB:.0f}, judged on PSS: {'met' if pss_ingest < GOAL_RSS_MB else 'MISSED'})"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # figures as they come
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--size", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=40, help="per query type and surface, one client")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--per-client", type=int, default=20)
    ap.add_argument("--workers", type=int, default=None, help="serve workers (default: the node's default)")
    ap.add_argument("--quick", action="store_true", help="2,000 listings, few requests: a smoke run")
    ap.add_argument(
        "--no-busy-clients",
        action="store_true",
        help="skip the 50 clients during an ingest (at 1,000,000 listings they leave the pull too little CPU to end)",
    )
    args = ap.parse_args()
    if args.quick:
        args.size, args.requests, args.clients, args.per_client = 2000, 5, 8, 4
    os.chdir(REPO)
    raise SystemExit(
        run(
            args.size, args.requests, args.clients, args.per_client, args.workers, busy_clients=not args.no_busy_clients
        )
    )


if __name__ == "__main__":
    main()
