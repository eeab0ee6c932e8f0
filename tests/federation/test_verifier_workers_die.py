"""Verification workers never outlive their node, even when it is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

CHILD = """
import asyncio, sys
from node.federation.verifier import Verifier
from protocol.keylog import verify_keylog
sys.path.insert(0, sys.argv[1])
from hostile import HostilePeer
from node.federation.verifier import ItemIn
import msgspec

async def main():
    peer = HostilePeer()
    items = [ItemIn(i, r["id"], r["kind"], r["state"], msgspec.json.encode(r["data"])) for i, r in enumerate(peer.items * 8)]
    v = Verifier(workers=2)
    await v.check(items, {peer.me.publisher: verify_keylog([peer.me.genesis])}, now_us=1_795_000_000_000_000)
    print("ready", flush=True)
    await asyncio.sleep(600)

if __name__ == "__main__":
    asyncio.run(main())
"""


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(p) for p in out]


def descendants_of(pid: int) -> list[int]:
    out: list[int] = []
    for child in children_of(pid):
        out += [child, *descendants_of(child)]
    return out


def cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_workers_are_forked_from_a_fork_server_that_preloaded_the_verifier(tmp_path: Path) -> None:
    """Forked workers share the fork server's imports; spawned ones each imported everything (~25 MB)."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(Path(__file__).parent)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        servers = [p for p in children_of(proc.pid) if "multiprocessing.forkserver" in cmdline(p)]
        assert len(servers) == 1
        assert "node.federation.verifier" in cmdline(servers[0])  # what it imports before forking
        assert len(children_of(servers[0])) == 2
    finally:
        proc.kill()
        proc.wait()


def test_workers_exit_when_the_node_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(Path(__file__).parent)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    workers = descendants_of(proc.pid)  # the fork server, the resource tracker and the workers it forked
    assert len(workers) >= 3
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = [
            w for w in workers if os.path.exists(f"/proc/{w}") and "zombie" not in Path(f"/proc/{w}/status").read_text()
        ]
    assert alive == [], "worker processes outlived the killed node"
