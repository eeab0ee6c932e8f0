"""SIGKILL a node at random points during sync and import, many times, and lose nothing.

The loop count is small in CI; run more with e.g.
``SIGNPOST_CRASH_LOOPS=200 .venv/bin/python -m pytest tests/security/test_crash_loops.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nodeutil import NodeHandle, ServeProcess, group, make_node, signpost, walk_feed

pytestmark = pytest.mark.slow
LOOPS = int(os.environ.get("SIGNPOST_CRASH_LOOPS", "6"))


def kill_after(args: list[str], delay: float) -> int:
    proc = subprocess.Popen([sys.executable, "-m", "node", *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return proc.returncode


def assert_feed_has_no_gap_or_duplicate(node: NodeHandle) -> None:
    with ServeProcess(node):
        items, _ = walk_feed(node.url)
    ids = [i["id"] for i in items]
    mods = [i["modified"] for i in items]
    assert len(ids) == len(set(ids)), "a record appears twice in one walk"
    assert mods == sorted(mods) and len(set(mods)) == len(mods)
    truth = {f"{p}/{i}": c for p, i, c in node.query("SELECT publisher, id, change FROM versions")}
    assert {i["id"]: i["modified"] for i in items} == truth, "the feed shows every held record at its latest change"


def test_sigkill_during_sync_in_a_loop_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rng = random.Random(20261123)
    origin = make_node(tmp_path / "origin", "Leeds")
    origin.publish([group(i, description="Peer support. " * 40) for i in range(3000)])
    follower = make_node(tmp_path / "follower", "National")
    killed = 0
    with ServeProcess(origin):
        signpost("follow", origin.url, "--publisher", origin.publisher, "--dir", str(follower.directory))
        for i in range(LOOPS):
            # The origin keeps changing between crashes: edits, additions and deletions.
            origin.publish([group(rng.randrange(3000), summary=f"edit {i}-{k}") for k in range(rng.randint(0, 300))])
            live = [r[0] for r in origin.query("SELECT id FROM listings ORDER BY random() LIMIT 2")]
            for rid in live:
                origin.delete(rid)
            code = kill_after(["sync", "--dir", str(follower.directory)], rng.uniform(0.3, 1.5))
            killed += code == -signal.SIGKILL
            assert follower.query("PRAGMA integrity_check") == [("ok",)]
            assert follower.query("SELECT count(*) FROM versions") == follower.query(
                "SELECT count(DISTINCT id) FROM versions"
            )
        signpost("sync", "--dir", str(follower.directory))
        ours = dict(follower.query("SELECT id, envelope FROM versions"))
        theirs = dict(origin.query("SELECT id, envelope FROM versions"))
        assert ours == theirs, "after the crashes the follower holds exactly the origin's versions"
    assert killed >= 1, "at least one sync was killed mid-run"
    assert_feed_has_no_gap_or_duplicate(follower)


def test_sigkill_during_import_in_a_loop_applies_each_import_whole_or_not_at_all(tmp_path: Path) -> None:
    rng = random.Random(7)
    node = make_node(tmp_path / "n", "Leeds")
    source = tmp_path / "listings.jsonl"
    outcomes = set()

    def write_source(i: int) -> None:
        with source.open("w") as f:
            for k in range(4000):
                rid, fields = group(k, summary=f"import {i}")
                f.write(json.dumps({"id": rid, **fields}) + "\n")

    # Time one whole import, so the kills land across its whole length on a busy machine too.
    write_source(-1)
    started = time.monotonic()
    signpost("import", str(source), "--dir", str(node.directory))
    whole = time.monotonic() - started
    for i in range(LOOPS):
        write_source(i)
        before = {r[0] for r in node.query("SELECT summary FROM listings")}
        share = rng.uniform(0.2, 0.9) if i % 2 == 0 else rng.uniform(0.9, 2.0)
        kill_after(["import", str(source), "--dir", str(node.directory)], share * whole)
        assert node.query("PRAGMA integrity_check") == [("ok",)]
        after = {r[0] for r in node.query("SELECT summary FROM listings")}
        assert after in (before, {f"import {i}"}), f"import {i} landed partly: {sorted(after)[:3]}"
        outcomes.add(after == before)
    assert True in outcomes, "at least one import was killed part-way and left nothing behind"
    assert_feed_has_no_gap_or_duplicate(node)
