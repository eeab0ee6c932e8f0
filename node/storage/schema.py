"""The node's whole SQLite schema: every table, index, view, trigger and FTS5 table.

The statements here are the current form of the database.  ``node.storage.migrations``
applies them in numbered steps (a new database runs every step, an older one the steps
it lacks), so a table or index that a later version needs is added in two places: its
statement here, and a new numbered migration there that creates it on older databases.
See docs/architecture.md (storage) for how the tables relate; spec §5 and §6 for what
the ledger and feed must guarantee.
"""

from __future__ import annotations

import sqlite3
from typing import Final, NamedTuple

__all__ = [
    "CORE_SCHEMA",
    "FACET_VIEW",
    "AddedColumn",
    "ADDED_COLUMNS",
    "FILL_FACETS",
    "CONSOLE_SCHEMA",
    "IMPORT_SOURCES_SCHEMA",
    "LISTING_ENDS_SCHEMA",
    "LOGIN_ATTEMPTS_SCHEMA",
    "UNSHOWN_COLUMNS",
    "UNSHOWN_SCHEMA",
    "UNSHOWN_SQL",
    "statements",
]

# The ledger, the search index and federation's bookkeeping, as they stood when the schema
# got numbered migrations (migration 1).
CORE_SCHEMA: Final = """
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


# The facet row of a listing and the triggers that keep listing_facets from it.  Dropped and
# recreated as a whole (after any column was added), so older databases get the current form.
FACET_VIEW: Final = """
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


class AddedColumn(NamedTuple):
    """A column added to a table after the first release, and how to fill it for rows already there."""

    table: str
    column: str
    type: type
    not_null_default: str | int | None  # None: the column may be NULL
    fill: str  # an SQL expression over the row


ADDED_COLUMNS: Final[tuple[AddedColumn, ...]] = (
    AddedColumn(
        "listings",
        "topic_slugs",
        str,
        "",
        "' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(payload, '$.topics')), '') || ' '",
    ),
    AddedColumn("listings", "loose", int, 0, "instr(payload, '\"monthly\"') > 0 OR instr(payload, '\"moved_to\"') > 0"),
    AddedColumn("listings", "moved", int, 0, "instr(payload, '\"moved_to\"') > 0"),
    AddedColumn("listings", "schedule", str, None, "json_extract(payload, '$.schedule')"),
    AddedColumn(
        "listing_facets",
        "schedule",
        str,
        None,
        "(SELECT schedule FROM listings WHERE listings.rowid = listing_facets.rowid)",
    ),
)

# Databases made before listing_facets existed get it filled once.
FILL_FACETS: Final = """INSERT OR IGNORE INTO listing_facets SELECT * FROM listing_facet_rows
    WHERE rowid NOT IN (SELECT rowid FROM listing_facets)"""

# The console's local-only tables (node.storage.console): never published or served to peers.
CONSOLE_SCHEMA: Final = """
-- Console sessions: only a SHA-256 of the cookie value is stored.
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY,
    csrf TEXT NOT NULL,
    authed INTEGER NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires);

-- "Something wrong with this listing?" reports: shown in the console, sent nowhere.
CREATE TABLE IF NOT EXISTS reports (
    rowid INTEGER PRIMARY KEY,
    publisher TEXT NOT NULL,
    id TEXT NOT NULL,
    message TEXT NOT NULL,
    contact TEXT,
    received INTEGER NOT NULL,
    resolved INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS reports_listing ON reports (publisher, id);

-- Each fetch of the published sheet ([import] sheet_url) and what it did.
CREATE TABLE IF NOT EXISTS sheet_runs (
    rowid INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    added INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    problems TEXT NOT NULL DEFAULT '[]'
);
"""


