"""A key-log fork is resolved by the fork rule, and shown: ``signpost status``, ``/status`` and ``/status.json``.

Two rotations signed by the same recovery key after the same entry are a
fork (spec §4.3): someone else holds the recovery key.  The rule picks a
winner silently; the coordinator must still be told (docs/security.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from node.core.config import load_config
from node.publishing.keystore import key_from_words, new_key
from node.storage.ledger import load_keylog, store_keylog
from node.storage.store import connect, transaction
from node.web.app import create_app
from nodeutil import NodeHandle, make_node, signpost
from protocol.keylog import make_rotation, verify_keylog
from protocol.keys import keyid_for


def _fork(node: NodeHandle) -> tuple[str, str]:
    """Store one rotation, then a competing one from the same head (as a peer serving the other branch would)."""
    recovery = key_from_words(node.words)
    conn = connect(node.directory / "signpost.db")
    try:
        log = load_keylog(conn, node.publisher)
        assert log is not None
        branches = []
        for created in ("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"):
            entry = make_rotation(log, recovery, signing=[keyid_for(new_key().public_key())], created=created)
            branches.append(verify_keylog([*log.chain, entry], publisher=node.publisher))
        with transaction(conn):
            for branch in branches:
                store_keylog(conn, branch, now_us=1_700_000_000_000_000)
        kept = load_keylog(conn, node.publisher)
        assert kept is not None
    finally:
        conn.close()
    dropped = next(b.head for b in branches if b.head != kept.head)
    return kept.head, dropped


def test_status_shows_which_branch_won_and_the_losing_entry(tmp_path: Path) -> None:
    node = make_node(tmp_path / "leeds", "Leeds")
    assert "forked" not in signpost("status", "--dir", str(node.directory)).stdout
    kept, dropped = _fork(node)
    out = signpost("status", "--dir", str(node.directory)).stdout
    assert "THIS NODE's key log forked" in out and kept[:16] in out and dropped[:16] in out
    report = json.loads(signpost("status", "--json", "--dir", str(node.directory)).stdout)
    [fork] = report["key_log_forks"]
    assert fork["kept"] == kept and fork["dropped"] == dropped and fork["own"] and fork["seen"].startswith("2023-")
    _fork_again = signpost("status", "--json", "--dir", str(node.directory)).stdout
    assert len(json.loads(_fork_again)["key_log_forks"]) == 1, "a fork is recorded once"


async def test_the_status_page_and_json_show_the_fork(tmp_path: Path, aiohttp_client: Any) -> None:
    node = make_node(tmp_path / "leeds", "Leeds")
    kept, dropped = _fork(node)
    client = await aiohttp_client(create_app(load_config(node.directory), sync=False))
    page = await (await client.get("/status")).text()
    assert "Key-log forks" in page and kept in page and dropped in page
    data = await (await client.get("/status.json")).json()
    assert [(f["kept"], f["dropped"]) for f in data["key_log_forks"]] == [(kept, dropped)]
