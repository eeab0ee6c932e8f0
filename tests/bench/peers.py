"""Building, caching and serving benchmark peers; timing and memory helpers.

A 100,000-record peer takes a while to sign and index, so it is built once
(signing spread over every core) and cached under ``/tmp/signpost-bench``
keyed by size and seed.  Each run serves it from its own small directory
that links the cached keys and database and carries its own
``signpost.toml`` with a free port, so runs never fight over a port or
rewrite each other's config.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent.parent
for _p in (str(REPO), str(REPO / "tests"), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import msgspec
from corpus import listing

from node.core.config import render_config
from node.core.context import now_us
from node.publishing.keystore import SIGNING_FILE, read_key
from node.storage.ledger import apply_version, set_own_last_rev
from node.storage.store import connect, transaction
from nodeutil import NodeHandle, free_port, make_node
from protocol import envelope as dsse
from protocol.keys import keyid_for
from protocol.publish import rfc3339, seal_version
from protocol.records import Record
from protocol.verify import Opened

__all__ = [
    "CACHE",
    "REPO",
    "build_peer",
    "serving_copy",
    "machine",
    "peak_rss_mb",
    "TreeRss",
    "sign_listings",
    "Timer",
]

CACHE = Path(os.environ.get("SIGNPOST_BENCH_CACHE", "/tmp/signpost-bench"))
# Bump when the corpus or the database layout changes, so stale caches are not reused.
CACHE_FORMAT = 1


def sign_listings(
    key_path: str, publisher: str, start: int, stop: int, rev_base: int, seed: int
) -> list[tuple[Opened, bytes]]:
    """Sign listings ``start..stop`` the way ``node.publishing.publisher.publish`` does (worker-process safe)."""
    signing = read_key(Path(key_path))
    keyid = keyid_for(signing.public_key())
    out = []
    for i in range(start, stop):
        rid, fields = listing(i, seed=seed)
        rev = rev_base + i
        record = msgspec.convert(
            {**fields, "publisher": publisher, "id": rid, "rev": rev, "updated": rfc3339(rev)}, type=Record
        )
        env, body = seal_version(record, signing)
        opened = Opened(version=record, body=body, digest=dsse.pae_digest(dsse.RECORD_TYPE, body), keyid=keyid)
        out.append((opened, dsse.encode_envelope(env)))
    return out


def _sign_chunk(args: tuple[str, str, int, int, int, int]) -> list[tuple[Opened, bytes]]:
    return sign_listings(*args)


def _chunks(size: int, step: int) -> Iterator[tuple[int, int]]:
    for start in range(0, size, step):
        yield start, min(size, start + step)


def build_peer(size: int, *, seed: int = 0, name: str = "Bench Peer", quiet: bool = False) -> Path:
    """A node directory holding ``size`` signed, indexed listings; built once, then cached."""
    target = CACHE / f"peer-{size}-s{seed}-f{CACHE_FORMAT}"
    if (target / "ready").exists():
        return target
    if target.exists():
        shutil.rmtree(target)
    CACHE.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    handle = make_node(target, name)
    key_path = str(target / "keys" / SIGNING_FILE)
    # Revs are distinct microsecond timestamps in the recent past, as a publisher issues them.
    rev_base = now_us() - size - 60_000_000
    jobs = [(key_path, handle.publisher, a, b, rev_base, seed) for a, b in _chunks(size, 2000)]
    conn = connect(target / "signpost.db")
    try:
        with multiprocessing.get_context("fork").Pool(os.cpu_count() or 1) as pool, transaction(conn):
            for batch in pool.imap(_sign_chunk, jobs):
                now = now_us()
                for opened, env in batch:
                    apply_version(conn, opened, env, via=None, now_us=now)
            set_own_last_rev(conn, rev_base + size - 1)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    (target / "ready").write_text(f"{size} listings built in {time.perf_counter() - started:.1f} s\n")
    if not quiet:
        print(f"built peer of {size} listings in {time.perf_counter() - started:.1f} s at {target}", file=sys.stderr)
    return target


def serving_copy(cached: Path, run_dir: Path, *, name: str = "Bench Peer") -> NodeHandle:
    """A run directory that serves ``cached``'s database on a fresh port (symlinks, own config)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    (run_dir / "keys").symlink_to(cached / "keys")
    (run_dir / "signpost.db").symlink_to(cached / "signpost.db")
    config = render_config(name=name, url=f"http://127.0.0.1:{port}", port=port)
    (run_dir / "signpost.toml").write_text(config + "enabled = false\n", "utf-8")
    conn = connect(cached / "signpost.db")
    try:
        publisher = str(conn.execute("SELECT value FROM meta WHERE key = 'publisher'").fetchone()[0])
    finally:
        conn.close()
    return NodeHandle(run_dir, port, publisher)


def machine() -> str:
    """One line naming the machine: cores, CPU model, RAM, Python, SQLite."""

    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    return f"machine: {os.cpu_count()} cores, {model}, {ram}, Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}"


def peak_rss_mb(rusage: Any) -> float:
    """``ru_maxrss`` is in kilobytes on Linux."""
    return float(rusage.ru_maxrss) / 1024


class TreeRss:
    """Peak memory of a process and every process under it (serve's readers, a pull's verifier workers),
    sampled every 100 ms from /proc (Linux).

    Two sums: RSS counts a page shared by several processes (the Python binary and libraries,
    pages a forked reader still shares with its parent) once in every process; PSS divides each
    shared page among the processes that map it, so its sum is what the tree really holds.
    """

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb, self.peak_pss_mb, self._stop = pid, 0.0, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[int]:
        pids, frontier = [self.pid], [self.pid]
        while frontier:
            p = frontier.pop()
            try:  # every thread's children: a process may start one from any of its threads
                kids = [
                    k for task in Path(f"/proc/{p}/task").iterdir() for k in (task / "children").read_text().split()
                ]
            except OSError:
                continue
            pids += [int(k) for k in kids]
            frontier += [int(k) for k in kids]
        return pids

    def sample(self) -> tuple[float, float]:
        """(RSS sum, PSS sum) in MB over the tree; PSS from /proc/PID/smaps_rollup."""
        rss = pss = 0.0
        for p in self._tree():
            try:
                for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) / 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) / 1024
            except OSError:
                pass
        return rss, pss

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            rss, pss = self.sample()
            self.peak_mb, self.peak_pss_mb = max(self.peak_mb, rss), max(self.peak_pss_mb, pss)

    def __enter__(self) -> TreeRss:
        self.peak_mb, self.peak_pss_mb = self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Timer:
    """Wall and CPU time of a block (CPU of this process, all threads)."""

    wall: float = 0.0
    cpu: float = 0.0

    def __enter__(self) -> Timer:
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c
