"""Numbered migrations: an old database is brought up to date on open, a newer one refused.

``data/v1-node.db`` was made with the code at commit 2b11a5e (schema version 1): ``signpost
init``, ``signpost import`` of eight Leeds listings (two of them private groups), ``signpost
delete`` of one, ``signpost keys rotate``, a re-import changing one summary, and one
problem report through that version's console tables; then checkpointed and vacuumed with
1 KiB pages to keep it small.  Tests open a copy, never the file itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from node.core.errors import NodeError
from node.directory.filters import Filters
from node.directory.search import search
from node.storage import console
from node.storage.ledger import feed_rows, last_change, load_keylog
from node.storage.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, stored_version, upgrade
from node.storage.schema import FACET_VIEW, statements
from node.storage.store import connect, get_meta, transaction
from nodeutil import make_node, signpost

V1 = Path(__file__).parent / "data" / "v1-node.db"
V1_PUBLISHER = "sp1:2t3oqe77c6jizckz33ynpuxjgw"


def _copy_v1(tmp_path: Path) -> Path:
    path = tmp_path / "signpost.db"
    shutil.copyfile(V1, path)
    return path


def _shape(conn: sqlite3.Connection) -> dict[str, Any]:
    """Every table's columns and indexes, every trigger and view, as sqlite-utils reads them."""
    db = sqlite_utils.Database(conn, recursive_triggers=False, execute_plugins=False)
    return {
        "tables": {
            t.name: (
                [(c.name, c.type, c.notnull, c.default_value, c.is_pk) for c in t.columns],
                sorted((i.name, tuple(i.columns), i.unique) for i in t.indexes),
            )
            for t in db.tables
        },
        "triggers": db.triggers_dict,
        "views": sorted(db.view_names()),
    }


def test_the_saved_database_is_version_1_as_made() -> None:
    raw = sqlite3.connect(f"file:{V1}?mode=ro&immutable=1", uri=True)
    assert stored_version(raw) == 1
    assert raw.execute("SELECT count(*) FROM versions").fetchone()[0] == 8
    assert 20_000 < V1.stat().st_size < 100_000


def test_a_v1_database_is_upgraded_on_open_keeping_every_listing_searchable_and_its_feed(tmp_path: Path) -> None:
    path = _copy_v1(tmp_path)
    raw = sqlite3.connect(path)
    before_feed = raw.execute(
        "SELECT change, publisher, id, kind, deleted, envelope FROM versions ORDER BY change"
    ).fetchall()
    before_meta = dict(raw.execute("SELECT key, value FROM meta").fetchall())
    live = raw.execute("SELECT id, name FROM listings ORDER BY id").fetchall()
    raw.close()
    assert before_meta["schema_version"] == "1" and len(live) == 7

    conn = connect(path)
    assert stored_version(conn) == SCHEMA_VERSION
    assert get_meta(conn, "schema_version") == str(SCHEMA_VERSION)
    # The feed is the same, byte for byte, with the same change numbers and epoch (no new epoch).
    after_feed = [(r.change, r.publisher, r.id, r.kind, int(r.deleted), r.envelope) for r in feed_rows(conn, 0, 1000)]
    assert after_feed == [(c, p, i, k, d, bytes(e)) for c, p, i, k, d, e in before_feed]
    assert last_change(conn) == int(before_meta["last_change"])
    assert get_meta(conn, "epoch") == before_meta["epoch"]
    log = load_keylog(conn, V1_PUBLISHER)
    assert log is not None and len(log.entries) == 2
    # Every live listing is found by its name; the deleted one by nothing.
    now = dt.datetime.fromtimestamp(last_change(conn) / 1e6, dt.UTC)
    for rid, name in live:
        found = search(conn, Filters(q=name), place=None, now=now, limit=50)
        assert rid in [h.record.id for h in found.items], name
    everything = search(conn, Filters(), place=None, now=now, limit=50)
    assert sorted(h.record.id for h in everything.items) == [rid for rid, _ in live]
    assert "armley-anxiety-support" not in [h.record.id for h in everything.items]
    # The console's tables (migration 2) keep the report the old console stored.
    assert conn.execute("SELECT id, message FROM reports").fetchall() == [
        ("leeds-bipolar-peer-group", "The phone number is out of date")
    ]


