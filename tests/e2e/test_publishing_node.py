"""A publishing node as a real process: feeds under concurrent writes, crashes, validators."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from nodeutil import ServeProcess, example_listings, get_json, group, make_node, signpost, walk_feed
from support.rpde import validate_rpde

pytestmark = pytest.mark.slow


def test_follower_walking_while_the_node_writes_sees_every_change_once_at_its_latest_position(tmp_path: Path) -> None:
    node = make_node(tmp_path / "leeds", "Leeds")
    node.publish([group(i) for i in range(300)])
    stop = threading.Event()
    rng = random.Random(7)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            n = 300
            while not stop.is_set():
                action = rng.random()
                if action < 0.5:
                    node.publish(
                        [group(rng.randrange(n), summary=f"edit {rng.random()}") for _ in range(rng.randint(1, 20))]
                    )
                elif action < 0.8:
                    node.publish([group(n + k) for k in range(rng.randint(1, 20))])
                    n += 20
                else:
                    live = [r[0] for r in node.query("SELECT id FROM listings ORDER BY random() LIMIT 3")]
                    for rid in live:
                        node.delete(rid)
                time.sleep(0.005)
        except BaseException as e:  # surfaced to the test below
            errors.append(e)

    with ServeProcess(node):
        seen: dict[str, tuple[int, str]] = {}
        modified_seen: set[int] = set()
        thread = threading.Thread(target=writer)
        thread.start()
        url = f"{node.url}/feed"
        deadline = time.monotonic() + 4
        try:
            while True:
                status, _, page = get_json(url)
                assert status == 200
                last = -1
                for item in page["items"]:
                    assert item["modified"] > last, "items must be strictly increasing within a page"
                    last = item["modified"]
                    assert item["modified"] not in modified_seen, "a change number was served twice"
                    modified_seen.add(item["modified"])
                    seen[item["id"]] = (item["modified"], item["state"])
                if not page["items"] and time.monotonic() > deadline:
                    break
                url = page["next"]
        finally:
            stop.set()
            thread.join()
        assert not errors, errors
        items, _ = walk_feed(node.url, after=max(modified_seen))
        for item in items:
            seen[item["id"]] = (item["modified"], item["state"])
    truth = {
        f"{p}/{i}": (c, "deleted" if d else "updated")
        for c, p, i, d in node.query("SELECT change, publisher, id, deleted FROM versions")
    }
    assert seen == truth


def _jsonl(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            rid, fields = group(i)
            f.write(json.dumps({"id": rid, **fields}) + "\n")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sigkill_during_import_leaves_a_database_with_all_or_nothing(tmp_path: Path, seed: int) -> None:
    node = make_node(tmp_path / "n", "Leeds")
    node.publish([group(i, summary="before") for i in range(100)])
    source = tmp_path / "big.jsonl"
    _jsonl(source, 6000)
    proc = subprocess.Popen(
        [sys.executable, "-m", "node", "import", str(source), "--dir", str(node.directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(random.Random(seed).uniform(0.3, 2.0))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert node.query("PRAGMA integrity_check") == [("ok",)]
    count = node.query("SELECT count(*) FROM listings")[0][0]
    changed = node.query("SELECT count(*) FROM listings WHERE summary != 'before'")[0][0]
    assert (count, changed) in ((100, 0), (6000, 6000)), (count, changed)
    versions = node.query("SELECT count(*), max(change) FROM versions")[0]
    assert versions[0] == count
    # The node still works: finish the import.
    signpost("import", str(source), "--dir", str(node.directory))
    assert node.query("SELECT count(*) FROM listings") == [(6000,)]


def test_check_feed_and_the_openactive_validator_pass_on_a_real_node(tmp_path: Path, node_tools: None) -> None:
    import asyncio

    node = make_node(tmp_path / "leeds", "Leeds")
    node.publish(example_listings("leeds"))
    node.publish([group(i) for i in range(1100)])
    node.delete("group-000005")
    with ServeProcess(node):
        proc = signpost("check-feed", node.url, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "0 failure(s)" in proc.stdout
        report = asyncio.run(validate_rpde(f"{node.url}/feed"))
        assert report.ok, report.describe()


def test_check_feed_reports_each_failure_on_a_broken_feed(tmp_path: Path) -> None:
    node = make_node(tmp_path / "leeds", "Leeds")
    node.publish([group(1), group(2)])
    # Tamper with a stored envelope: the node now serves a record whose signature fails.
    node.query("SELECT 1")
    import sqlite3

    conn = sqlite3.connect(node.directory / "signpost.db")
    env = json.loads(conn.execute("SELECT envelope FROM versions WHERE id = 'group-000001'").fetchone()[0])
    import base64

    payload = json.loads(base64.b64decode(env["payload"]))
    payload["name"] = "Forged name"
    env["payload"] = base64.b64encode(json.dumps(payload).encode()).decode()
    conn.execute("UPDATE versions SET envelope = ? WHERE id = 'group-000001'", (json.dumps(env).encode(),))
    conn.commit()
    conn.close()
    with ServeProcess(node):
        proc = signpost("check-feed", node.url, check=False)
    assert proc.returncode == 1
    failures = [line for line in proc.stdout.splitlines() if "group-000001" in line]
    assert len(failures) == 1 and "bad-signature" in failures[0]
    assert "1 failure(s)" in proc.stdout
