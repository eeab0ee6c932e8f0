"""The restore sidecar (``signpost.db.state``) is written by every process that commits, and the
readers of ``serve --workers`` open the store at the same moment: no process may lose its write
(or crash) because another renamed a temporary file they shared."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from node.storage.store import connect, get_meta, set_meta, transaction


def _commit_many(path: str, start: int, count: int) -> None:
    conn = connect(Path(path))
    for n in range(start, start + count):
        with transaction(conn):
            set_meta(conn, "last_change", n)
    conn.close()


def test_processes_committing_at_once_each_write_the_sidecar_without_failing(tmp_path: Path) -> None:
    db = tmp_path / "signpost.db"
    connect(db).close()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_commit_many, args=(str(db), 1 + k * 1000, 300)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    epoch, value = (tmp_path / "signpost.db.state").read_text().split()
    conn = connect(db)
    assert epoch == get_meta(conn, "epoch")
    assert int(value) > 0
    assert not list(tmp_path.glob("*.tmp"))  # every temporary file was renamed into place
