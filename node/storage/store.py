"""SQLite storage: one writer thread, reader threads, WAL (house style §6).

The schema itself is in ``node.storage.schema``; ``connect`` brings an older database
up to date through ``node.storage.migrations`` the first time a process opens it.

All SQL runs off the event loop.  Writes go through a single thread so change
numbers are assigned in commit order; a write function runs inside
``BEGIN IMMEDIATE`` so its records and any cursor it moves commit together
or not at all.  ``secure_delete`` is on, so a deleted record's text is
overwritten in the file rather than left in free pages.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sqlite3
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from node.storage.migrations import SCHEMA_VERSION, refuse_newer, stored_version, upgrade

__all__ = [
    "Store",
    "connect",
    "transaction",
    "in_batches",
    "immediate",
    "init_schema",
    "get_meta",
    "set_meta",
    "detect_restore",
    "request_scrub",
    "scrub",
    "SCHEMA_VERSION",
    "OWNER_ONLY_UMASK",
    "READER_CACHE_KIB",
    "WRITER_CACHE_KIB",
    "secure_node_directory",
]

P = ParamSpec("P")
T = TypeVar("T")


# What every node process runs under: files 0600, directories 0700 (docs/security.md, "At rest").
OWNER_ONLY_UMASK = 0o077
# SQLite's page cache, per connection, in KiB.  The writer keeps a large one (an ingest rewrites the same
# index pages batch after batch); a reader's is small, because every process holds several reader
# connections, the operating system already caches the file for all of them, and in WAL mode a
# reader's cache is dropped whenever another connection commits (every page of an ingest).
WRITER_CACHE_KIB = 16_000
READER_CACHE_KIB = 2_000
_DB_FILES = ("", "-wal", "-shm", "-journal", ".state")


def _owner_only(path: Path, mode: int) -> None:
    """Narrow ``path`` to ``mode`` if it is ours and wider; never follow a symlink."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if st.st_uid == os.getuid() and not stat.S_ISLNK(st.st_mode) and stat.S_IMODE(st.st_mode) & ~mode:
        os.chmod(path, stat.S_IMODE(st.st_mode) & mode)


def secure_node_directory(directory: Path) -> None:
    """Refuse a node directory other users can write to; make what the node keeps there owner-only.

    The database holds private addresses, reports and sessions, and
    ``signpost.toml`` the console password's hash, so nothing the node writes
    may be readable by other users whatever the umask it was started under.
    A directory that others can *write* could have had its files swapped, so
    the node does not start there until the coordinator has looked.
    """
    from node.core.errors import NodeError

    try:
        st = directory.stat()
    except FileNotFoundError:
        return
    if stat.S_IMODE(st.st_mode) & (stat.S_IWGRP | stat.S_IWOTH):
        raise NodeError(
            f"{directory} can be changed by other users (mode {stat.S_IMODE(st.st_mode):o}), "
            "so this node will not start there",
            hint=f"check nothing in it was changed by someone else, then run: chmod 700 {directory}",
        )
    _owner_only(directory, 0o700)
    for child in directory.iterdir():
        if child.name == "keys" or child.name.startswith(("signpost.", "uploads", "logs")):
            _owner_only(child, 0o700 if child.is_dir() and not child.is_symlink() else 0o600)
            if child.is_dir() and not child.is_symlink():
                for inner in child.iterdir():
                    _owner_only(inner, 0o700 if inner.is_dir() else 0o600)


def connect(path: Path, *, cache_kib: int = WRITER_CACHE_KIB) -> sqlite3.Connection:
    """A connection with the node's pragmas; autocommit, transactions are explicit.

    ``cache_kib`` bounds its page cache (:data:`READER_CACHE_KIB` for a connection that only
    reads); the file is never memory-mapped (``mmap_size`` 0), so a search that touches much of it
    does not grow the process by what it read.

    The database file is created owner-only before SQLite opens it (SQLite
    gives its WAL and shared-memory files the database's mode), and an
    existing one and its companions are narrowed to 0600.
    """
    if str(path) != ":memory:":
        path = Path(path)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        for suffix in _DB_FILES:
            _owner_only(Path(str(path) + suffix), 0o600)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA cache_size = -{int(cache_kib)}")
    conn.execute("PRAGMA mmap_size = 0")
    try:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            # A newer Signpost's database is refused before anything is written to it.
            refuse_newer(stored_version(conn), SCHEMA_VERSION)
            # Before anything commits (a commit records the high-water mark).
            detect_restore(conn)
        if str(path) not in _SCHEMA_READY:
            # Once per process and database: whichever command opens an older
            # database first brings its schema up to date.
            init_schema(conn)
            _SCHEMA_READY.add(str(path))
    except BaseException:
        conn.close()
        raise
    return conn


_SCHEMA_READY: set[str] = set()


