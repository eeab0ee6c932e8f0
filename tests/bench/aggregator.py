"""Aggregator: a fresh node follows 500 peers of 200 records each, then re-polls them idle.

Run from the repository root::

    .venv/bin/python tests/bench/aggregator.py           # 500 peers x 200 records
    .venv/bin/python tests/bench/aggregator.py --quick   # 20 peers x 50 records

One helper process (this file with ``--serve``) serves every simulated peer
from a single aiohttp app on 127.0.0.1, under ``/p/{n}``: each a distinct
publisher with its own key log, its node document, ``/keys/{publisher}``
and an RPDE feed rendered by the node's own ``node.web.views.feed.render_page``,
with the node's ETag rule and a 304 for a matching ``If-None-Match``.  The
signed peers are cached under /tmp/signpost-bench.

The pulling node runs in this process: it follows every peer with
``node.federation.peers.follow`` (timed apart), pulls them all with ``sync_once`` (the
full sync), then calls ``sync_once`` again, when every peer answers 304
(the idle re-poll), timing its wall clock and this process's CPU time.

Goals (docs/benchmarks.md): full sync under 30 s; idle re-poll under 3 s wall and
under 1 s CPU.  ``--profile DIR`` writes pyinstrument reports of both syncs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
from peers import CACHE, REPO, Timer, machine

GOAL_FULL_S = 30.0
GOAL_IDLE_WALL_S = 3.0
GOAL_IDLE_CPU_S = 1.0
CACHE_FORMAT = 1


class SimPeer(msgspec.Struct, array_like=True):
    publisher: str
    keylog: bytes
    items: list[tuple[str, str, bytes]]  # (kind, id, envelope)


def _make_peer(args: tuple[int, int]) -> SimPeer:
    """Peer ``n``: its own keys (derived from ``n``), key log and ``records`` signed listings."""
    from corpus import listing

    from node.core.context import now_us
    from protocol import envelope as dsse
    from protocol.keylog import make_genesis, verify_keylog
    from protocol.keys import keyid_for, private_key_from_seed
    from protocol.publish import rfc3339, seal_version
    from protocol.records import Record

    n, records = args
    signing = private_key_from_seed(hashlib.sha256(f"bench-signing-{n}".encode()).digest())
    recovery = private_key_from_seed(hashlib.sha256(f"bench-recovery-{n}".encode()).digest())
    genesis = make_genesis([keyid_for(signing.public_key())], recovery, created="2026-01-01T00:00:00Z")
    log = verify_keylog([genesis])
    rev_base = now_us() - records - 60_000_000
    items = []
    for i in range(records):
        rid, fields = listing(n * records + i, seed=7)
        rev = rev_base + i
        record = msgspec.convert(
            {**fields, "publisher": log.publisher, "id": rid, "rev": rev, "updated": rfc3339(rev)}, type=Record
        )
        env, _ = seal_version(record, signing)
        items.append((record.kind, rid, dsse.encode_envelope(env)))
    return SimPeer(log.publisher, dsse.encode_envelope(genesis), items)


def build_peers(count: int, records: int) -> Path:
    """Sign every simulated peer once (all cores) and cache them as one msgpack file."""
    import multiprocessing

    path = CACHE / f"aggregator-{count}x{records}-f{CACHE_FORMAT}.msgpack"
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool:
        peers = pool.map(_make_peer, [(n, records) for n in range(count)], chunksize=4)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msgspec.msgpack.encode(peers))
    tmp.rename(path)
    print(
        f"signed {count} peers x {records} records in {time.perf_counter() - started:.1f} s ({path})", file=sys.stderr
    )
    return path


def serve(cache: Path, port: int) -> None:
    """The helper process: every simulated peer under ``/p/{n}`` on one aiohttp app."""
    from aiohttp import web

    from node.storage.ledger import FeedRow
    from node.web.views.feed import item_for, render_page
    from protocol import envelope as dsse
    from protocol.feed import PAGE_SIZE, PROTOCOL, NodeDocument

    peers = msgspec.msgpack.decode(cache.read_bytes(), type=list[SimPeer])
    envelopes = msgspec.json.Decoder(list[dsse.Envelope])
    encode = msgspec.json.Encoder().encode
    license = "https://creativecommons.org/licenses/by/4.0/"
    docs, keys, rows = [], [], []
    for n, p in enumerate(peers):
        base = f"http://127.0.0.1:{port}/p/{n}"
        docs.append(
            encode(
                NodeDocument(
                    protocol=PROTOCOL,
                    name=f"Sim peer {n}",
                    url=base,
                    publisher=p.publisher,
                    keylog=envelopes.decode(b"[" + p.keylog + b"]"),
                    feed=f"{base}/feed",
                    license=license,
                )
            )
        )
        keys.append(b'{"publisher":"' + p.publisher.encode() + b'","keylog":[' + p.keylog + b"]}")
        rows.append([FeedRow(c + 1, p.publisher, rid, kind, False, env) for c, (kind, rid, env) in enumerate(p.items)])

    def peer(request: web.Request) -> int:
        n = int(request.match_info["n"])
        if not 0 <= n < len(peers):
            raise web.HTTPNotFound()
        return n

    def json(body: bytes, headers: dict[str, str] | None = None) -> web.Response:
        return web.Response(body=body, content_type="application/json", headers=headers)

    async def node_document(request: web.Request) -> web.Response:
        return json(docs[peer(request)])

    async def keylog(request: web.Request) -> web.Response:
        n = peer(request)
        if request.match_info["publisher"] != peers[n].publisher:
            raise web.HTTPNotFound()
        return json(keys[n])

    async def feed(request: web.Request) -> web.Response:
        n = peer(request)
        after = int(request.query.get("afterChangeNumber", "0"))
        epoch = f"sim{n:04d}"
        page = [r for r in rows[n] if r.change > after][:PAGE_SIZE]
        last = page[-1].change if page else after
        etag = f'W/"{epoch}-{after}-{last}-{len(page)}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=8"}
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        base = f"http://127.0.0.1:{port}/p/{n}"
        return json(render_page(base, after, [item_for(r) for r in page], license=license, epoch=epoch), headers)

    app = web.Application()
    app.router.add_get("/p/{n}/.well-known/signpost", node_document)
    app.router.add_get("/p/{n}/keys/{publisher}", keylog)
    app.router.add_get("/p/{n}/feed", feed)

    async def ready(_app: web.Application) -> None:
        print("ready", flush=True)

    app.on_startup.append(ready)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


async def _profiled(profile: Path | None, name: str, coro: Any) -> Any:
    if profile is None:
        return await coro
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="enabled", interval=0.001)
    profiler.start()
    try:
        return await coro
    finally:
        profiler.stop()
        profile.mkdir(parents=True, exist_ok=True)
        (profile / f"{name}.txt").write_text(profiler.output_text(unicode=False, show_all=False))


async def pull_all(directory: Path, base: str, count: int, records: int, profile: Path | None) -> bool:
    import aiohttp

    from node.core.config import load_config
    from node.federation.peers import follow
    from node.federation.sync import sync_once
    from node.web.app import open_node

    config = load_config(directory)
    node = open_node(config)
    node.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=config.sync.timeout))
    try:
        limit = asyncio.Semaphore(16)

        async def one(n: int) -> None:
            async with limit:
                await follow(node, f"{base}/p/{n}")

        with Timer() as t_follow:
            await asyncio.gather(*(one(n) for n in range(count)))
        print(f"followed {count} peers (node documents, key logs) in {t_follow.wall:.2f} s")
        with Timer() as t_full:
            reports = await _profiled(profile, "aggregator-full-sync", sync_once(node))
        merged = sum(r.merged for r in reports)
        errors = [r.error for r in reports if r.error]
        if errors or merged != count * records:
            raise SystemExit(f"full sync incomplete: merged {merged} of {count * records}; errors: {errors[:3]}")
        full_ok = t_full.wall < GOAL_FULL_S
        print(
            f"full sync: {merged} records from {count} peers in {t_full.wall:.2f} s wall, {t_full.cpu:.2f} s CPU "
            f"= {merged / t_full.wall:,.0f} records/s (goal < {GOAL_FULL_S:.0f} s: {'met' if full_ok else 'MISSED'})"
        )
        with Timer() as t_idle:
            idle = await _profiled(profile, "aggregator-idle-repoll", sync_once(node))
        not_modified = sum(r.not_modified for r in idle)
        if not_modified != count or any(r.error for r in idle):
            raise SystemExit(f"idle re-poll: only {not_modified} of {count} peers answered 304")
        wall_ok, cpu_ok = t_idle.wall < GOAL_IDLE_WALL_S, t_idle.cpu < GOAL_IDLE_CPU_S
        print(
            f"idle re-poll: {count} peers, all 304, in {t_idle.wall:.2f} s wall "
            f"(goal < {GOAL_IDLE_WALL_S:.0f} s: {'met' if wall_ok else 'MISSED'}), {t_idle.cpu:.2f} s CPU "
            f"(goal < {GOAL_IDLE_CPU_S:.0f} s: {'met' if cpu_ok else 'MISSED'})"
        )
        print(
            f"RESULT aggregator: full sync {t_full.wall:.2f} s / {GOAL_FULL_S:.0f} s = {t_full.wall / GOAL_FULL_S:.2f}; "
            f"idle re-poll {t_idle.wall:.2f} s / {GOAL_IDLE_WALL_S:.0f} s wall = {t_idle.wall / GOAL_IDLE_WALL_S:.2f}, "
            f"{t_idle.cpu:.2f} s / {GOAL_IDLE_CPU_S:.0f} s CPU = {t_idle.cpu / GOAL_IDLE_CPU_S:.2f} "
            f"(goals met when each ratio < 1: {'all met' if full_ok and wall_ok and cpu_ok else 'MISSED'})"
        )
        return full_ok and wall_ok and cpu_ok
    finally:
        await node.session.close()
        node.store.close()


def run(count: int, records: int, profile: Path | None) -> int:
    from nodeutil import free_port, make_node

    print(machine())
    cache = build_peers(count, records)
    port = free_port()
    helper = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(cache), str(port)], stdout=subprocess.PIPE, cwd=REPO
    )
    work = Path(tempfile.mkdtemp(prefix="signpost-aggregator-"))
    try:
        assert helper.stdout is not None
        if helper.stdout.readline().strip() != b"ready":
            raise SystemExit("the peer helper process did not start")
        puller = make_node(work / "aggregator", "Bench Aggregator")
        cfg = puller.directory / "signpost.toml"
        cfg.write_text(cfg.read_text() + "enabled = false\n")
        print(f"{count} simulated peers x {records} records served by one helper process on 127.0.0.1:{port}")
        asyncio.run(pull_all(puller.directory, f"http://127.0.0.1:{port}", count, records, profile))
        return 0
    finally:
        helper.terminate()
        helper.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20 peers x 50 records: a smoke run")
    parser.add_argument("--peers", type=int, default=None)
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--profile", type=Path, default=None, help="write pyinstrument reports of both syncs here")
    parser.add_argument("--serve", nargs=2, metavar=("CACHE", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return
    count = args.peers or (20 if args.quick else 500)
    records = args.records or (50 if args.quick else 200)
    raise SystemExit(run(count, records, args.profile))


if __name__ == "__main__":
    main()
