"""The published sheet's run log: one row in ``sheet_runs`` per fetch, the newest 100 kept.

The importer (:mod:`node.importer.sheet`) records each scheduled or manual
fetch of ``[import] sheet_url`` here, and the console reads the latest runs
back.  The table itself is created with the rest of the schema
(:mod:`node.storage.schema`).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["KEEP_RUNS", "SheetRunRow", "record_sheet_run", "recent_sheet_runs"]

KEEP_RUNS: Final = 100


@dataclass(frozen=True)
class SheetRunRow:
    """One fetch of the published sheet as stored: when (Unix seconds), whether it imported, and its counts."""

    url: str
    at: int
    ok: bool
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: int = 0
    error: str | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)


def record_sheet_run(conn: sqlite3.Connection, run: SheetRunRow) -> None:
    """Keep one run, and forget all but the newest :data:`KEEP_RUNS`."""
    conn.execute(
        "INSERT INTO sheet_runs (url, at, ok, added, changed, unchanged, rejected, error, problems) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.url,
            run.at,
            int(run.ok),
            run.added,
            run.changed,
            run.unchanged,
            run.rejected,
            run.error,
            json.dumps(run.problems),
        ),
    )
    conn.execute(
        "DELETE FROM sheet_runs WHERE rowid NOT IN (SELECT rowid FROM sheet_runs ORDER BY rowid DESC LIMIT ?)",
        (KEEP_RUNS,),
    )


def recent_sheet_runs(conn: sqlite3.Connection, limit: int = 10) -> list[SheetRunRow]:
    """The newest ``limit`` runs, newest first."""
    rows = conn.execute(
        "SELECT url, at, ok, added, changed, unchanged, rejected, error, problems FROM sheet_runs ORDER BY rowid DESC LIMIT ?",
        (limit,),
    )
    return [
        SheetRunRow(url, at, bool(ok), added, changed, unchanged, rejected, error, json.loads(problems))
        for url, at, ok, added, changed, unchanged, rejected, error, problems in rows
    ]
