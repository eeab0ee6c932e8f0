"""Fetching a publisher's key log and every version of its records from a node that carries
them, for ``signpost keys recover --from`` (spec §5.5: recovery on a fresh machine).

The key log comes from ``/keys/{publisher}`` and the versions from a walk
of the node's feed with the same walker and the same item checks as a sync.
"""

from __future__ import annotations

from typing import NamedTuple

import aiohttp

from node.core.context import now_us
from node.federation.fetch import fetch_keylog
from node.federation.verifier import ItemIn, check_item
from node.federation.walk import FeedWalk
from protocol.keylog import KeyLog
from protocol.records import Version

__all__ = ["Recovered", "fetch_identity", "KEYS_TIMEOUT_S", "FEED_TIMEOUT_S", "PAGE_MAX_BYTES"]

KEYS_TIMEOUT_S = 30.0
FEED_TIMEOUT_S = 60.0
PAGE_MAX_BYTES = 64 << 20


class Recovered(NamedTuple):
    """A publisher's key log as published, and each of its versions (payload bytes, decoded)."""

    log: KeyLog
    versions: list[tuple[bytes, Version]]


async def fetch_identity(session: aiohttp.ClientSession, source: str, publisher: str) -> Recovered:
    """A publisher's key log and its versions, from any node that carries it.

    Every version is verified under the key log as published, before the new
    entry revokes anything: they were valid, and their content is what gets
    re-signed.
    """
    log = await fetch_keylog(session, source, publisher, timeout=KEYS_TIMEOUT_S)
    versions: list[tuple[bytes, Version]] = []
    now = now_us()
    walk = FeedWalk(session, f"{source}/feed", origin=source, max_bytes=PAGE_MAX_BYTES, timeout=FEED_TIMEOUT_S)
    async for step in walk:
        for index, item in enumerate(step.page.items):
            if not item.id.startswith(publisher + "/") or not item.envelope:
                continue  # another publisher's, or a slice's "left the slice" marker
            opened = check_item(ItemIn(index, item.id, item.kind, item.state, item.envelope), log, now_us=now)
            versions.append((opened.body, opened.version))
    return Recovered(log, versions)