@contextlib.contextmanager
def immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` on an autocommit connection, rolled back on any exception.

    The bare transaction, for any database; a node's own writes go through :func:`transaction`.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A node write: :func:`immediate`, then the restore high-water mark and any scrub a deletion asked for."""
    with immediate(conn):
        yield conn
    _note_high_water(conn)
    if get_meta(conn, "scrub_pending") not in (None, "0"):
        scrub(conn)


def in_batches(conn: sqlite3.Connection, step: Callable[[sqlite3.Connection], int]) -> int:
    """Run ``step`` a :func:`transaction` at a time until it does nothing; the sum of what it did.

    For work done in bounded batches (filling the precomputed sessions, the set of listings not
    shown) so no one transaction holds the writer long; ``conn`` in autocommit mode.
    """
    done = 0
    while True:
        with transaction(conn):
            n = step(conn)
        if not n:
            return done
        done += n


def request_scrub(conn: sqlite3.Connection) -> None:
    """Mark (inside a write transaction) that deleted text must be scrubbed from disk at commit."""
    set_meta(conn, "scrub_pending", 1)


def scrub(conn: sqlite3.Connection) -> bool:
    """Leave no trace of deleted listings in the database files (spec §5.4).

    ``secure_delete`` zeroes freed rows, but FTS5 keeps a deleted row's
    tokens in older index segments until they are merged, and the WAL keeps
    old page images until it is checkpointed.  So: merge the index, then
    checkpoint and truncate the WAL.  If a reader holds the WAL open the
    truncation is retried at the next commit.
    """
    conn.execute("INSERT INTO listings_fts (listings_fts) VALUES ('optimize')")
    conn.execute("INSERT INTO listing_unshown_fts (listing_unshown_fts) VALUES ('optimize')")  # closed ones' words
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        return False
    conn.execute("DELETE FROM meta WHERE key = 'scrub_pending'")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return True


# The last change number written to each database's sidecar, so a commit that
# changed nothing in the feed costs no file write.
_HIGH_WATER: dict[str, int] = {}


def _sidecar(db_file: str) -> Path:
    return Path(db_file + ".state")


def _note_high_water(conn: sqlite3.Connection) -> None:
    """Record the feed's high-water mark beside the database (restore detection)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'last_change'").fetchone()
    if row is None:
        return
    db_file = conn.execute("PRAGMA database_list").fetchone()[2]
    value = int(row[0])
    if not db_file or _HIGH_WATER.get(db_file) == value:
        return
    epoch = get_meta(conn, "epoch")
    # A temporary file of this process's and thread's own: the readers of ``serve --workers`` open the
    # store at the same moment, and a shared name let one rename away the file another was about to.
    sidecar = _sidecar(db_file)
    tmp = sidecar.with_name(f"{sidecar.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(f"{epoch} {value}\n")
    os.replace(tmp, sidecar)
    _HIGH_WATER[db_file] = value


def detect_restore(conn: sqlite3.Connection) -> bool:
    """Did this database come back from an older backup while its sidecar survived?

    Then followers may hold change numbers this database never issued: start
    a new epoch (they resync from the start) and continue numbering above
    the old high-water mark.
    """
    db_file = conn.execute("PRAGMA database_list").fetchone()[2]
    try:
        epoch, value = _sidecar(db_file).read_text().split()
    except (FileNotFoundError, ValueError):
        return False
    if get_meta(conn, "epoch") != epoch or int(get_meta(conn, "last_change") or 0) >= int(value):
        return False
    with transaction(conn):
        if get_meta(conn, "epoch") != epoch or int(get_meta(conn, "last_change") or 0) >= int(value):
            return False  # another process got here first
        set_meta(conn, "epoch", secrets.token_hex(8))
        set_meta(conn, "last_change", value)
        set_meta(conn, "restored_at", str(int(value)))
    return True


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str | int) -> None:
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, str(value)),
    )


def init_schema(conn: sqlite3.Connection) -> None:
    """Bring the schema up to date (``node.storage.migrations``); give a new database its epoch."""
    upgrade(conn)
    with transaction(conn):
        if get_meta(conn, "epoch") is None:
            set_meta(conn, "epoch", secrets.token_hex(8))
            set_meta(conn, "last_change", 0)
            set_meta(conn, "last_rev", 0)


class Store:
    """Runs SQL functions on threads: one writer, a few readers, each with its own connection.

    Two readers by default: ``serve --workers`` runs a process per core, so more threads per
    process add no CPU, only searches in flight at once, each holding its candidates in memory.
    """

    def __init__(self, path: Path, *, readers: int = 2) -> None:
        self.path = path
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-reader")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = connect(path)
        try:
            init_schema(conn)
        finally:
            conn.close()

    def _conn(self, cache_kib: int = WRITER_CACHE_KIB) -> sqlite3.Connection:
        """This thread's connection, opened on its first use (the writer's and each reader's)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, cache_kib=cache_kib)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        return fn(self._conn(READER_CACHE_KIB), *args)

    def _run_tx(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        conn = self._conn()
        with transaction(conn):
            return fn(conn, *args)

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` on a reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run, fn, args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` on the writer thread inside one transaction."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, self._run_tx, fn, args)

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
