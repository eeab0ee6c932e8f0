"""``signpost check-feed URL``: an independent conformance check of any node's feed.

It trusts nothing the node says about itself: it walks the feed, fetches the
key log of every publisher it meets, verifies every envelope end to end,
and checks the RPDE rules (ordering, ``next``, last page, caching, 304,
epoch, 400 on bad parameters).  Each failure is one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

import aiohttp
import msgspec

from protocol import envelope as dsse
from protocol.errors import SignpostError
from protocol.feed import PAGE_SIZE, after_change_number, check_walk_step, decode_node_document, decode_page
from protocol.keylog import KeyLog, verify_keylog
from protocol.records import Tombstone
from protocol.verify import open_record

from node import SOFTWARE
from node.core.context import now_us

__all__ = ["CheckResult", "check_feed"]

_KEYS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ENVELOPES = msgspec.json.Decoder(list[dsse.Envelope])
_MAX_AGE = re.compile(r"max-age=(\d+)")


@dataclass
class CheckResult:
    failures: list[str] = field(default_factory=list)
    pages: int = 0
    records: int = 0


async def check_feed(url: str, *, max_pages: int = 10000, progress: Callable[[int], object] | None = None) -> CheckResult:
    result = CheckResult()
    fail = result.failures.append
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": SOFTWARE + " check-feed"}) as session:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        feed_url = url
        keylogs: dict[str, KeyLog] = {}
        if "/feed" not in parts.path:
            async with session.get(f"{url.rstrip('/')}/.well-known/signpost") as resp:
                body = await resp.read()
            try:
                doc = decode_node_document(body)
                keylogs[doc.publisher] = verify_keylog(doc.keylog, publisher=doc.publisher)
                feed_url = doc.feed
            except SignpostError as e:
                fail(f"node document: {e}")
                return result

        async def keylog_for(publisher: str) -> KeyLog:
            if publisher not in keylogs:
                async with session.get(f"{origin}/keys/{publisher}") as resp:
                    if resp.status != 200:
                        raise SignpostError(f"GET /keys/{publisher} answered HTTP {resp.status}")
                    doc = _KEYS.decode(await resp.read())
                keylogs[publisher] = verify_keylog(_ENVELOPES.decode(doc["keylog"]), publisher=publisher)
            return keylogs[publisher]

        async with session.get(f"{origin}/feed", params={"afterChangeNumber": "not-a-number"}) as resp:
            if resp.status != 400 or "json" not in resp.headers.get("Content-Type", ""):
                fail(f"a malformed afterChangeNumber got HTTP {resp.status} {resp.headers.get('Content-Type')}, not a 400 JSON error")

        seen: set[str] = set()
        epoch: str | None = None
        next_url = feed_url
        now = now_us()
        while result.pages < max_pages:
            requested = after_change_number(next_url)
            async with session.get(next_url) as resp:
                body = await resp.read()
                headers = resp.headers
                status = resp.status
            result.pages += 1
            if progress:
                progress(result.pages)
            where = f"page {result.pages} ({next_url})"
            if status != 200:
                fail(f"{where}: HTTP {status}")
                return result
            if "json" not in headers.get("Content-Type", ""):
                fail(f"{where}: Content-Type is {headers.get('Content-Type')!r}, not JSON")
            if not headers.get("ETag"):
                fail(f"{where}: no ETag")
            try:
                page = decode_page(body)
                check_walk_step(requested, page)
            except SignpostError as e:
                fail(f"{where}: {e}")
                return result
            if len(page.items) > PAGE_SIZE:
                fail(f"{where}: {len(page.items)} items; at most {PAGE_SIZE} are allowed")
            if not page.license:
                fail(f"{where}: no license")
            if epoch is not None and page.epoch != epoch:
                fail(f"{where}: epoch changed from {epoch} to {page.epoch} during the walk")
            epoch = page.epoch
            if urlsplit(page.next).scheme == "":
                fail(f"{where}: next is not an absolute URL: {page.next}")
            max_age = _MAX_AGE.search(headers.get("Cache-Control", ""))
            if max_age is None:
                fail(f"{where}: no Cache-Control max-age")
            elif not page.items and int(max_age.group(1)) > 8:
                fail(f"{where}: last page has max-age={max_age.group(1)}; it must be 8 or less")
            for item in page.items:
                label = f"{where} item {item.id}"
                if item.id in seen:
                    fail(f"{label}: appears twice in one walk")
                seen.add(item.id)
                env = item.data if item.state == "updated" else item.tombstone
                if env is None:
                    fail(f"{label}: {item.state} item without its signed envelope")
                    continue
                publisher, _, rid = item.id.partition("/")
                try:
                    opened = open_record(env, await keylog_for(publisher), now_us=now)
                except SignpostError as e:
                    fail(f"{label}: {e.reason}: {e}")
                    continue
                v = opened.version
                if (v.publisher, v.id, v.kind) != (publisher, rid, item.kind):
                    fail(f"{label}: item id/kind do not match the signed record {v.publisher}/{v.id} ({v.kind})")
                if isinstance(v, Tombstone) != (item.state == "deleted"):
                    fail(f"{label}: state {item.state} does not match the signed version")
                result.records += 1
            if not page.items and page.next != next_url and requested is None:
                next_url = page.next  # an empty first page points at its numbered self
                continue
            if not page.items:
                if page.next != next_url:
                    fail(f"{where}: last page's next {page.next} is not the page's own URL")
                etag = headers.get("ETag")
                if etag:
                    async with session.get(next_url, headers={"If-None-Match": etag}) as resp:
                        if resp.status != 304:
                            fail(f"{where}: a conditional GET of the last page answered {resp.status}, not 304")
                return result
            next_url = page.next
        fail(f"stopped after {max_pages} pages without reaching the last page")
        return result
