"""Build the example networks as real node directories for page and search tests.

Leeds and Lambeth publish their own listings; the national node publishes its
own and merges both peers' signed versions (``via`` set to the peer URL), as
sync would, so results carry publisher names and provenance.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from node.directory.schedule import LONDON
from node.publishing.lifecycle import init_node
from node.publishing.publisher import ListingIn, load_identity, publish
from node.storage.ledger import apply_version, load_keylog, store_keylog
from node.storage.store import connect, get_meta, transaction
from protocol import envelope as dsse
from protocol.verify import open_record

__all__ = ["EXAMPLES", "NOW", "Network", "build_network", "example_records"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# A Monday afternoon, matching the examples' "reviewed" dates.
NOW = dt.datetime(2026, 11, 23, 15, 0, tzinfo=LONDON)
NAMES = {
    "leeds": "Leeds peer support node",
    "lambeth": "Lambeth Living Well node",
    "national": "Peer Support Together UK directory",
}


@dataclass(frozen=True)
class Network:
    national: Path
    publishers: dict[str, str]
    urls: dict[str, str]


def example_records(name: str) -> list[dict[str, object]]:
    return [
        json.loads(line)
        for line in (EXAMPLES / name / "listings.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]


def _publish(directory: Path, name: str, now_us: int) -> str:
    conn = connect(directory / "signpost.db")
    try:
        publisher = get_meta(conn, "publisher")
        assert publisher is not None
        ident = load_identity(directory, conn, publisher)
        listings = [ListingIn(str(r.pop("id")), r) for r in example_records(name)]
        with transaction(conn):
            publish(conn, ident, listings, now_us=now_us)
        return publisher
    finally:
        conn.close()


def build_network(root: Path, *, port: int = 8080) -> Network:
    """Three initialised nodes under ``root``; the national one holds everything."""
    now_us = int(NOW.timestamp() * 1e6)
    urls = {n: f"http://127.0.0.1:{port + i}" for i, n in enumerate(NAMES)}
    publishers = {}
    for n, title in NAMES.items():
        init_node(
            root / n,
            name=title,
            url=urls[n],
            port=port,
            contact="hello@national.example.org" if n == "national" else None,
        )
        publishers[n] = _publish(root / n, n, now_us)
    conn = connect(root / "national" / "signpost.db")
    try:
        with transaction(conn):
            for peer in ("leeds", "lambeth"):
                src = sqlite3.connect(root / peer / "signpost.db")
                log = load_keylog(src, publishers[peer])
                assert log is not None
                store_keylog(conn, log, now_us=now_us)
                conn.execute(
                    "INSERT INTO peers (url, publisher, name, added) VALUES (?, ?, ?, ?)",
                    (urls[peer], publishers[peer], NAMES[peer], now_us),
                )
                for (env_bytes,) in src.execute("SELECT envelope FROM versions ORDER BY change"):
                    opened = open_record(dsse.decode_envelope(bytes(env_bytes)), log, now_us=now_us + 10**9)
                    apply_version(conn, opened, bytes(env_bytes), via=urls[peer], now_us=now_us)
                src.close()
    finally:
        conn.close()
    return Network(root / "national", publishers, urls)
