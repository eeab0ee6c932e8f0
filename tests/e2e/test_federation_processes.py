"""Federation with real node processes: Leeds, Lambeth, national, and Leeds following national."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nodeutil import NodeHandle, ServeProcess, example_listings, group, make_node, signpost, walk_feed

pytestmark = pytest.mark.slow


def held(node: NodeHandle) -> dict[str, tuple[int, bytes]]:
    return {
        f"{p}/{i}": (d, bytes(e)) for p, i, d, e in node.query("SELECT publisher, id, deleted, envelope FROM versions")
    }


def test_three_networks_converge_and_a_deletion_reaches_every_copy(tmp_path: Path) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds Peer Support Network")
    lambeth = make_node(tmp_path / "lambeth", "Lambeth Living Well Collaborative")
    national = make_node(tmp_path / "national", "National")
    leeds.publish(example_listings("leeds"))
    lambeth.publish(example_listings("lambeth"))
    national.publish(example_listings("national"))
    servers = [ServeProcess(n).start() for n in (leeds, lambeth, national)]
    try:
        signpost("follow", leeds.url, "--publisher", leeds.publisher, "--dir", str(national.directory))
        signpost("follow", lambeth.url, "--publisher", lambeth.publisher, "--dir", str(national.directory))
        signpost("follow", national.url, "--publisher", national.publisher, "--dir", str(leeds.directory))
        out = signpost("sync", "--dir", str(national.directory)).stdout
        assert "37 merged" in out and "21 merged" in out, out
        signpost("sync", "--dir", str(leeds.directory))
        total = 37 + 21 + 7
        assert len(held(national)) == total and held(leeds) == held(national)
        for node in (national, leeds):
            proc = signpost("check-feed", node.url, check=False)
            assert proc.returncode == 0 and f"{total} record(s) verified" in proc.stdout, proc.stdout

        victim = example_listings("lambeth")[3][0]
        signpost("delete", victim, "--dir", str(lambeth.directory))
        key = f"{lambeth.publisher}/{victim}"
        signpost("sync", "--dir", str(national.directory))
        assert held(national)[key][0] == 1, "national holds the tombstone after its next pull"
        assert held(leeds)[key][0] == 0, "Leeds has not pulled yet"
        signpost("sync", "--dir", str(leeds.directory))
        assert held(leeds)[key][0] == 1, "Leeds learns it from national at the pull after that"
        for node in (lambeth, national, leeds):
            items, _ = walk_feed(node.url)
            [item] = [i for i in items if i["id"] == key]
            assert item["state"] == "deleted" and "tombstone" in item and "data" not in item
            assert node.query("SELECT count(*) FROM listings WHERE id = ?", victim) == [(0,)]
        for name in (national, leeds):
            proc = signpost("check-feed", name.url, check=False)
            assert proc.returncode == 0, proc.stdout
    finally:
        for s in servers:
            s.stop()


def test_sigkill_mid_walk_then_restart_ends_with_every_record_exactly_once(tmp_path: Path) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish(
        [group(i, description="A longer description so each page takes a moment. " * 10) for i in range(8000)]
    )
    national = make_node(tmp_path / "national", "National")
    with ServeProcess(leeds):
        signpost("follow", leeds.url, "--publisher", leeds.publisher, "--dir", str(national.directory))
        proc = subprocess.Popen(
            [sys.executable, "-m", "node", "sync", "--dir", str(national.directory)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            got = national.query("SELECT count(*) FROM versions")[0][0]
            if got >= 1000:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        partial = national.query("SELECT count(*) FROM versions")[0][0]
        assert 0 < partial < 8000, f"the kill should land mid-walk (held {partial})"
        assert national.query("PRAGMA integrity_check") == [("ok",)]
        out = signpost("sync", "--dir", str(national.directory)).stdout
        merged = int(out.split(": ")[1].split(" merged")[0])
        assert merged == 8000 - partial, "the walk resumed where it stopped, not from the start"
    assert national.query("SELECT count(*), count(DISTINCT id) FROM versions") == [(8000, 8000)]
    with ServeProcess(national):
        items, _ = walk_feed(national.url)
    assert len(items) == 8000 and len({i["id"] for i in items}) == 8000