# How each import source's meeting places are to be read when its sheet does not say which are
# private (``signpost import --venues``, the console's choice, ``[import] venues``), remembered
# so the next import of the same file name or sheet URL makes the same choice (migration 3).
IMPORT_SOURCES_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS import_sources (
    source TEXT PRIMARY KEY,
    venues TEXT NOT NULL CHECK (venues IN ('public', 'private')),
    chosen INTEGER NOT NULL
);
"""


# When a listing's schedule ends, kept by triggers from its schedule (migration 4): search and the
# public pages leave out a listing the day after its last date, and this node retires its own after a
# grace period (node.publishing.retirement).  The last day is the latest one-off date, moved session
# or rule ``until``; a listing with any open-ended rule (no ``until``) or no dates at all has no row.
# Mirrors node.directory.ending.last_day, which the tests hold it to.
LISTING_ENDS_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS listing_ends (
    rowid INTEGER PRIMARY KEY,
    publisher TEXT NOT NULL,
    id TEXT NOT NULL,
    last_day TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS listing_ends_day ON listing_ends (last_day);
DROP VIEW IF EXISTS listing_end_rows;
CREATE VIEW listing_end_rows AS
    SELECT rowid, publisher, id, CASE
        WHEN schedule IS NULL THEN NULL
        WHEN EXISTS (SELECT 1 FROM json_each(schedule, '$.rules') WHERE json_extract(value, '$.until') IS NULL)
            THEN NULL
        ELSE (SELECT max(d) FROM (
            SELECT json_extract(value, '$.date') AS d FROM json_each(schedule, '$.dates')
            UNION ALL SELECT json_extract(value, '$.until') FROM json_each(schedule, '$.rules')
            UNION ALL SELECT json_extract(value, '$.moved_to.date') FROM json_each(schedule, '$.exceptions')))
        END AS last_day
    FROM listings;
DROP TRIGGER IF EXISTS listings_ends_ai;
DROP TRIGGER IF EXISTS listings_ends_au;
DROP TRIGGER IF EXISTS listings_ends_ad;
CREATE TRIGGER listings_ends_ai AFTER INSERT ON listings BEGIN
    DELETE FROM listing_ends WHERE rowid = new.rowid;
    INSERT INTO listing_ends SELECT * FROM listing_end_rows WHERE rowid = new.rowid AND last_day IS NOT NULL;
END;
CREATE TRIGGER listings_ends_au AFTER UPDATE ON listings BEGIN
    DELETE FROM listing_ends WHERE rowid = old.rowid;
    INSERT INTO listing_ends SELECT * FROM listing_end_rows WHERE rowid = new.rowid AND last_day IS NOT NULL;
END;
CREATE TRIGGER listings_ends_ad AFTER DELETE ON listings BEGIN
    DELETE FROM listing_ends WHERE rowid = old.rowid;
END;
INSERT OR IGNORE INTO listing_ends SELECT * FROM listing_end_rows WHERE last_day IS NOT NULL;

-- This node's own listings it retired (tombstoned) after their last date, with what they said,
-- so the console can show them and bring one back as a new version.  Local only, never served.
CREATE TABLE IF NOT EXISTS retired (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    last_day TEXT NOT NULL,
    retired_at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    place TEXT,
    restored_at INTEGER
);
"""


def statements(script: str) -> list[str]:
    """``script`` as single statements, so a migration runs them inside its own transaction.

    ``executescript`` would commit any open transaction first; a trigger's body holds
    semicolons, so the script is cut where SQLite says a statement is complete.
    """
    out: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.lstrip().startswith("--")):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in the schema: {pending.strip()[:60]}")
    return out