def test_an_upgraded_database_has_the_same_schema_as_a_new_one(tmp_path: Path) -> None:
    old = connect(_copy_v1(tmp_path))
    new = connect(tmp_path / "new.db")
    assert _shape(old) == _shape(new)
    assert {"sessions", "reports", "sheet_runs"} <= set(_shape(new)["tables"])


def test_a_column_missing_from_an_early_v1_database_is_added_and_filled(tmp_path: Path) -> None:
    """Version 1 covered several shapes: an early one lacks ``schedule``, which migration 1 adds."""
    path = _copy_v1(tmp_path)
    raw = sqlite3.connect(path, isolation_level=None)
    for statement in statements(FACET_VIEW)[:4]:  # the DROPs: the view names the column
        raw.execute(statement)
    raw.execute("ALTER TABLE listings DROP COLUMN schedule")
    raw.execute("ALTER TABLE listing_facets DROP COLUMN schedule")
    raw.close()
    conn = connect(path)
    assert stored_version(conn) == SCHEMA_VERSION
    rows = conn.execute("SELECT id, schedule, json_extract(payload, '$.schedule') FROM listings").fetchall()
    assert any(s is not None for _, s, _ in rows)
    assert all(s == expected for _, s, expected in rows)
    facets = dict(conn.execute("SELECT id, schedule FROM listing_facets").fetchall())
    assert facets == {rid: s for rid, s, _ in rows}


def test_a_database_from_a_newer_signpost_is_refused_and_left_untouched(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n", "Leeds")
    db = node.directory / "signpost.db"
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    digest = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(NodeError, match=f"newer Signpost \\(schema version {SCHEMA_VERSION + 1};") as e:
        connect(db)
    assert e.value.hint is not None and "upgrade Signpost" in e.value.hint
    proc = signpost("status", "--dir", str(node.directory), check=False)
    assert proc.returncode == 1 and "written by a newer Signpost" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == digest


def test_each_migration_commits_alone_and_a_failing_one_leaves_the_one_before(tmp_path: Path) -> None:
    conn = connect(tmp_path / "signpost.db")
    assert stored_version(conn) == SCHEMA_VERSION

    def broken(c: sqlite3.Connection) -> None:
        c.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        upgrade(conn, (*MIGRATIONS, Migration(SCHEMA_VERSION + 1, "broken", broken)))
    assert stored_version(conn) == SCHEMA_VERSION and not conn.in_transaction
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchone() is None

    applied: list[int] = []

    def step(version: int) -> Migration:
        return Migration(version, f"step {version}", lambda c: applied.append(version))

    later = (*MIGRATIONS, step(SCHEMA_VERSION + 1), step(SCHEMA_VERSION + 2))
    assert upgrade(conn, later) == SCHEMA_VERSION + 2
    assert applied == [SCHEMA_VERSION + 1, SCHEMA_VERSION + 2]
    assert upgrade(conn, later) == SCHEMA_VERSION + 2 and len(applied) == 2  # nothing runs twice
    with pytest.raises(NodeError, match="newer Signpost"):
        upgrade(conn)


def test_migrations_are_numbered_one_by_one_from_1() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    assert SCHEMA_VERSION >= 2


def test_a_new_database_gets_every_migration_and_the_console_tables_without_the_console(tmp_path: Path) -> None:
    conn = connect(tmp_path / "signpost.db")
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"versions", "listings", "listing_facets", "listings_fts", "sessions", "reports", "sheet_runs"} <= names
    with transaction(conn):
        console.migrate(conn)  # the console's start: idempotent
    assert stored_version(conn) == SCHEMA_VERSION


def test_a_trigger_body_stays_one_statement() -> None:
    parts = statements(FACET_VIEW)
    assert len(parts) == 8
    assert parts[5].startswith("CREATE TRIGGER listings_facets_ai") and parts[5].endswith("END;")
