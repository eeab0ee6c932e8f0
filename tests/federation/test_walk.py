"""One feed walker: sync, check-feed and key recovery refuse a hostile feed for the same reason."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from hostile import HostilePeer

from node.core.context import Node
from node.federation.checkfeed import check_feed
from node.federation.peers import follow
from node.federation.recover import fetch_identity
from node.federation.sync import sync_once
from nodeutil import NodeHandle
from protocol.errors import SignpostError


@pytest.fixture
async def hostile(aiohttp_server: Any) -> HostilePeer:
    peer = HostilePeer()
    server = await aiohttp_server(peer.app(), host="127.0.0.1")
    peer.base = f"http://127.0.0.1:{server.port}"
    return peer


@pytest.mark.parametrize(
    ("peer", "message"),
    [
        ("backwards", "the feed went backwards"),
        ("offsite", "leaves the peer's origin"),
        ("truncated", "is not a feed page"),
        ("html", "not JSON"),
        ("redirect", "redirects are not followed"),
        ("error500", "answered HTTP 500"),
    ],
)
async def test_sync_check_feed_and_recovery_refuse_a_hostile_feed_with_the_same_error(
    hostile: HostilePeer, puller: tuple[NodeHandle, Node], peer: str, message: str
) -> None:
    _, node = puller
    base = f"{hostile.base}/{peer}"
    await follow(node, base)
    [report] = await sync_once(node)
    assert report.error is not None and message in report.error

    checked = await check_feed(f"{base}/feed")
    walk_failure = checked.failures[-1]  # the walk stops at the page it refuses
    assert walk_failure.startswith("page ") and walk_failure.endswith(report.error), (walk_failure, report.error)

    async with aiohttp.ClientSession() as session:
        with pytest.raises(SignpostError) as refused:
            await fetch_identity(session, base, hostile.me.publisher)
    assert str(refused.value) == report.error


async def test_check_feed_reports_bad_records_with_the_reasons_sync_gives(
    hostile: HostilePeer, puller: tuple[NodeHandle, Node]
) -> None:
    _, node = puller
    base = f"{hostile.base}/records"
    await follow(node, base)
    [report] = await sync_once(node)
    synced = {item: reason for item, reason, _ in report.rejected}
    checked = await check_feed(base)  # the node document names the publisher's key log
    for item, reason in synced.items():
        assert any(f"item {item}: {reason}:" in f for f in checked.failures), (item, reason, checked.failures)
