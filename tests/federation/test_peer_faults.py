"""More faults a peer can show: an epoch flip, replayed old versions, 4xx storms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hostile import node_document_app

from node.core.context import Node
from node.federation.peers import follow
from node.federation.sync import sync_once
from nodeutil import NodeHandle, group, make_node


async def test_an_epoch_flip_makes_the_follower_walk_the_feed_again(
    tmp_path: Path, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(i) for i in range(3)])
    server = await serve(leeds)
    handle, node = puller
    await follow(node, leeds.url)
    await sync_once(node)
    # Leeds's database is reset (a new epoch) with one new listing among the old ones.
    await server.close()
    conn_path = leeds.directory / "signpost.db"
    import sqlite3

    c = sqlite3.connect(conn_path)
    c.execute("UPDATE meta SET value = 'reset-epoch' WHERE key = 'epoch'")
    c.commit()
    c.close()
    leeds.publish([group(7)])
    await serve(leeds)
    [report] = await sync_once(node)
    assert report.resynced and report.error is None
    assert handle.query("SELECT count(*) FROM listings") == [(4,)]
    assert handle.query("SELECT epoch FROM peers") == [("reset-epoch",)]


async def test_a_replayed_older_version_is_a_no_op(
    tmp_path: Path, aiohttp_server: Any, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(1, summary="old")])
    old_envelope = bytes(leeds.query("SELECT envelope FROM versions")[0][0])
    leeds.publish([group(1, summary="new")])
    await serve(leeds)
    handle, node = puller
    await follow(node, leeds.url)
    await sync_once(node)
    # A hostile aggregator replays the old version under Leeds's publisher.
    replayer = make_node(tmp_path / "replayer", "Replayer")
    import sqlite3

    from node.storage.ledger import keylog_envelopes

    c = sqlite3.connect(replayer.directory / "signpost.db")
    src = sqlite3.connect(leeds.directory / "signpost.db")
    c.execute("INSERT INTO keylogs VALUES (?, ?, 'x', 0)", (leeds.publisher, keylog_envelopes(src, leeds.publisher)))
    c.execute(
        "INSERT INTO versions (change, publisher, id, kind, rev, digest, deleted, keyid, envelope, via, received) VALUES (5, ?, 'group-000001', 'group', 1, x'00', 0, 'k', ?, NULL, 0)",
        (leeds.publisher, old_envelope),
    )
    c.commit()
    c.close()
    src.close()
    await serve(replayer)
    await follow(node, replayer.url)
    reports = await sync_once(node)
    assert all(r.error is None for r in reports)
    assert handle.query("SELECT summary FROM listings") == [("new",)]
    before = handle.query("SELECT change FROM versions WHERE id = 'group-000001'")
    await sync_once(node)
    assert handle.query("SELECT change FROM versions WHERE id = 'group-000001'") == before


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 418])
async def test_4xx_answers_are_recorded_and_the_peer_backs_off(
    aiohttp_server: Any, puller: tuple[NodeHandle, Node], status: int
) -> None:
    _, base = await node_document_app(aiohttp_server, feed_status=status)
    handle, node = puller
    await follow(node, base)
    for _ in range(3):
        [report] = await sync_once(node)
        assert report.error is not None and f"HTTP {status}" in report.error
    [(failures,)] = handle.query("SELECT failures FROM peers")
    assert failures == 3
