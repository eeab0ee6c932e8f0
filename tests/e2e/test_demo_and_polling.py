"""`signpost demo` and scheduled polling inside `signpost serve`, as a person would run them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nodeutil import ServeProcess, free_port, group, make_node, signpost, walk_feed

pytestmark = pytest.mark.slow


def test_demo_starts_three_nodes_national_follows_both_and_ctrl_c_stops_all(tmp_path: Path) -> None:
    base = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "node", "demo", "--dir", str(tmp_path / "demo"), "--base-port", str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        deadline = time.monotonic() + 90
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("National directory"):
                break
        national = f"http://127.0.0.1:{base + 2}"
        assert any(national in line for line in lines), "".join(lines) + (
            proc.stderr.read() if proc.poll() is not None else ""
        )
        items, _ = walk_feed(national)
        publishers = {i["id"].split("/")[0] for i in items}
        assert len(publishers) == 3 and len(items) >= 37 + 21 + 7
        for port in (base, base + 1, base + 2):
            check = signpost("check-feed", f"http://127.0.0.1:{port}", check=False)
            assert check.returncode == 0, check.stdout
        # One process a node on a laptop: the demo starts no reader processes (serve --workers 1).
        nodes = subprocess.run(["pgrep", "-f", f"serve --dir {tmp_path / 'demo'}"], capture_output=True, text=True)
        readers = subprocess.run(
            ["pgrep", "-f", f"node.web.workers {tmp_path / 'demo'}"], capture_output=True, text=True
        )
        assert len(nodes.stdout.split()) == 3 and readers.stdout.split() == []
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    time.sleep(0.5)
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path / "demo")], capture_output=True, text=True).stdout.split()
    assert leftovers == [], "Ctrl-C stops all three node processes"


def test_serve_polls_followed_peers_on_its_own(tmp_path: Path) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    national = make_node(tmp_path / "national", "National", sync_interval=2)
    leeds.publish([group(1)])
    with ServeProcess(leeds):
        signpost("follow", leeds.url, "--publisher", leeds.publisher, "--dir", str(national.directory))
        with ServeProcess(national):
            leeds.publish([group(2)])
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if national.query("SELECT count(*) FROM listings") == [(2,)]:
                    break
                time.sleep(0.2)
            assert national.query("SELECT count(*) FROM listings") == [(2,)]
            leeds.delete("group-000001")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and national.query("SELECT count(*) FROM listings") != [(1,)]:
                time.sleep(0.2)
            assert national.query("SELECT id FROM listings") == [("group-000002",)]
