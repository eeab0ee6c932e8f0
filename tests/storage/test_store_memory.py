"""What a node's SQLite connections may hold in memory (node.storage.store)."""

from __future__ import annotations

from pathlib import Path

from node.storage.store import READER_CACHE_KIB, WRITER_CACHE_KIB, Store


def _pragmas(conn: object) -> tuple[int, int]:
    import sqlite3

    assert isinstance(conn, sqlite3.Connection)
    return conn.execute("PRAGMA cache_size").fetchone()[0], conn.execute("PRAGMA mmap_size").fetchone()[0]


async def test_reader_connections_hold_a_small_page_cache_and_the_writer_a_large_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "signpost.db", readers=2)
    try:
        read = await store.read(_pragmas)
        written = await store.write(_pragmas)
    finally:
        store.close()
    assert READER_CACHE_KIB < WRITER_CACHE_KIB
    assert read == (-READER_CACHE_KIB, 0)  # negative: a size in KiB; never memory-mapped
    assert written == (-WRITER_CACHE_KIB, 0)


async def test_a_store_runs_at_most_two_reads_at_once_by_default(tmp_path: Path) -> None:
    import asyncio
    import threading
    import time

    running, most = 0, 0
    lock = threading.Lock()

    def slow(conn: object) -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.2)
        with lock:
            running -= 1

    store = Store(tmp_path / "signpost.db")
    try:
        await asyncio.gather(*(store.read(slow) for _ in range(6)))
    finally:
        store.close()
    assert most == 2
