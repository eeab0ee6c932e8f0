"""Ingest: a fresh node pulls a 100,000-record feed from a real peer over 127.0.0.1.

Run from the repository root::

    .venv/bin/python tests/bench/ingest.py            # 100,000 records
    .venv/bin/python tests/bench/ingest.py --quick    # 2,000 records, a smoke run

The peer is built once and cached under /tmp/signpost-bench (see peers.py),
then served by a real ``signpost serve`` process.  The pulling node runs in
its own process (this file with ``--child``), calling ``node.federation.peers.follow`` and
``node.federation.sync.sync_once`` exactly as ``signpost sync`` does, so its peak RSS is
the pull's alone.  In the same run, the bare Ed25519 verification rate is
measured on one core over the very envelopes the peer serves
(``protocol.keys.verify`` of each PAE, keys parsed once).

Goal (docs/benchmarks.md): end-to-end records/s at least 0.6 of bare verify/s, and
peak RSS under 200 MB, counting the pulling process and its verifier workers together
(sampled every 100 ms over the process tree).  ``--profile DIR`` runs the pulling process under
py-spy (all threads) and writes a collapsed-stack file there.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import REPO, TreeRss, build_peer, machine, serving_copy

GOAL_RATIO = 0.6
GOAL_RSS_MB = 200.0


async def _pull(directory: Path, url: str) -> dict[str, object]:
    import aiohttp

    from node.core.config import load_config
    from node.federation.peers import follow
    from node.federation.sync import sync_once
    from node.web.app import open_node

    config = load_config(directory)
    node = open_node(config)
    node.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=config.sync.timeout))
    try:
        await follow(node, url)
        started = time.perf_counter()
        cpu = time.process_time()
        reports = await sync_once(node)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        await node.session.close()
        node.store.close()
    (report,) = reports
    return {
        "seconds": seconds,
        "cpu": cpu,
        "merged": report.merged,
        "pages": report.pages,
        "rejected": len(report.rejected),
        "error": report.error,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(directory: Path, url: str) -> None:
    """The pulling process: write its figures beside its database (stdout may belong to a profiler)."""
    (directory / "figures.json").write_text(json.dumps(asyncio.run(_pull(directory, url))))


def bare_verify_rate(db: Path, limit: int) -> tuple[int, float]:
    """Ed25519 verifications per second on one core over the peer's own envelopes."""
    from node.storage.store import connect
    from protocol import envelope as dsse
    from protocol.keys import public_key_for, verify

    conn = connect(db)
    try:
        rows = [bytes(r[0]) for r in conn.execute("SELECT envelope FROM versions ORDER BY change LIMIT ?", (limit,))]
    finally:
        conn.close()
    work = []
    for raw in rows:
        env = dsse.decode_envelope(raw)
        sig = env.signatures[0]
        work.append((sig.keyid, dsse.pae(env.payloadType, dsse.payload_bytes(env)), base64.b64decode(sig.sig)))
    for keyid, _, _ in work[:1]:
        public_key_for(keyid)
    started = time.perf_counter()
    for keyid, message, signature in work:
        verify(keyid, message, signature)
    return len(work), len(work) / (time.perf_counter() - started)


def run(size: int, profile: Path | None) -> int:
    from nodeutil import ServeProcess, make_node

    print(machine())
    started = time.perf_counter()
    cached = build_peer(size)
    print(f"peer: {size} records (built or cached in {time.perf_counter() - started:.1f} s; {cached})")
    work = Path(tempfile.mkdtemp(prefix="signpost-ingest-"))
    try:
        peer = serving_copy(cached, work / "peer")
        puller = make_node(work / "puller", "Bench Puller")
        with ServeProcess(peer):
            cmd = [sys.executable, __file__, "--child", str(puller.directory), peer.url]
            if profile is not None:
                profile.mkdir(parents=True, exist_ok=True)
                out = profile / "ingest.collapsed.txt"
                cmd = [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--threads",
                    "--subprocesses",
                    "-r",
                    "250",
                    "-f",
                    "raw",
                    "-o",
                    str(out),
                    "--",
                    *cmd,
                ]
                print(f"profiling the pull with py-spy into {out}")
            with (
                tempfile.TemporaryFile() as output,
                subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT, cwd=REPO) as proc,
                TreeRss(proc.pid) as rss,
            ):
                returncode = proc.wait(timeout=1800)
                if returncode != 0:
                    output.seek(0)
                    print(output.read().decode(errors="replace"), file=sys.stderr)
                    raise SystemExit(f"the pulling process failed ({returncode})")
        figures = json.loads((puller.directory / "figures.json").read_text())
        if figures["error"] or figures["merged"] != size:
            raise SystemExit(f"pull incomplete: {figures}")
        e2e = size / figures["seconds"]
        print(
            f"end-to-end pull: {size} records, {figures['pages']} pages in {figures['seconds']:.2f} s "
            f"(CPU {figures['cpu']:.2f} s, both threads) = {e2e:,.0f} records/s"
        )
        n, bare = bare_verify_rate(cached / "signpost.db", size)
        print(f"bare Ed25519 verify, one core, same {n} envelopes: {bare:,.0f} verifications/s")
        ratio = e2e / bare
        print(
            f"peak RSS of the pulling process with its verifier workers: {rss.peak_mb:.0f} MB "
            f"(goal < {GOAL_RSS_MB:.0f} MB: {'met' if rss.peak_mb < GOAL_RSS_MB else 'MISSED'}); "
            f"the pulling process alone {figures['rss_mb']:.0f} MB"
        )
        met = ratio >= GOAL_RATIO
        print(
            f"RESULT ingest: end-to-end/bare-verify = {e2e:,.0f}/{bare:,.0f} = {ratio:.2f} "
            f"(goal >= {GOAL_RATIO}: {'met' if met else 'MISSED'}); peak RSS {rss.peak_mb:.0f} MB with the workers"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 records: a smoke run")
    parser.add_argument("--size", type=int, default=None, help="records in the peer's feed (default 100,000)")
    parser.add_argument("--profile", type=Path, default=None, help="write a py-spy collapsed profile of the pull here")
    parser.add_argument("--child", nargs=2, metavar=("DIR", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    size = args.size or (2000 if args.quick else 100_000)
    raise SystemExit(run(size, args.profile))


if __name__ == "__main__":
    main()
