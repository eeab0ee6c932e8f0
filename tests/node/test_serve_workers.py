"""``signpost serve --workers N``: N processes answer on one port, exactly one runs the jobs (node.web.workers)."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from node.core.config import load_config
from node.federation.scheduler import scheduler_ctx
from node.importer.sheet import sheet_ctx
from node.web.app import create_app
from node.web.jobs import occurrences_ctx
from nodeutil import make_node, serve_workers


def _listening_inodes(port: int) -> set[str]:
    out = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port and cols[3] == "0A":
                out.add(cols[9])
    return out


def _sockets(pid: int) -> set[str]:
    out = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(target[8:-1])
    return out


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.slow
def test_two_workers_answer_on_one_port_and_only_one_runs_the_jobs(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    log = tmp_path / "serve.log"
    proc = serve_workers(node, log)
    try:
        deadline = time.monotonic() + 60
        readers: list[int] = []
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            readers = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
            listening = _listening_inodes(node.port)
            if readers and len(listening) == 2 and all(_sockets(p) & listening for p in [proc.pid, *readers]):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"two processes never listened on {node.port}: {log.read_text()}")
        (reader,) = readers
        # Each has its own socket on the port (SO_REUSEPORT), and the kernel gives both connections.
        assert _sockets(proc.pid) & listening != _sockets(reader) & listening
        time.sleep(1.0)  # both settled after their start
        before = {p: _cpu_ticks(p) for p in (proc.pid, reader)}
        for _ in range(80):  # a fresh connection each: the kernel spreads them by address and port
            with urllib.request.urlopen(f"{node.url}/search?q=peer+support", timeout=10) as r:
                assert r.status == 200
        used = {p: _cpu_ticks(p) - before[p] for p in (proc.pid, reader)}
        assert all(t >= 5 for t in used.values()), f"one process answered every request: {used}"
        text = log.read_text()
        assert text.count("runs sync, import and scheduled jobs") == 1, text
        assert text.count("answers requests only") == 1, text
        # The reader goes when the process that started it goes, even if it is killed outright.
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and Path(f"/proc/{reader}").exists():
            status = Path(f"/proc/{reader}/status").read_text() if Path(f"/proc/{reader}").exists() else ""
            if "State:\tZ" in status:
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{reader}").exists() or "State:\tZ" in Path(f"/proc/{reader}/status").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_reader_process_has_no_scheduler_sheet_import_or_occurrence_job(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    config = load_config(node.directory)
    main, reader = create_app(config), create_app(config, jobs=False)
    for job in (scheduler_ctx, occurrences_ctx, sheet_ctx):
        assert job in main.cleanup_ctx or job is sheet_ctx  # the sheet job is there only when a sheet is set
        assert job not in reader.cleanup_ctx
