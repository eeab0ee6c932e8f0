"""Numbered schema migrations: how any database the node may meet reaches ``SCHEMA_VERSION``.

The version lives in the ``meta`` table (``schema_version``), not in ``PRAGMA user_version``:
every database made before migrations were numbered already says ``schema_version = 1``
there (it was written at creation), while its ``user_version`` is 0, the same as an empty
file's.  Keeping it in ``meta`` also keeps it beside the other facts about the database
(epoch, ``last_change``) that a backup or restore must carry together.

Each migration runs in its own ``BEGIN IMMEDIATE`` transaction together with the new
version number, so a crash or an error leaves the database at the previous version, and
two processes opening an older database at once take turns: the second finds the work
done and skips it.  A database from a newer Signpost is refused before anything is
written to it.

Version 1 databases were written by code that brought their tables up to date on every
start, so the number says "some first-release shape", not which columns are there:
migration 1 is written to be run again on them (it only adds what is missing), and the
runner does so.

sqlite-utils is used here, for introspection (which columns a table has) and for adding
columns: what it does well, on a path that runs once per database and version.  The
writer's hot paths (``node.storage.ledger``, ``node.storage.index``) stay on plain
``sqlite3`` with prepared statements: a wrapper object per call would cost time there and
buy nothing.  See docs/architecture.md (storage).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import sqlite_utils

from node.core.errors import NodeError
from node.storage.schema import (
    ADDED_COLUMNS,
    CONSOLE_SCHEMA,
    CORE_SCHEMA,
    FACET_VIEW,
    FILL_FACETS,
    IMPORT_SOURCES_SCHEMA,
    LISTING_ENDS_SCHEMA,
    LOGIN_ATTEMPTS_SCHEMA,
    UNSHOWN_SCHEMA,
    statements,
)

__all__ = ["Migration", "MIGRATIONS", "SCHEMA_VERSION", "stored_version", "upgrade", "introspect"]


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sqlite3.Connection], None]


def introspect(conn: sqlite3.Connection) -> sqlite_utils.Database:
    """A sqlite-utils view of ``conn`` that leaves the connection's settings as they were.

    (By default sqlite-utils turns on recursive triggers, which would change what the
    facet triggers do on this connection, and runs its plugins' connection hooks.)
    """
    return sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)


def _run(conn: sqlite3.Connection, script: str) -> None:
    for statement in statements(script):
        conn.execute(statement)


def first_release(conn: sqlite3.Connection) -> None:
    """The ledger, search index and federation tables as they stood at schema version 1.

    Idempotent: creates what is missing, adds the columns later first-release code added
    (filling them from each listing's payload), recreates the facet view and triggers in
    their current form and fills ``listing_facets`` for databases made before it existed.
    """
    _run(conn, CORE_SCHEMA)
    db = introspect(conn)
    for added in ADDED_COLUMNS:
        table = db.table(added.table)
        if added.column not in table.columns_dict:
            table.add_column(added.column, added.type, not_null_default=added.not_null_default)
            conn.execute(f"UPDATE {added.table} SET {added.column} = {added.fill}")
    _run(conn, FACET_VIEW)
    conn.execute(FILL_FACETS)


def console_tables(conn: sqlite3.Connection) -> None:
    """The console's sessions, reports and sheet runs, which the web app used to create at its start.

    Created with the rest of the schema, so every command (not only ``serve``) finds them;
    a database whose console already ran keeps its tables and rows.
    """
    _run(conn, CONSOLE_SCHEMA)


def import_sources(conn: sqlite3.Connection) -> None:
    """The venues choice remembered per import source (``node.storage.sources``)."""
    _run(conn, IMPORT_SOURCES_SCHEMA)


def listing_ends(conn: sqlite3.Connection) -> None:
    """When each listing's schedule ends, and the listings this node retired (``node.storage.retired``)."""
    _run(conn, LISTING_ENDS_SCHEMA)


ORGANISATION_NAMES_INDEX: Final = """CREATE INDEX IF NOT EXISTS listings_org ON listings (publisher, rev)
    WHERE kind = 'organisation'"""


def organisation_names(conn: sqlite3.Connection) -> None:
    """An index from a publisher to its organisation records, earliest first.

    Every results page names each publisher by one of its open organisation records
    (``node.directory.networks.speakers``, with the counts of migration 7); without this index
    that lookup read every organisation listing and sorted them, once per publisher on the page
    (docs/benchmarks.md).
    """
    conn.execute(ORGANISATION_NAMES_INDEX)


# Sessions of each listing over the next few days, so "today" and "this weekend" are index lookups
# instead of expanding every match's schedule per query.  Filled by node.directory.occurrences (the
# schedule rules live there); a listing written since is listed in listing_occurrences_pending and
# searched the slow, exact way until the next fill.  ``start``/``end`` are Unix seconds, ``end`` the
# effective end (node.directory.schedule.effective_end).  The triggers insert with NOT EXISTS rather
# than OR IGNORE: inside a trigger fired by an upsert, SQLite applies the outer statement's conflict
# handling, so OR IGNORE would still fail on a listing written twice before a fill.
OCCURRENCES_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS listing_occurrences (
    listing INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS listing_occurrences_start ON listing_occurrences (start);
CREATE INDEX IF NOT EXISTS listing_occurrences_listing ON listing_occurrences (listing);
CREATE TABLE IF NOT EXISTS listing_occurrences_pending (listing INTEGER PRIMARY KEY);
DROP TRIGGER IF EXISTS listings_occurrences_ai;
DROP TRIGGER IF EXISTS listings_occurrences_au;
DROP TRIGGER IF EXISTS listings_occurrences_ad;
CREATE TRIGGER listings_occurrences_ai AFTER INSERT ON listings BEGIN
    DELETE FROM listing_occurrences WHERE listing = new.rowid;
    INSERT INTO listing_occurrences_pending (listing) SELECT new.rowid
        WHERE NOT EXISTS (SELECT 1 FROM listing_occurrences_pending WHERE listing = new.rowid);
END;
CREATE TRIGGER listings_occurrences_au AFTER UPDATE OF schedule ON listings
WHEN old.schedule IS NOT new.schedule BEGIN
    DELETE FROM listing_occurrences WHERE listing = old.rowid;
    INSERT INTO listing_occurrences_pending (listing) SELECT new.rowid
        WHERE NOT EXISTS (SELECT 1 FROM listing_occurrences_pending WHERE listing = new.rowid);
END;
CREATE TRIGGER listings_occurrences_ad AFTER DELETE ON listings BEGIN
    DELETE FROM listing_occurrences WHERE listing = old.rowid;
    DELETE FROM listing_occurrences_pending WHERE listing = old.rowid;
END;
INSERT OR IGNORE INTO listing_occurrences_pending (listing) SELECT rowid FROM listings;
"""


def occurrence_table(conn: sqlite3.Connection) -> None:
    """The precomputed sessions of the next few days (filled by ``node.directory.occurrences``)."""
    _run(conn, OCCURRENCES_SCHEMA)


def login_attempts(conn: sqlite3.Connection) -> None:
    """Sign-in attempts and the account's failure streak, shared by every ``serve --workers`` process
    (``node.storage.login_attempts``; docs/security.md §6)."""
    _run(conn, LOGIN_ATTEMPTS_SCHEMA)


# How many open listings of each publisher name each organisation record as who runs them
# (``organisation.ref``), kept by triggers wherever a listing lands, changes or goes, in the same
# transaction.  The organisation record a network speaks with is the one named most often
# (node.directory.networks.speakers), so results pages and /networks read it from here with one seek
# per publisher instead of counting every listing.  The triggers insert with NOT EXISTS rather than
# OR IGNORE for the reason given above the occurrences triggers.
ORGANISATION_REFS_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS organisation_refs (
    publisher TEXT NOT NULL,
    org TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (publisher, org)
) WITHOUT ROWID;
DROP TRIGGER IF EXISTS listings_orgrefs_ai;
DROP TRIGGER IF EXISTS listings_orgrefs_au;
DROP TRIGGER IF EXISTS listings_orgrefs_ad;
CREATE TRIGGER listings_orgrefs_ai AFTER INSERT ON listings
WHEN new.status != 'closed' AND json_extract(new.payload, '$.organisation.ref') IS NOT NULL BEGIN
    INSERT INTO organisation_refs (publisher, org, n)
        SELECT new.publisher, json_extract(new.payload, '$.organisation.ref'), 0 WHERE NOT EXISTS (
            SELECT 1 FROM organisation_refs
            WHERE publisher = new.publisher AND org = json_extract(new.payload, '$.organisation.ref'));
    UPDATE organisation_refs SET n = n + 1
        WHERE publisher = new.publisher AND org = json_extract(new.payload, '$.organisation.ref');
END;
CREATE TRIGGER listings_orgrefs_au AFTER UPDATE OF status, payload ON listings
WHEN old.status IS NOT new.status OR old.payload IS NOT new.payload BEGIN
    UPDATE organisation_refs SET n = n - 1
        WHERE old.status != 'closed'
        AND publisher = old.publisher AND org = json_extract(old.payload, '$.organisation.ref');
    DELETE FROM organisation_refs
        WHERE publisher = old.publisher AND org = json_extract(old.payload, '$.organisation.ref') AND n <= 0;
    INSERT INTO organisation_refs (publisher, org, n)
        SELECT new.publisher, json_extract(new.payload, '$.organisation.ref'), 0
        WHERE new.status != 'closed' AND json_extract(new.payload, '$.organisation.ref') IS NOT NULL
        AND NOT EXISTS (
            SELECT 1 FROM organisation_refs
            WHERE publisher = new.publisher AND org = json_extract(new.payload, '$.organisation.ref'));
    UPDATE organisation_refs SET n = n + 1
        WHERE new.status != 'closed'
        AND publisher = new.publisher AND org = json_extract(new.payload, '$.organisation.ref');
END;
CREATE TRIGGER listings_orgrefs_ad AFTER DELETE ON listings
WHEN old.status != 'closed' AND json_extract(old.payload, '$.organisation.ref') IS NOT NULL BEGIN
    UPDATE organisation_refs SET n = n - 1
        WHERE publisher = old.publisher AND org = json_extract(old.payload, '$.organisation.ref');
    DELETE FROM organisation_refs
        WHERE publisher = old.publisher AND org = json_extract(old.payload, '$.organisation.ref') AND n <= 0;
END;
DELETE FROM organisation_refs;
INSERT INTO organisation_refs (publisher, org, n)
    SELECT publisher, ref, count(*) FROM (
        SELECT publisher, json_extract(payload, '$.organisation.ref') AS ref FROM listings WHERE status != 'closed')
    WHERE ref IS NOT NULL GROUP BY publisher, ref;
"""


def organisation_refs(conn: sqlite3.Connection) -> None:
    """Who runs what, counted per organisation record, so one rule names a network cheaply everywhere."""
    _run(conn, ORGANISATION_REFS_SCHEMA)


# What the searches without words read in order (node.directory.search), so a count and a first page
# are index walks instead of reading every matching row:
# - listing_facets by kind then name (as the results are ordered), carrying status and reviewed, so
#   "every event" is counted from the index alone and its first page is the first rows of the walk;
# - each stored session (migration 6) carries its listing's kind, status, reviewed, weekday mask and
#   last day (listing_ends, derived from the schedule), and the index on its start carries them too,
#   so "today" and "this weekend" count the listings showing a session from the index alone, and
#   page by walking sessions in start order.  A listing whose copied fields change is pending again (the exact way answers until the next fill).
SEARCH_ORDER_SCHEMA: Final = """
CREATE INDEX IF NOT EXISTS listing_facets_kind_name
    ON listing_facets (kind, name COLLATE NOCASE, status, reviewed);
DROP INDEX IF EXISTS listing_occurrences_start;
ALTER TABLE listing_occurrences ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE listing_occurrences ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE listing_occurrences ADD COLUMN reviewed TEXT;
ALTER TABLE listing_occurrences ADD COLUMN days INTEGER NOT NULL DEFAULT 0;
ALTER TABLE listing_occurrences ADD COLUMN loose INTEGER NOT NULL DEFAULT 0;
ALTER TABLE listing_occurrences ADD COLUMN last_day TEXT;
UPDATE listing_occurrences SET (kind, status, reviewed, days, loose, last_day) =
    (SELECT l.kind, l.status, l.reviewed, l.days, l.loose, e.last_day
     FROM listings l LEFT JOIN listing_ends e ON e.rowid = l.rowid WHERE l.rowid = listing_occurrences.listing);
CREATE INDEX IF NOT EXISTS listing_occurrences_span
    ON listing_occurrences (start, end, listing, kind, status, reviewed, days, loose, last_day);
DROP TRIGGER IF EXISTS listings_occurrences_au;
CREATE TRIGGER listings_occurrences_au AFTER UPDATE OF schedule, kind, status, reviewed, days, loose ON listings
WHEN old.schedule IS NOT new.schedule OR old.kind IS NOT new.kind OR old.status IS NOT new.status
    OR old.reviewed IS NOT new.reviewed OR old.days IS NOT new.days OR old.loose IS NOT new.loose BEGIN
    DELETE FROM listing_occurrences WHERE listing = old.rowid;
    INSERT INTO listing_occurrences_pending (listing) SELECT new.rowid
        WHERE NOT EXISTS (SELECT 1 FROM listing_occurrences_pending WHERE listing = new.rowid);
END;
"""


def search_order(conn: sqlite3.Connection) -> None:
    """Indexes the searches without words walk in their own order (see SEARCH_ORDER_SCHEMA)."""
    _run(conn, SEARCH_ORDER_SCHEMA)


def unshown_listings(conn: sqlite3.Connection) -> None:
    """The listings search does not show, as an FTS5 index, so a word's count is two index counts.

    Only the table and its triggers: which listings are not shown depends on the day, so the set is
    filled by ``node.directory.unshown`` (the serve job, at start and at each day's turn); until then a
    search counts the exact, slower way.  See ``UNSHOWN_SCHEMA``.
    """
    _run(conn, UNSHOWN_SCHEMA)


MIGRATIONS: Final[tuple[Migration, ...]] = (
    Migration(1, "first release: ledger, search index, federation", first_release),
    Migration(2, "console tables: sessions, reports, sheet runs", console_tables),
    Migration(3, "import sources: the venues choice remembered per file or sheet", import_sources),
    Migration(4, "listing ends and retired listings: events that retire on their own", listing_ends),
    Migration(5, "an index naming each publisher by its earliest organisation record", organisation_names),
    Migration(6, "the sessions of the next few days, for today and this weekend", occurrence_table),
    Migration(7, "how many listings name each organisation record as who runs them", organisation_refs),
    Migration(8, "sign-in attempts shared by every process serving the node", login_attempts),
    Migration(9, "indexes walked in the order searches without words show", search_order),
    Migration(10, "the listings search does not show, indexed by their words", unshown_listings),
)
SCHEMA_VERSION: Final = MIGRATIONS[-1].version


def stored_version(conn: sqlite3.Connection) -> int:
    """The schema version a database says it is at; 0 for an empty one."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return 0
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    return 0 if row is None else int(row[0])


def _done(version: int) -> int:
    """The last migration a database at ``version`` is known to have complete (see the module note)."""
    return 0 if version <= 1 else version


def refuse_newer(version: int, latest: int) -> None:
    if version > latest:
        raise NodeError(
            f"this database was written by a newer Signpost (schema version {version}; "
            f"this Signpost knows versions up to {latest}), so it was left untouched",
            hint="upgrade Signpost to the version that wrote it, or open a backup made by this version",
        )


def upgrade(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations ``conn``'s database lacks, each in its own transaction; return the version.

    ``conn`` must be in autocommit mode (``isolation_level=None``) with no transaction open.
    """
    latest = migrations[-1].version
    version = stored_version(conn)
    refuse_newer(version, latest)
    if version == latest and latest > 1:
        return version
    for migration in migrations:
        if migration.version <= _done(version):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = stored_version(conn)  # another process may have got here first
            refuse_newer(version, latest)
            if migration.version > _done(version):
                migration.apply(conn)
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(migration.version),),
                )
                version = migration.version
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return version
