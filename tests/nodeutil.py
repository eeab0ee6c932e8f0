"""Helpers for tests that run real nodes: directories, ports, publishing, processes.

Nodes bind 127.0.0.1 only.  ``ServeProcess`` starts a real ``signpost serve``
in its own process; in-process tests use ``create_app`` with pytest-aiohttp.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.core.config import Config, load_config
from node.core.context import now_us
from node.publishing.lifecycle import init_node
from node.publishing.publisher import ListingIn, delete, load_identity, publish
from node.storage.index import index_record
from node.storage.store import connect, transaction
from protocol.records import Record

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class NodeHandle:
    directory: Path
    port: int
    publisher: str
    words: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Config:
        return load_config(self.directory)

    def publish(self, listings: Iterable[tuple[str, dict[str, Any]]]) -> None:
        conn = connect(self.directory / "signpost.db")
        try:
            ident = load_identity(self.directory, conn, self.publisher)
            with transaction(conn):
                publish(conn, ident, [ListingIn(id=i, fields=f) for i, f in listings], now_us=now_us())
        finally:
            conn.close()

    def delete(self, record_id: str) -> None:
        conn = connect(self.directory / "signpost.db")
        try:
            ident = load_identity(self.directory, conn, self.publisher)
            with transaction(conn):
                delete(conn, ident, record_id, now_us=now_us())
        finally:
            conn.close()

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        conn = connect(self.directory / "signpost.db")
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()


def make_node(
    directory: Path, name: str = "Test Network", *, port: int | None = None, sync_interval: int | None = None
) -> NodeHandle:
    port = port or free_port()
    result = init_node(directory, name=name, url=f"http://127.0.0.1:{port}", port=port, contact="hello@example.org")
    if sync_interval is not None:
        cfg = directory / "signpost.toml"
        cfg.write_text(cfg.read_text().replace("interval = 300", f"interval = {sync_interval}"))
    return NodeHandle(directory, port, result.publisher, result.recovery_words)


def example_listings(network: str) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for line in (EXAMPLES / network / "listings.jsonl").read_text("utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            out.append((obj.pop("id"), obj))
    return out


def group(i: int, **extra: Any) -> tuple[str, dict[str, Any]]:
    """A small valid group listing for bulk tests."""
    return f"group-{i:06d}", {
        "kind": "group",
        "name": f"Peer group {i}",
        "summary": "A friendly peer support group.",
        **extra,
    }


def signpost(
    *args: str, check: bool = True, timeout: float = 120, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``signpost`` command line in a subprocess."""
    proc = subprocess.run(
        [sys.executable, "-m", "node", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"signpost {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


class ServeProcess:
    """A real ``signpost serve`` process on 127.0.0.1."""

    def __init__(self, node: NodeHandle) -> None:
        self.node = node
        self.log = node.directory / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> ServeProcess:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "node", "serve", "--dir", str(self.node.directory), "--port", str(self.node.port)],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited {self.proc.returncode}: {self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.node.url}/.well-known/signpost", timeout=2):
                    return self
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"serve did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_workers(node: NodeHandle, log: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    """``signpost serve --workers N`` for ``node`` on its own port, its output in ``log`` (the caller waits and stops)."""
    cmd = [sys.executable, "-m", "node", "serve", "--dir", str(node.directory), "--port", str(node.port)]
    return subprocess.Popen(
        [*cmd, "--workers", str(workers)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def get_json(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            body = resp.read()
            return resp.status, dict(resp.headers), json.loads(body) if body else None
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, dict(e.headers), json.loads(body) if body else None


def walk_feed(base: str, *, after: int | None = None) -> tuple[list[dict[str, Any]], str]:
    """Walk a feed to its end with the standard library; return items and the last next URL."""
    url = f"{base}/feed" if after is None else f"{base}/feed?afterChangeNumber={after}"
    items: list[dict[str, Any]] = []
    while True:
        status, _, page = get_json(url)
        assert status == 200, (status, page)
        items.extend(page["items"])
        if not page["items"] and page["next"] == url:
            return items, url
        if not page["items"] and after is None and "afterChangeNumber" not in url:
            url = page["next"]
            continue
        url = page["next"]


def other_publisher_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def index_records(conn: sqlite3.Connection, records: Iterable[Record]) -> None:
    """Put records straight into a node's search index in one write (no signing, no feed): for
    tests of what search reads, where how a record arrived does not matter."""
    enc = msgspec.json.Encoder()
    with transaction(conn):
        for r in records:
            index_record(conn, r, enc.encode(r).decode())
