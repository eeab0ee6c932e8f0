"""Following and unfollowing peers, and the fingerprint a coordinator reads out (spec §5.4).

Following a peer pins its publisher id: the node document's key log is
verified and stored, so every record pulled later is checked against the
keys of the publisher the coordinator confirmed, not whoever answers at the
URL next time.
"""

from __future__ import annotations

import sqlite3

from node.core.context import Node, now_us
from node.core.errors import NodeError
from node.federation.fetch import check_peer_address, check_peer_url, fetch_node_document
from node.storage.ledger import store_keylog
from node.storage.peers import add_peer, remove_peer
from protocol.keylog import KeyLog

__all__ = ["fingerprint", "follow", "unfollow"]


def fingerprint(publisher: str) -> str:
    """A short form a coordinator can read out over the phone to confirm a peer."""
    tail = publisher.removeprefix("sp1:")
    return "-".join(tail[i : i + 4] for i in range(0, 16, 4))


async def follow(node: Node, url: str, *, publisher: str | None = None) -> tuple[str, str]:
    """Fetch a peer's node document, verify its key log, pin its publisher, store the peer."""
    url = check_peer_url(url, allow_insecure_http=node.config.sync.allow_insecure_http)
    await check_peer_address(url, node.config)
    doc, log = await fetch_node_document(node, url)
    if publisher is not None and publisher != log.publisher:
        raise NodeError(
            f"{url} is publisher {log.publisher}, not the {publisher} you pinned",
            hint="check the publisher id with the peer's coordinator; nothing was followed",
        )
    if log.publisher == node.publisher:
        raise NodeError(f"{url} is this node itself")
    now = now_us()

    def write(conn: sqlite3.Connection, log: KeyLog) -> None:
        store_keylog(conn, log, now_us=now)
        add_peer(conn, url, log.publisher, doc.name, now_us=now)

    await node.store.write(write, log)
    return log.publisher, doc.name


async def unfollow(node: Node, url: str) -> None:
    if not await node.store.write(remove_peer, url.rstrip("/")):
        raise NodeError(f"this node does not follow {url}", hint="`signpost status` lists the peers")