# Sign-in attempts per client address and the account's failure streak, shared by every
# `serve --workers` process (node.storage.login_attempts, node.web.auth.LoginGuard; migration 8).
LOGIN_ATTEMPTS_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS login_attempts (
    rowid INTEGER PRIMARY KEY,
    address TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS login_attempts_address ON login_attempts (address, at);
CREATE INDEX IF NOT EXISTS login_attempts_at ON login_attempts (at);
CREATE TABLE IF NOT EXISTS login_account (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    failures INTEGER NOT NULL,
    last REAL NOT NULL,
    next REAL NOT NULL
);
"""


# The listings search does not show as of one London day (migration 10): closed, unchecked since the
# hidden cutoff and not kept visible by the coordinator (meta 'keep-visible:<publisher>/<id>'), or ended
# before that day (listing_ends).  It is an FTS5 table over the same columns as listings_fts, so a search
# by words alone counts what it shows as the matches in listings_fts less the matches here: two index
# counts, where checking each match's row cost most of a common word's search (node.directory.unshown).
# The day and cutoff are meta 'unshown_day' and 'unshown_cutoff'; the triggers keep the set exact for
# them on every write (a listing written, closed, re-checked or deleted, an end date passing it, a
# keep-visible key set or withdrawn), and node.directory.unshown moves them at the day's turn.
UNSHOWN_COLUMNS: Final = "name, summary, description, topics, area, audience"
# True for a listings row ``l`` not shown on the stored day (node.directory.search._where, negated).
# The keep-visible key is matched as search matches it: a publisher id is always 30 characters.
UNSHOWN_SQL: Final = (
    "(l.status = 'closed'"
    " OR (l.reviewed < (SELECT value FROM meta WHERE key = 'unshown_cutoff') AND NOT EXISTS ("
    "SELECT 1 FROM meta WHERE key = 'keep-visible:' || l.publisher || '/' || l.id AND length(l.publisher) = 30))"
    " OR EXISTS (SELECT 1 FROM listing_ends e WHERE e.rowid = l.rowid"
    " AND e.last_day < (SELECT value FROM meta WHERE key = 'unshown_day')))"
)


def _unshown_again(rowid: str) -> str:
    """Statements that put the listing ``rowid`` (an SQL expression) in the set exactly when it is not shown."""
    columns = ", ".join(f"l.{c}" for c in UNSHOWN_COLUMNS.split(", "))
    return (
        f"DELETE FROM listing_unshown_fts WHERE rowid = {rowid};\n"
        f"    INSERT INTO listing_unshown_fts (rowid, {UNSHOWN_COLUMNS})\n"
        f"        SELECT l.rowid, {columns} FROM listings l WHERE l.rowid = {rowid} AND {UNSHOWN_SQL};"
    )


# The listing a keep-visible key names, at the fixed places search reads it (node.directory.search._KEPT_VISIBLE).
_KEY_LISTING: Final = (
    "(SELECT rowid FROM listings WHERE publisher = substr({k}.key, 14, 30) AND id = substr({k}.key, 45))"
)
_KEEP_KEY: Final = "{k}.key > 'keep-visible:' AND {k}.key < 'keep-visible;'"
_ENDED_BY_THEN: Final = "{k}.last_day < (SELECT value FROM meta WHERE key = 'unshown_day')"

_CHANGED: Final = " OR ".join(
    f"old.{c} IS NOT new.{c}" for c in ("status", "reviewed", "publisher", "id", *UNSHOWN_COLUMNS.split(", "))
)

UNSHOWN_SCHEMA: Final = f"""
CREATE VIRTUAL TABLE IF NOT EXISTS listing_unshown_fts USING fts5(
    {UNSHOWN_COLUMNS},
    tokenize='porter unicode61 remove_diacritics 2'
);
DROP TRIGGER IF EXISTS listings_unshown_ai;
DROP TRIGGER IF EXISTS listings_unshown_au;
DROP TRIGGER IF EXISTS listings_unshown_ad;
DROP TRIGGER IF EXISTS listing_ends_unshown_ai;
DROP TRIGGER IF EXISTS listing_ends_unshown_ad;
DROP TRIGGER IF EXISTS meta_unshown_ai;
DROP TRIGGER IF EXISTS meta_unshown_ad;
CREATE TRIGGER listings_unshown_ai AFTER INSERT ON listings BEGIN
    {_unshown_again("new.rowid")}
END;
-- Only when what decides it (status, reviewed, the keep-visible key's parts) or the words change: a
-- rewrite that changes neither (a new revision of the same text) costs no index write.
CREATE TRIGGER listings_unshown_au AFTER UPDATE ON listings WHEN {_CHANGED} BEGIN
    {_unshown_again("new.rowid")}
END;
CREATE TRIGGER listings_unshown_ad AFTER DELETE ON listings BEGIN
    DELETE FROM listing_unshown_fts WHERE rowid = old.rowid;
END;
-- A listing_ends row counts only when its day has passed (one row a listing, written as delete then insert).
CREATE TRIGGER listing_ends_unshown_ai AFTER INSERT ON listing_ends WHEN {_ENDED_BY_THEN.format(k="new")} BEGIN
    {_unshown_again("new.rowid")}
END;
CREATE TRIGGER listing_ends_unshown_ad AFTER DELETE ON listing_ends WHEN {_ENDED_BY_THEN.format(k="old")} BEGIN
    {_unshown_again("old.rowid")}
END;
CREATE TRIGGER meta_unshown_ai AFTER INSERT ON meta WHEN {_KEEP_KEY.format(k="new")} BEGIN
    {_unshown_again(_KEY_LISTING.format(k="new"))}
END;
CREATE TRIGGER meta_unshown_ad AFTER DELETE ON meta WHEN {_KEEP_KEY.format(k="old")} BEGIN
    {_unshown_again(_KEY_LISTING.format(k="old"))}
END;
"""
