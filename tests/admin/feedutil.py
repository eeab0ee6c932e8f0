"""Read a node's /feed through a test client, payloads decoded."""

from __future__ import annotations

import base64
import json
from typing import Any


async def feed_records(client: Any) -> tuple[dict[str, dict[str, Any]], set[str], bytes]:
    """Live records by id, deleted ids, and every raw byte the feed served."""
    url = "/feed"
    live: dict[str, dict[str, Any]] = {}
    deleted: set[str] = set()
    raw = b""
    for _ in range(100):
        resp = await client.get(url)
        body = await resp.read()
        raw += body
        page = json.loads(body)
        for item in page["items"]:
            rid = item["id"].split("/", 1)[1]
            if item["state"] == "deleted":
                deleted.add(rid)
                live.pop(rid, None)
            else:
                payload = base64.b64decode(item["data"]["payload"])
                raw += payload
                live[rid] = json.loads(payload)
                deleted.discard(rid)
        if not page["items"]:
            return live, deleted, raw
        nxt = page["next"]
        url = nxt[nxt.index("/feed") :]
    raise AssertionError("feed did not end")
