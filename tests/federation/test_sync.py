"""Follow, pull, verify, merge: records land once, bad ones are refused with a reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from node.core.context import Node
from node.core.errors import NodeError
from node.federation.fetch import check_peer_url
from node.federation.peers import follow, unfollow
from node.federation.sync import sync_once
from nodeutil import NodeHandle, group, make_node


async def test_follow_pins_the_publisher_and_sync_merges_every_record(
    tmp_path: Path, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(i) for i in range(1200)])
    await serve(leeds)
    handle, node = puller
    publisher, name = await follow(node, leeds.url)
    assert (publisher, name) == (leeds.publisher, "Leeds")
    [report] = await sync_once(node)
    assert report.error is None and report.merged == 1200 and report.pages >= 3
    assert handle.query("SELECT count(*) FROM listings WHERE publisher = ?", leeds.publisher) == [(1200,)]
    assert handle.query("SELECT DISTINCT via FROM versions") == [(leeds.url,)]


async def test_an_unchanged_peer_costs_one_conditional_request(
    tmp_path: Path, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(1)])
    await serve(leeds)
    _, node = puller
    await follow(node, leeds.url)
    await sync_once(node)
    [again] = await sync_once(node)
    assert again.not_modified and again.pages == 0 and again.merged == 0


async def test_changes_and_deletions_arrive_at_the_next_pull(
    tmp_path: Path, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(1), group(2)])
    await serve(leeds)
    handle, node = puller
    await follow(node, leeds.url)
    await sync_once(node)
    leeds.publish([group(1, summary="Moved to Thursdays.")])
    leeds.delete("group-000002")
    [report] = await sync_once(node)
    assert report.merged == 2
    rows = dict(handle.query("SELECT id, summary FROM listings"))
    assert rows == {"group-000001": "Moved to Thursdays."}
    assert handle.query("SELECT id, deleted FROM versions WHERE id = 'group-000002'") == [("group-000002", 1)]


async def test_pinning_the_wrong_publisher_refuses_to_follow(
    tmp_path: Path, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    await serve(leeds)
    handle, node = puller
    with pytest.raises(NodeError, match="not the"):
        await follow(node, leeds.url, publisher="sp1:" + "b" * 26)
    assert handle.query("SELECT count(*) FROM peers") == [(0,)]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://signpost.example.org", True),
        ("http://127.0.0.1:8080", True),
        ("http://localhost:1", True),
        ("http://[::1]:8080", True),
        ("http://signpost.example.org", False),
        ("ftp://example.org", False),
        ("not a url", False),
    ],
)
def test_plain_http_is_only_for_loopback(url: str, ok: bool) -> None:
    if ok:
        assert check_peer_url(url, allow_insecure_http=False) == url.rstrip("/")
    else:
        with pytest.raises(NodeError):
            check_peer_url(url, allow_insecure_http=False)


def test_plain_http_to_another_host_needs_the_loudly_named_option() -> None:
    assert check_peer_url("http://peer.example.org", allow_insecure_http=True) == "http://peer.example.org"


async def test_unfollow_keeps_merged_records_with_their_provenance(
    tmp_path: Path, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(1)])
    await serve(leeds)
    handle, node = puller
    await follow(node, leeds.url)
    await sync_once(node)
    await unfollow(node, leeds.url)
    assert handle.query("SELECT count(*) FROM peers") == [(0,)]
    assert handle.query("SELECT via FROM versions") == [(leeds.url,)]
    with pytest.raises(NodeError, match="does not follow"):
        await unfollow(node, leeds.url)


async def test_aggregator_reserves_records_byte_for_byte_and_loops_converge(
    tmp_path: Path, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    """Leeds follows national follows Leeds: nothing is re-emitted once both hold the same."""
    import aiohttp

    from node.web.app import open_node

    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(1), group(2)])
    national, node = puller
    await serve(leeds)
    await serve(national)
    await follow(node, leeds.url)
    await sync_once(node)
    leeds_node = open_node(leeds.config)
    leeds_node.session = aiohttp.ClientSession()
    try:
        await follow(leeds_node, national.url)
        [back] = await sync_once(leeds_node)
        assert back.error is None and back.merged == 0 and back.unchanged == 2
        assert leeds.query("SELECT count(*) FROM versions") == [(2,)]
        ours = dict(leeds.query("SELECT id, envelope FROM versions"))
        theirs = dict(national.query("SELECT id, envelope FROM versions"))
        assert ours == theirs
        before = national.query("SELECT max(change) FROM versions")
        await sync_once(node)
        await sync_once(leeds_node)
        assert national.query("SELECT max(change) FROM versions") == before
    finally:
        await leeds_node.session.close()
        leeds_node.store.close()


async def test_a_revoked_keys_versions_are_dropped_even_when_the_thief_used_a_higher_rev(
    tmp_path: Path, serve: Any, puller: tuple[NodeHandle, Node]
) -> None:
    """Spec §5.5: a thief's far-future rev must not beat the publisher's re-signed version."""
    from node.publishing.keyops import rotate
    from node.publishing.keystore import settle_staged_key
    from node.storage.ledger import load_keylog
    from node.storage.store import connect, transaction

    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(1), group(2)])
    await serve(leeds)
    handle, node = puller
    await follow(node, leeds.url)
    await sync_once(node)
    # The thief, holding the old key, issues a version with a rev just inside the skew window.
    import time as _time

    conn = connect(leeds.directory / "signpost.db")
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'last_rev'", (str(_time.time_ns() // 1000 + 9 * 60 * 1_000_000),)
    )
    conn.close()
    leeds.publish([group(2, name="Stolen key says hello")])
    await sync_once(node)
    assert dict(handle.query("SELECT id, name FROM listings"))["group-000002"] == "Stolen key says hello"
    # The coordinator revokes the stolen key: everything is re-signed with fresh (lower) revs.
    conn = connect(leeds.directory / "signpost.db")
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'last_rev'")
    conn.execute("DELETE FROM versions WHERE id = 'group-000002'")
    conn.execute("DELETE FROM listings WHERE id = 'group-000002'")
    try:
        with transaction(conn):
            rotate(conn, leeds.directory, revoke=True, words=leeds.words)
        log = load_keylog(conn, leeds.publisher)
        assert log is not None
        settle_staged_key(leeds.directory / "keys", log.authorised)
    finally:
        conn.close()
    leeds.publish([group(2)])
    [report] = await sync_once(node)
    assert report.error is None
    assert dict(handle.query("SELECT id, name FROM listings")) == {
        "group-000001": "Peer group 1",
        "group-000002": "Peer group 2",
    }


async def test_status_page_and_json_show_each_peers_health(
    tmp_path: Path, serve: Any, puller: tuple[NodeHandle, Node], aiohttp_client: Any
) -> None:
    from node.web.app import create_app

    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(1)])
    await serve(leeds)
    handle, node = puller
    await follow(node, leeds.url)
    # A peer that has since gone away: nothing listens on port 9.
    import sqlite3

    c = sqlite3.connect(handle.directory / "signpost.db")
    c.execute(
        "INSERT INTO peers (url, publisher, name, added) VALUES ('http://127.0.0.1:9', ?, 'Gone', 0)",
        (leeds.publisher,),
    )
    c.commit()
    c.close()
    await sync_once(node)
    client = await aiohttp_client(create_app(handle.config, sync=False))
    report = await (await client.get("/status.json")).json()
    peers = {p["url"]: p for p in report["peers"]}
    assert peers[leeds.url]["records_held"] == 1 and peers[leeds.url]["last_error"] is None
    assert "could not be reached" in peers["http://127.0.0.1:9"]["last_error"]
    page = await client.get("/status")
    html = await page.text()
    assert page.status == 200 and "Failing" in html and "Leeds" in html and "Need help now?" in html
