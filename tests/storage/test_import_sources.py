"""The venues choice remembered per import source (migration 3, ``node.storage.sources``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from node.storage.migrations import SCHEMA_VERSION, stored_version
from node.storage.sources import forget_venues, remember_venues, remembered_venues
from node.storage.store import connect, transaction


def test_a_choice_is_remembered_per_source_and_replaced_by_a_later_one(tmp_path: Path) -> None:
    conn = connect(tmp_path / "signpost.db")
    assert stored_version(conn) == SCHEMA_VERSION >= 3
    assert remembered_venues(conn, "groups.csv") is None
    with transaction(conn):
        remember_venues(conn, "groups.csv", "public", at=1)
        remember_venues(conn, "https://docs.example.org/sheet.csv", "private", at=1)
    assert remembered_venues(conn, "groups.csv") == "public"
    with transaction(conn):
        remember_venues(conn, "groups.csv", "private", at=2)
    assert remembered_venues(conn, "groups.csv") == "private"
    assert remembered_venues(conn, "https://docs.example.org/sheet.csv") == "private"
    with transaction(conn):
        forget_venues(conn, "groups.csv")
    assert remembered_venues(conn, "groups.csv") is None
    conn.close()


def test_only_public_or_private_can_be_remembered(tmp_path: Path) -> None:
    conn = connect(tmp_path / "signpost.db")
    with pytest.raises(ValueError):
        remember_venues(conn, "groups.csv", "maybe", at=1)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO import_sources (source, venues, chosen) VALUES ('x', 'maybe', 1)")
    conn.close()
