"""SQLite storage: one writer thread, reader threads, WAL (house style §6).

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
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, ParamSpec, TypeVar

__all__ = [
    "Store",
    "connect",
    "transaction",
    "init_schema",
    "get_meta",
    "set_meta",
    "detect_restore",
    "request_scrub",
    "scrub",
    "SCHEMA_VERSION",
]

SCHEMA_VERSION = 1
P = ParamSpec("P")
T = TypeVar("T")

# The facet row of a listing and the triggers that keep listing_facets from it, recreated
# at every start (after any column migration) so older databases get the current form.
FACET_VIEW = """
DROP TRIGGER IF EXISTS listings_facets_ai;
DROP TRIGGER IF EXISTS listings_facets_au;
DROP TRIGGER IF EXISTS listings_facets_ad;
DROP VIEW IF EXISTS listing_facet_rows;
CREATE VIEW listing_facet_rows AS
    SELECT rowid, publisher, id, kind, name, delivery, status, free, lat, lon, days, evening, reviewed,
        topic_slugs, loose, moved, schedule
    FROM listings;
-- (DELETE then INSERT: an outer upsert's conflict policy would override OR REPLACE here.)
CREATE TRIGGER listings_facets_ai AFTER INSERT ON listings BEGIN
    DELETE FROM listing_facets WHERE rowid = new.rowid;
    INSERT INTO listing_facets SELECT * FROM listing_facet_rows WHERE rowid = new.rowid;
END;
CREATE TRIGGER listings_facets_au AFTER UPDATE ON listings BEGIN
    DELETE FROM listing_facets WHERE rowid = old.rowid;
    INSERT INTO listing_facets SELECT * FROM listing_facet_rows WHERE rowid = new.rowid;
END;
CREATE TRIGGER listings_facets_ad AFTER DELETE ON listings BEGIN
    DELETE FROM listing_facets WHERE rowid = old.rowid;
END;
"""

# Columns added after the first release, with how to fill them for rows already there.
ADDED_COLUMNS = (
    ("listings", "topic_slugs", "TEXT NOT NULL DEFAULT ''",
     "' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(payload, '$.topics')), '') || ' '"),
    ("listings", "loose", "INTEGER NOT NULL DEFAULT 0", "instr(payload, '\"monthly\"') > 0 OR instr(payload, '\"moved_to\"') > 0"),
    ("listings", "moved", "INTEGER NOT NULL DEFAULT 0", "instr(payload, '\"moved_to\"') > 0"),
    ("listings", "schedule", "TEXT", "json_extract(payload, '$.schedule')"),
    ("listing_facets", "schedule", "TEXT", "(SELECT schedule FROM listings WHERE listings.rowid = listing_facets.rowid)"),
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- One row per (publisher, id): the winning version, its envelope exactly as served.
-- change is the feed's change number; a changed record gets a new, larger one.
CREATE TABLE IF NOT EXISTS versions (
    change INTEGER PRIMARY KEY,
    publisher TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    rev INTEGER NOT NULL,
    digest BLOB NOT NULL,
    deleted INTEGER NOT NULL,
    keyid TEXT NOT NULL,
    envelope BLOB NOT NULL,
    via TEXT,
    received INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS versions_record ON versions (publisher, id);

-- Live, searchable listings (no tombstones): derived from versions.
CREATE TABLE IF NOT EXISTS listings (
    rowid INTEGER PRIMARY KEY,
    publisher TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    summary TEXT,
    description TEXT,
    topics TEXT NOT NULL DEFAULT '',
    audience TEXT,
    area TEXT,
    delivery TEXT NOT NULL,
    private INTEGER NOT NULL,
    status TEXT NOT NULL,
    free INTEGER,
    lat REAL,
    lon REAL,
    days INTEGER NOT NULL DEFAULT 0,
    evening INTEGER NOT NULL DEFAULT 0,
    reviewed TEXT,
    rev INTEGER NOT NULL,
    payload TEXT NOT NULL,
    topic_slugs TEXT NOT NULL DEFAULT '',
    loose INTEGER NOT NULL DEFAULT 0,
    moved INTEGER NOT NULL DEFAULT 0,
    schedule TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS listings_record ON listings (publisher, id);
CREATE INDEX IF NOT EXISTS listings_kind ON listings (kind);
CREATE INDEX IF NOT EXISTS listings_lat ON listings (lat);

CREATE VIRTUAL TABLE IF NOT EXISTS listings_fts USING fts5(
    name, summary, description, topics, area, audience,
    content='listings', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS listings_ai AFTER INSERT ON listings BEGIN
    INSERT INTO listings_fts (rowid, name, summary, description, topics, area, audience)
    VALUES (new.rowid, new.name, new.summary, new.description, new.topics, new.area, new.audience);
END;
CREATE TRIGGER IF NOT EXISTS listings_ad AFTER DELETE ON listings BEGIN
    INSERT INTO listings_fts (listings_fts, rowid, name, summary, description, topics, area, audience)
    VALUES ('delete', old.rowid, old.name, old.summary, old.description, old.topics, old.area, old.audience);
END;
CREATE TRIGGER IF NOT EXISTS listings_au AFTER UPDATE ON listings BEGIN
    INSERT INTO listings_fts (listings_fts, rowid, name, summary, description, topics, area, audience)
    VALUES ('delete', old.rowid, old.name, old.summary, old.description, old.topics, old.area, old.audience);
    INSERT INTO listings_fts (rowid, name, summary, description, topics, area, audience)
    VALUES (new.rowid, new.name, new.summary, new.description, new.topics, new.area, new.audience);
END;

-- A narrow copy of what search filters on, kept by triggers: filtering scans a
-- few megabytes here instead of the wide listings rows (payload, description).
CREATE TABLE IF NOT EXISTS listing_facets (
    rowid INTEGER PRIMARY KEY,
    publisher TEXT NOT NULL,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    delivery TEXT NOT NULL,
    status TEXT NOT NULL,
    free INTEGER,
    lat REAL,
    lon REAL,
    days INTEGER NOT NULL,
    evening INTEGER NOT NULL,
    reviewed TEXT,
    topics TEXT NOT NULL,    -- ' slug slug ': exact topic filters
    loose INTEGER NOT NULL,  -- may fall on any weekday: a monthly rule or a moved session
    moved INTEGER NOT NULL,  -- has a moved session (may fall in any evening)
    schedule TEXT            -- the schedule's JSON, for the exact "when" check
);
CREATE INDEX IF NOT EXISTS listing_facets_lat ON listing_facets (lat);

-- Key logs of every publisher we carry, as verified envelope lists.
CREATE TABLE IF NOT EXISTS keylogs (
    publisher TEXT PRIMARY KEY,
    envelopes BLOB NOT NULL,
    head TEXT NOT NULL,
    updated INTEGER NOT NULL
);

-- Where a private group really meets: never served, never in a payload.
CREATE TABLE IF NOT EXISTS private_places (
    id TEXT PRIMARY KEY,
    venue TEXT,
    address TEXT,
    postcode TEXT
);

CREATE TABLE IF NOT EXISTS peers (
    url TEXT PRIMARY KEY,
    publisher TEXT NOT NULL,
    name TEXT,
    added INTEGER NOT NULL,
    cursor INTEGER,
    next_url TEXT,
    epoch TEXT,
    etag TEXT,
    last_attempt INTEGER,
    last_success INTEGER,
    last_error TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    retry_at INTEGER NOT NULL DEFAULT 0,
    merged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0
);

-- Why records from a peer were refused (kept for status pages).
CREATE TABLE IF NOT EXISTS peer_log (
    rowid INTEGER PRIMARY KEY,
    peer TEXT NOT NULL,
    at INTEGER NOT NULL,
    item TEXT,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS peer_log_peer ON peer_log (peer, rowid);

-- Versions dated too far in the future: held and retried, never dropped.
CREATE TABLE IF NOT EXISTS quarantine (
    publisher TEXT NOT NULL,
    id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    envelope BLOB NOT NULL,
    peer TEXT,
    reason TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (publisher, id, rev)
);

CREATE TABLE IF NOT EXISTS equivocations (
    rowid INTEGER PRIMARY KEY,
    publisher TEXT NOT NULL,
    id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    kept BLOB NOT NULL,
    other BLOB NOT NULL,
    at INTEGER NOT NULL
);
"""


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the node's pragmas; autocommit, transactions are explicit."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -16000")
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
        # Before anything commits (a commit records the high-water mark).
        detect_restore(conn)
    if str(path) not in _SCHEMA_READY:
        # Once per process and database: whichever command opens an older
        # database first brings its schema up to date.
        init_schema(conn)
        _SCHEMA_READY.add(str(path))
    return conn


_SCHEMA_READY: set[str] = set()


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    _note_high_water(conn)
    if get_meta(conn, "scrub_pending") not in (None, "0"):
        scrub(conn)


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
    tmp = _sidecar(db_file).with_suffix(".state.tmp")
    tmp.write_text(f"{epoch} {value}\n")
    os.replace(tmp, _sidecar(db_file))
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
    """Create tables if missing, add columns later versions need; give a new database its epoch.

    Two processes opening an older database at once may both try to add a
    column: the loser sees "duplicate column" and simply runs again.
    """
    for attempt in (1, 2):
        try:
            _init_schema(conn)
            return
        except sqlite3.OperationalError as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if attempt == 2 or "duplicate column" not in str(e):
                raise


def _init_schema(conn: sqlite3.Connection) -> None:
    conn.executescript("BEGIN IMMEDIATE;" + SCHEMA + "COMMIT;")
    have = {(t, r[1]) for t in {a[0] for a in ADDED_COLUMNS} for r in conn.execute(f"PRAGMA table_info({t})")}
    migrate = "".join(
        f"ALTER TABLE {table} ADD COLUMN {column} {decl}; UPDATE {table} SET {column} = {fill};"
        for table, column, decl, fill in ADDED_COLUMNS
        if (table, column) not in have
    )
    conn.executescript(
        "BEGIN IMMEDIATE;" + migrate + FACET_VIEW
        # Databases made before listing_facets existed get it filled once.
        + "INSERT OR IGNORE INTO listing_facets SELECT * FROM listing_facet_rows"
        " WHERE rowid NOT IN (SELECT rowid FROM listing_facets);"
        + "COMMIT;"
    )
    with transaction(conn):
        if get_meta(conn, "epoch") is None:
            set_meta(conn, "epoch", secrets.token_hex(8))
            set_meta(conn, "schema_version", SCHEMA_VERSION)
            set_meta(conn, "last_change", 0)
            set_meta(conn, "last_rev", 0)


class Store:
    """Runs SQL functions on threads: one writer, a few readers, each with its own connection."""

    def __init__(self, path: Path, *, readers: int = 4) -> None:
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

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        return fn(self._conn(), *args)

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
