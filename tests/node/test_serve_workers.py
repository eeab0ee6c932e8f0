"""``signpost serve --workers N``: N processes answer on one port, exactly one runs the jobs (node.web.workers)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from node.core.config import load_config
from node.federation.scheduler import scheduler_ctx
from node.importer.sheet import sheet_ctx
from node.web.app import create_app
from node.web.jobs import occurrences_ctx
from node.web.workers import JOBS_NICE
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


def _nice(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _children(pid: int) -> list[int]:
    """Every child of ``pid``, whichever of its threads started it (Linux lists children per thread)."""
    return sorted(
        int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()
    )


def _wait_for_readers(proc: subprocess.Popen[bytes], port: int, log: Path, count: int) -> list[int]:
    """The ``count`` children of ``proc`` once each listens on ``port`` with a socket of its own."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        readers = _children(proc.pid)
        listening = _listening_inodes(port)
        if len(readers) == count and len(listening) == count and all(_sockets(p) & listening for p in readers):
            return readers
        time.sleep(0.2)
    raise AssertionError(f"{count} readers never listened on {port}: {log.read_text()}")


@pytest.mark.slow
def test_two_readers_answer_on_one_port_and_the_jobs_process_answers_nothing_at_lower_priority(
    tmp_path: Path,
) -> None:
    node = make_node(tmp_path / "node")
    log = tmp_path / "serve.log"
    proc = serve_workers(node, log)
    try:
        readers = _wait_for_readers(proc, node.port, log, 2)
        listening = _listening_inodes(node.port)
        # Each reader has its own socket on the port (SO_REUSEPORT); the jobs process has none listening.
        assert _sockets(readers[0]) & listening != _sockets(readers[1]) & listening
        assert not _sockets(proc.pid) & listening
        # The ingest's work (and the verifier workers it starts) yields the CPU to the readers.
        assert [_nice(p) - _nice(proc.pid) for p in readers] == [-JOBS_NICE, -JOBS_NICE]
        time.sleep(1.0)  # both settled after their start
        before = {p: _cpu_ticks(p) for p in readers}
        for _ in range(160):  # a fresh connection each: the kernel spreads them by address and port
            with urllib.request.urlopen(f"{node.url}/search?q=peer+support", timeout=10) as r:
                assert r.status == 200
        # A reader given no requests uses no CPU meanwhile; one given about half of them uses some
        # (a search here costs a few milliseconds, so the bar is low and the requests many).
        used = {p: _cpu_ticks(p) - before[p] for p in readers}
        assert all(t >= 3 for t in used.values()), f"one process answered every request: {used}"
        text = log.read_text()
        assert text.count("runs sync, import and scheduled jobs") == 1, text
        assert text.count("answers requests only") == 2, text
        # A reader that dies is replaced, so the port never loses its readers.
        os.kill(readers[0], signal.SIGKILL)
        again = _wait_for_readers(proc, node.port, log, 2)
        assert readers[0] not in again and readers[1] in again
        # The replacement, started by the lowered jobs process, still runs at the readers' priority.
        assert [_nice(p) - _nice(proc.pid) for p in again] == [-JOBS_NICE, -JOBS_NICE]
        with urllib.request.urlopen(f"{node.url}/search?q=peer+support", timeout=10) as r:
            assert r.status == 200
        # The readers go when the process that started them goes, even if it is killed outright.
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 15
        for reader in again:
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
