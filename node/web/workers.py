"""``signpost serve --workers N``: N reader processes answer on one port; the process the command started runs the jobs.

Python runs one request's search at a time per process, so one process uses one
core however many it has.  Here every reader binds its own socket to the same
address with ``SO_REUSEPORT`` and the kernel spreads new connections across
them; all open the one SQLite file (WAL: readers never wait for the writer,
and the few writes a reader process makes, such as a console sign-in or a
report, take the file's write lock in turn).

Exactly one process, the one started by the command, pulls peers, imports the
published sheet and runs the scheduled jobs (node.web.jobs.RUNS_JOBS), so no
pull or import ever runs twice.  With N >= 2 it answers no requests and runs at
a lower CPU priority (:data:`JOBS_NICE`, inherited by its verifier workers): an
ingest's verification and merging then take only the CPU the readers leave, and
no search waits behind a merge for Python's GIL.  Its socket is bound but never
listens, so it holds the port and the kernel gives it no connections.  The
readers are forked from it after :func:`node.web.app.preload` and before it starts
any thread, so the code, gazetteer and postcode tables stay shared pages rather
than a copy per process; a reader that exits is started again as a fresh process
(:func:`spawn_reader`).  The readers die with it (``PR_SET_PDEATHSIG``) and are
stopped when it stops.  ``--workers 1`` is one process that does both, at
normal priority.  See docs/configuration.md ("Serving a national directory").
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from aiohttp import web

from node.core.config import Config

__all__ = [
    "JOBS_NICE",
    "default_workers",
    "listening_socket",
    "run",
    "reader_main",
    "stop_processes",
    "die_with_parent",
]

_PR_SET_PDEATHSIG = 1
# How much lower the jobs process runs than the readers (nice values, 0..19): the kernel then gives
# readers about ten times its share of a busy core (docs/configuration.md).
JOBS_NICE: Final = 10
# A reader that exits is started again, at most once this often (a reader that cannot start does not spin).
RESTART_EVERY_S: Final = 5.0


def default_workers() -> int:
    """One process per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def bound_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` that other processes may bind too (``SO_REUSEPORT``); not listening,
    so the kernel gives it no connections."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket that other processes may bind to the same address (``SO_REUSEPORT``)."""
    sock = bound_socket(host, port)
    sock.listen(1024)
    return sock


def die_with_parent() -> None:
    """In a child process before exec (``preexec_fn``): get SIGTERM when the process that started it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def serve(app: web.Application, sock: socket.socket) -> None:
    web.run_app(app, sock=sock, print=None, access_log=None, handle_signals=True)


def start_readers(directory: Path, host: str, port: int, count: int, listening: socket.socket) -> list[_Forked]:
    """``count`` reader processes on ``host:port``, already checked, forked from this one.

    Forked after :func:`node.web.app.preload`, so the code and read-only data this process has
    loaded stay shared with them rather than read again by each (``listening``, this process's
    socket, is closed in them).
    """
    from node.web.app import preload

    preload()
    return [_fork_reader(directory, host, port, listening) for _ in range(count)]


def spawn_reader(directory: Path, host: str, port: int) -> subprocess.Popen[bytes]:
    """A reader started afresh (``python -m node.web.workers``), to replace one that exited.

    Not forked: by then this process runs its event loop, its store's threads and the scheduler,
    and a fork copies their locks in whatever state they are; a fresh reader only shares less memory.
    """
    cmd = [sys.executable, "-m", "node.web.workers", str(directory), host, str(port)]
    return subprocess.Popen(cmd, preexec_fn=die_with_parent)


def _fork_reader(directory: Path, host: str, port: int, listening: socket.socket) -> _Forked:
    parent = os.getpid()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return _Forked(pid)
    code = 1
    try:
        listening.close()
        die_with_parent()
        if os.getppid() == parent:
            reader_main([str(directory), host, str(port)])
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


class _Forked:
    """A forked reader, stopped as a ``subprocess.Popen`` is (:func:`stop_processes`)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"reader {self.pid}", timeout or 0.0)
            time.sleep(0.05)
        return code

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def stop_processes(procs: Sequence[subprocess.Popen[bytes] | _Forked]) -> None:
    """Ask each process to stop as Ctrl-C would (SIGINT), then kill any still running after 10 s."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def lower_priority(by: int = JOBS_NICE) -> None:
    """Run this process (and the processes it starts from now on) ``by`` nice levels lower."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(by)


def run(config: Config, directory: Path, host: str, port: int, workers: int) -> None:
    """Serve on ``host:port`` (checked by ``signpost serve``).

    One worker: this process answers and runs the jobs.  More: ``workers`` reader processes answer,
    and this one runs the jobs at lower priority and answers nothing (the module docstring).
    """
    from node.web.app import create_app

    if workers <= 1:
        sock = listening_socket(host, port)
        print(
            f"1 process on http://{host}:{sock.getsockname()[1]} ({os.getpid()}): answers requests and "
            "runs sync, import and scheduled jobs.",
            file=sys.stderr,
        )
        serve(create_app(config), sock)
        return
    held = bound_socket(host, port)  # holds the port (and learns it, for port 0) without taking connections
    bound = held.getsockname()[1]
    readers: list[subprocess.Popen[bytes] | _Forked] = list(start_readers(directory, host, bound, workers, held))
    # Linux keeps the nice value per thread, and a child starts at its creating thread's: replacement
    # readers are started from a thread made before this one lowers itself, so they run at normal
    # priority too (from the lowered thread, and without the privilege to raise it, they could not).
    launcher = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="reader-launcher")
    launcher.submit(lambda: None).result()  # the thread exists now, at this priority
    lower_priority()  # after the readers started: they keep the normal priority
    print(
        f"{workers} reader processes on http://{host}:{bound}; this one ({os.getpid()}) "
        f"runs sync, import and scheduled jobs at lower priority (nice +{JOBS_NICE}) and answers no requests.",
        file=sys.stderr,
    )
    try:

        def start_one() -> subprocess.Popen[bytes]:
            return launcher.submit(spawn_reader, directory, host, bound).result()

        asyncio.run(_run_jobs(create_app(config), readers, start_one))
    finally:
        stop_processes(readers)
        launcher.shutdown()
        held.close()


def _stop_on_signals() -> asyncio.Event:
    """An event set on SIGINT or SIGTERM: the process then stops as Ctrl-C would stop ``signpost serve``."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


async def _run_jobs(
    app: web.Application,
    readers: list[subprocess.Popen[bytes] | _Forked],
    start_one: Callable[[], subprocess.Popen[bytes]],
) -> None:
    """Start ``app`` (its jobs run in its cleanup contexts) without serving it; start again any reader that exits."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    stop = _stop_on_signals()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), RESTART_EVERY_S)
            for k, proc in enumerate(readers):
                if not stop.is_set() and proc.poll() is not None:
                    print(f"Reader process {proc.pid} exited ({proc.returncode}); starting another.", file=sys.stderr)
                    readers[k] = start_one()
    finally:
        await runner.cleanup()


async def _serve_when_ready(app: web.Application, host: str, port: int) -> None:
    """Start the app, and only then join the port: the kernel hands a reader connections only once it can answer.

    A socket that joins the ``SO_REUSEPORT`` group is given new connections at once; had it joined
    before the app's start-up (opening the store, loading the gazetteer) and had that start-up failed,
    the connections queued on it would have been reset.  Until then the other processes answer.
    """
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    stop = _stop_on_signals()
    try:
        site = web.SockSite(runner, listening_socket(host, port))
        await site.start()
        print(f"Reader process {os.getpid()} on http://{host}:{port}: answers requests only.", file=sys.stderr)
        await stop.wait()
    finally:
        await runner.cleanup()


def reader_main(argv: list[str]) -> None:
    """A reader process: ``python -m node.web.workers DIR HOST PORT``, or forked by :func:`run` with those arguments."""
    from node.core.config import load_config
    from node.web.app import create_app

    directory, host, port = Path(argv[0]), argv[1], int(argv[2])
    asyncio.run(_serve_when_ready(create_app(load_config(directory), jobs=False), host, port))


if __name__ == "__main__":
    reader_main(sys.argv[1:])
