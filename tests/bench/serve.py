"""Serve: feed rows/s under bounded load, Signpost next to Datasette on the same table.

Run from the repository root (Datasette is a benchmark-only dependency)::

    .venv/bin/pip install datasette           # once; not a Signpost dependency
    .venv/bin/python tests/bench/serve.py            # 100,000 records, 16 clients, 2 rounds x 5 s a server
    .venv/bin/python tests/bench/serve.py --quick    # 2,000 records, 4 clients, 1 round x 2 s

The database is the cached benchmark peer (see peers.py).  Signpost serves it
with a real ``signpost serve`` process (``GET /feed``, 500 items a page).
Datasette serves the same rows as JSON at the same page size, two ways, from
one ``datasette serve`` process:

- **matched** (the fair comparison, and the one judged): a table with the
  feed's own columns, ``feed (modified INTEGER PRIMARY KEY, state, kind, id,
  data)``, built once from the peer's ``versions`` (``data`` the signed
  envelope as text, as the feed carries it; cached with the peer), served
  as ``/feed/feed.json?_size=500``;
- **versions**: the node's own ``versions`` table, 11 columns, the envelope a
  BLOB that Datasette encodes as base64 (``/signpost/versions.json?_size=500``):
  more bytes and more work per row than the feed sends, so this ratio
  flatters Signpost; printed for comparison with earlier figures.

Both page by following ``next_url`` (keyset on the primary key, ``_next``),
with the row count, facets and suggestions switched off
(``_nocount=1&_nofacet=1&_nosuggest=1``) so Datasette does only the paging
work.  Signpost is served twice, by ``signpost serve`` as deployed (``--workers``
at its default, one process a core) and by ``signpost serve --workers 1`` (one
process, as ``datasette serve`` is); the ratio judged is the one-process one
(same rows, same columns, one process each), and the deployed one is printed
beside it.  Every server is started
before the first round and the load moves from server to server in turn
(``--rounds`` rounds of ``--seconds`` each), so the other work on a shared
machine falls on every server alike; an idle server costs next to nothing.
Each is loaded by the same client: a separate process with ``--clients``
aiohttp clients that each walk the feed from a different starting point.
Rows are counted from the decoded pages, so neither side is
credited for rows it did not send.

After the feed comparison, the same client measures Signpost's JSON search
API (``/api/v1/search`` with words, places and kinds, 20 results a request)
in requests/s; Datasette has no equivalent, so that figure stands alone.

Goal (docs/benchmarks.md): Signpost feed rows/s at least 1.5x Datasette's JSON rows/s on the matched table,
one process each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
from peers import REPO, build_peer, machine, serving_copy

GOAL_RATIO = 1.5
PAGE = 500


class _SignpostPage(msgspec.Struct):
    next: str
    items: list[msgspec.Raw]


class _DatasettePage(msgspec.Struct):
    rows: list[msgspec.Raw]
    next_url: str | None = None


async def _load(kind: str, base: str, starts: list[int], seconds: float) -> dict[str, float]:
    """One walker per start point, each following next links from there until time is up."""
    import aiohttp

    decoder = msgspec.json.Decoder(_SignpostPage if kind == "signpost" else _DatasettePage)
    table = {"versions": "signpost/versions", "matched": "feed/feed"}.get(kind, "")
    totals = {"pages": 0, "rows": 0, "bytes": 0, "errors": 0}
    if kind == "api":
        return await _api_load(base, len(starts), seconds, totals)

    def first(offset: int) -> str:
        if kind == "signpost":
            return f"{base}/feed?afterChangeNumber={offset}"
        extra = f"&_next={offset}" if offset else ""
        return f"{base}/{table}.json?_size={PAGE}&_nocount=1&_nofacet=1&_nosuggest=1{extra}"

    async def walker(session: aiohttp.ClientSession, k: int, deadline: float) -> None:
        url = first(starts[k])
        while time.perf_counter() < deadline:
            async with session.get(url) as resp:
                body = await resp.read()
                if resp.status != 200:
                    totals["errors"] += 1
                    url = first(0)
                    continue
            page = decoder.decode(body)
            totals["pages"] += 1
            totals["bytes"] += len(body)
            if kind == "signpost":
                rows, nxt = page.items, page.next if page.items else None
            else:
                rows, nxt = page.rows, page.next_url
            totals["rows"] += len(rows)
            url = nxt or first(0)

    clients = len(starts)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        # One untimed page per walker: connections and caches warm for both servers alike.
        async def warm() -> None:
            async with session.get(first(0)) as resp:
                await resp.read()

        await asyncio.gather(*(warm() for _ in range(clients)))
        started = time.perf_counter()
        await asyncio.gather(*(walker(session, k, started + seconds) for k in range(clients)))
        elapsed = time.perf_counter() - started
    return {**totals, "seconds": elapsed}


API_QUERIES = (
    "/api/v1/search?near=LS6",
    "/api/v1/search?q=peer+support",
    "/api/v1/search?kind=group&near=Leeds",
    "/api/v1/search?q=walking&near=M1",
    "/api/v1/search?topic=anxiety",
    "/api/v1/search?near=SW9&delivery=in_person",
)


async def _api_load(base: str, clients: int, seconds: float, totals: dict[str, float]) -> dict[str, float]:
    """Each client cycles through :data:`API_QUERIES`; a request counts as one page of 20 rows."""
    import aiohttp

    async def client(session: aiohttp.ClientSession, k: int, deadline: float) -> None:
        n = k
        while time.perf_counter() < deadline:
            async with session.get(base + API_QUERIES[n % len(API_QUERIES)]) as resp:
                body = await resp.read()
            n += 1
            if resp.status != 200:
                totals["errors"] += 1
                continue
            totals["pages"] += 1
            totals["rows"] += len(json.loads(body)["items"])
            totals["bytes"] += len(body)

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session, k, started + seconds) for k in range(clients)))
        elapsed = time.perf_counter() - started
    return {**totals, "seconds": elapsed}


def start_points(db: Path, clients: int) -> list[int]:
    """Change numbers spread evenly through the feed, one per client (0: the start)."""
    from node.storage.store import connect

    conn = connect(db)
    try:
        size = conn.execute("SELECT count(*) FROM versions").fetchone()[0]
        points = [0]
        for k in range(1, clients):
            offset = size * k // clients // PAGE * PAGE
            points.append(
                0
                if offset == 0
                else conn.execute(
                    "SELECT change FROM versions ORDER BY change LIMIT 1 OFFSET ?", (offset - 1,)
                ).fetchone()[0]
            )
        return points
    finally:
        conn.close()


def matched_table(cached: Path) -> Path:
    """A SQLite file holding one table with the feed's columns and rows, built once from the peer's ``versions``."""
    from node.storage.store import connect

    path = cached / "feed-table.db"  # inside the peer's cache: rebuilt with it
    if path.exists():
        return path
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    conn = connect(cached / "signpost.db")
    try:
        conn.execute("ATTACH DATABASE ? AS matched", (str(tmp),))
        conn.execute(
            "CREATE TABLE matched.feed (modified INTEGER PRIMARY KEY, state TEXT NOT NULL, kind TEXT NOT NULL,"
            " id TEXT NOT NULL, data TEXT NOT NULL)"
        )
        conn.execute(
            "INSERT INTO matched.feed SELECT change, CASE WHEN deleted THEN 'deleted' ELSE 'updated' END, kind,"
            " publisher || '/' || id, CAST(envelope AS TEXT) FROM versions ORDER BY change"
        )
        conn.commit()
        conn.execute("DETACH DATABASE matched")
    finally:
        conn.close()
    tmp.rename(path)
    return path


def load(kind: str, base: str, starts: list[int], seconds: float) -> dict[str, float]:
    """Run the load generator in its own process, so it does not share the server's interpreter."""
    proc = subprocess.run(
        [sys.executable, __file__, "--load", kind, base, ",".join(map(str, starts)), str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise SystemExit(f"load generator failed: {proc.stderr}")
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise SystemExit(f"{kind} answered {result['errors']} requests with an error")
    return result


def _wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


def report(name: str, r: dict[str, float]) -> float:
    rows_s = r["rows"] / r["seconds"]
    print(
        f"{name}: {r['pages']:.0f} pages, {r['rows']:.0f} rows, {r['bytes'] / 1e6:.0f} MB in {r['seconds']:.1f} s = "
        f"{r['pages'] / r['seconds']:,.1f} pages/s, {rows_s:,.0f} rows/s, {r['bytes'] / r['seconds'] / 1e6:.1f} MB/s"
    )
    return rows_s


def _add(total: dict[str, float], r: dict[str, float]) -> None:
    for key, value in r.items():
        total[key] = total.get(key, 0.0) + value


@contextlib.contextmanager
def _process(command: list[str], ready: str) -> Iterator[None]:
    """A server process, stopped (SIGINT, then killed) when the block ends."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        _wait_for(ready, proc)
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run(size: int, seconds: float, clients: int, rounds: int) -> int:
    from nodeutil import free_port

    datasette = Path(sys.executable).parent / "datasette"
    if not datasette.exists():
        raise SystemExit(
            f"Datasette is not installed next to {sys.executable}: run `{Path(sys.executable).parent}/pip install datasette`"
        )
    version = subprocess.run([str(datasette), "--version"], capture_output=True, text=True).stdout.strip()
    print(machine())
    print(
        f"{size} records, {clients} concurrent clients, {rounds} round(s) of {seconds:.0f} s per server "
        f"(servers interleaved, all started before the first round), {PAGE} rows a page; {version}"
    )
    cached = build_peer(size)
    work = Path(tempfile.mkdtemp(prefix="signpost-serve-"))
    starts = start_points(cached / "signpost.db", clients)
    signpost_cmd = [str(Path(sys.executable).parent / "signpost"), "serve"]
    try:
        peer = serving_copy(cached, work / "peer")
        single = serving_copy(cached, work / "single")
        db = work / "signpost.db"
        db.symlink_to(cached / "signpost.db")
        matched = work / "feed.db"
        matched.symlink_to(matched_table(cached))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        datasette_cmd = [str(datasette), "serve", str(db), str(matched), "-h", "127.0.0.1", "-p", str(port)]
        datasette_cmd += ["--setting", "max_returned_rows", str(PAGE)]
        servers = (
            ("signpost", peer.url, "Signpost GET /feed (serve, default --workers: one process a core)"),
            ("single", single.url, "Signpost GET /feed (serve --workers 1: one process, as Datasette)"),
            ("matched", base, "Datasette feed.json (the feed's 5 columns, data as text)"),
            ("versions", base, "Datasette versions.json (11 columns, the envelope as a base64 BLOB)"),
        )
        totals: dict[str, dict[str, float]] = {kind: {} for kind, _, _ in servers}
        with (
            _process([*signpost_cmd, "--dir", str(peer.directory), "--port", str(peer.port)], f"{peer.url}/feed"),
            _process(
                [*signpost_cmd, "--dir", str(single.directory), "--port", str(single.port), "--workers", "1"],
                f"{single.url}/feed",
            ),
            _process(datasette_cmd, f"{base}/feed/feed.json?_size=1"),
        ):
            for _ in range(rounds):
                for kind, url, _ in servers:
                    _add(totals[kind], load(kind if kind != "single" else "signpost", url, starts, seconds))
            api = load("api", peer.url, starts, seconds)
        rates = {kind: report(name, totals[kind]) for kind, _, name in servers}
        ours, single, fair = rates["signpost"], rates["single"], rates["matched"]
        ratio = single / fair
        print(
            f"Signpost GET /api/v1/search: {api['pages']:.0f} requests in {api['seconds']:.1f} s = "
            f"{api['pages'] / api['seconds']:,.1f} requests/s ({clients} clients, 20 results each)"
        )
        print(
            f"serve as deployed (one process a core) against Datasette, same columns: {ours:,.0f}/{fair:,.0f} = "
            f"{ours / fair:.2f}x; against the 11-column versions table (flatters Signpost, not judged): "
            f"{ours:,.0f}/{rates['versions']:,.0f} = {ours / rates['versions']:.2f}x"
        )
        print(
            f"RESULT serve: Signpost/Datasette rows/s, same columns, one process each = {single:,.0f}/{fair:,.0f} = "
            f"{ratio:.2f}x (goal >= {GOAL_RATIO}x: {'met' if ratio >= GOAL_RATIO else 'MISSED'}); "
            f"serve as deployed {ours / fair:.2f}x; against the 11-column table {ours / rates['versions']:.2f}x"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 records, 4 clients, 1 round of 2 s: a smoke run")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--clients", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None, help="rounds over the servers, interleaved (default 2)")
    parser.add_argument("--load", nargs=4, metavar=("KIND", "BASE", "STARTS", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        kind, base, starts, seconds = args.load
        print(json.dumps(asyncio.run(_load(kind, base, [int(s) for s in starts.split(",")], float(seconds)))))
        return
    size = args.size or (2000 if args.quick else 100_000)
    seconds = args.seconds or (2.0 if args.quick else 5.0)
    clients = args.clients or (4 if args.quick else 16)
    raise SystemExit(run(size, seconds, clients, args.rounds or (1 if args.quick else 2)))


if __name__ == "__main__":
    main()
