"""A hostile peer next to a good one: good records land, bad ones are refused with reasons."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from hostile import HostilePeer

from node.core.context import Node
from node.federation.peers import follow
from node.federation.sync import Syncer, sync_once
from nodeutil import NodeHandle, group, make_node


@pytest.fixture
async def hostile(aiohttp_server: Any) -> HostilePeer:
    peer = HostilePeer()
    server = await aiohttp_server(peer.app(), host="127.0.0.1")
    peer.base = f"http://127.0.0.1:{server.port}"
    return peer


async def test_bad_records_are_rejected_with_reasons_and_the_rest_of_the_page_lands(
    hostile: HostilePeer, puller: tuple[NodeHandle, Node]
) -> None:
    handle, node = puller
    await follow(node, f"{hostile.base}/records")
    [report] = await sync_once(node)
    assert report.error is None
    got = {item: reason for item, reason, _ in report.rejected}
    assert got == hostile.expected
    landed = {r[0] for r in handle.query("SELECT id FROM listings")}
    assert landed == {f"good-{i}" for i in range(5)} | {"late-good"}
    assert report.quarantined == 1
    assert handle.query("SELECT id, reason FROM quarantine")[0][0] == "future"
    logged = handle.query("SELECT item, reason FROM peer_log")
    assert dict(logged) == hostile.expected
    private = handle.query("SELECT count(*) FROM versions WHERE id = 'private-address'")
    assert private == [(0,)]


async def test_peer_log_reasons_show_in_status(hostile: HostilePeer, puller: tuple[NodeHandle, Node]) -> None:
    from node.federation.health import read_status, render_status
    from node.storage.store import connect

    handle, node = puller
    await follow(node, f"{hostile.base}/records")
    await sync_once(node)
    conn = connect(handle.directory / "signpost.db")
    try:
        text = render_status(read_status(conn))
    finally:
        conn.close()
    assert "10 rejected" in text and "private-with-address" in text and "invalid-envelope" in text


@pytest.mark.parametrize(
    ("peer", "message", "retry"),
    [
        ("huge", "limit is", False),
        ("error500", "HTTP 500", True),
        ("ratelimited", "HTTP 429", True),
        ("truncated", "not a feed page", False),
        ("html", "not JSON", False),
        ("redirect", "redirects are not followed", False),
        ("offsite", "leaves the peer's origin", False),
    ],
)
async def test_misbehaving_peers_fail_with_a_clear_error_and_back_off(
    hostile: HostilePeer, puller: tuple[NodeHandle, Node], peer: str, message: str, retry: bool
) -> None:
    handle, node = puller
    await follow(node, f"{hostile.base}/{peer}")
    [report] = await sync_once(node)
    assert report.error is not None and message in report.error
    [(failures, last_error, retry_at)] = handle.query("SELECT failures, last_error, retry_at FROM peers")
    assert failures == 1 and message in last_error
    assert retry_at > time.time() * 1e6 + 20e6  # backed off
    if peer == "ratelimited":
        assert retry_at > time.time() * 1e6 + 110e6  # honours Retry-After: 120


async def test_a_feed_that_goes_backwards_is_refused(hostile: HostilePeer, puller: tuple[NodeHandle, Node]) -> None:
    _, node = puller
    await follow(node, f"{hostile.base}/backwards")
    [report] = await sync_once(node)
    assert report.error is not None and "backwards" in report.error


async def test_a_trickling_peer_does_not_delay_a_good_one(
    tmp_path: Path, hostile: HostilePeer, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    _, node = puller
    node.config.sync.timeout = 3.0
    good = make_node(tmp_path / "good", "Good")
    good.publish([group(i) for i in range(50)])
    await serve(good)
    await follow(node, good.url)
    await follow(node, f"{hostile.base}/trickle")
    syncer = node.syncer = Syncer(node)
    started = time.monotonic()
    trickle = asyncio.ensure_future(syncer.pull(f"{hostile.base}/trickle"))
    report = await syncer.pull(good.url)
    good_took = time.monotonic() - started
    assert report.error is None and report.merged == 50
    assert good_took < 2.0
    bad = await trickle
    assert bad.error is not None and "did not answer in full" in bad.error
