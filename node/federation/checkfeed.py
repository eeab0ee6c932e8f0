"""``signpost check-feed URL``: an independent conformance check of any node's feed.

It trusts nothing the node says about itself: it walks the feed with the
same walker a sync uses (so a page a follower would refuse fails here with
the same reason), fetches the key log of every publisher it meets, verifies
every envelope end to end with the sync's item check, and checks the RPDE
rules a follower does not need to enforce (one appearance per walk, licence,
caching, 304 on the last page, 400 on bad parameters).  Each failure is one
line.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from node import SOFTWARE
from node.core.config import SyncSettings
from node.core.context import now_us
from node.federation.fetch import fetch_keylog, get, read_node_document
from node.federation.verifier import ItemIn, check_item
from node.federation.walk import FeedWalk, WalkedPage
from protocol.errors import SignpostError
from protocol.feed import after_change_number
from protocol.keylog import KeyLog

__all__ = ["CheckResult", "check_feed", "TIMEOUT_S", "LAST_PAGE_MAX_AGE_S"]

TIMEOUT_S = 60.0
LAST_PAGE_MAX_AGE_S = 8
_MAX_AGE = re.compile(r"max-age=(\d+)")


@dataclass
class CheckResult:
    failures: list[str] = field(default_factory=list)
    pages: int = 0
    records: int = 0
    notes: list[str] = field(default_factory=list)


async def check_feed(
    url: str, *, max_pages: int = 10000, progress: Callable[[int], object] | None = None
) -> CheckResult:
    """Walk the feed at ``url`` (a node's base URL, or a feed URL) and list every way it breaks the spec."""
    result = CheckResult()
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": SOFTWARE + " check-feed"}) as session:
        await _FeedCheck(session, url, result, progress).run(max_pages)
    return result


class _FeedCheck:
    """One run of check-feed: its session, what it has seen so far, and where failures go."""

    def __init__(
        self, session: aiohttp.ClientSession, url: str, result: CheckResult, progress: Callable[[int], object] | None
    ) -> None:
        parts = urlsplit(url)
        self.session = session
        self.url = url
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.result = result
        self.fail = result.failures.append
        self.progress = progress
        self.keylogs: dict[str, KeyLog] = {}
        self.served_at: str | None = None
        self.seen: set[str] = set()
        self.now = now_us()

    async def run(self, max_pages: int) -> None:
        feed_url = await self.find_feed()
        if feed_url is None:
            return
        await self.probe_bad_parameter()
        epoch: str | None = None
        while True:
            walk = FeedWalk(
                self.session,
                feed_url,
                origin=self.origin,
                max_bytes=SyncSettings().max_page_bytes,
                timeout=TIMEOUT_S,
                epoch=epoch,
                served_at=self.served_at,
            )
            last = await self.walk(walk, max_pages)
            if last is None:
                return
            epoch = walk.epoch
            nxt = last.page.next
            if last.requested is None and nxt != last.url and after_change_number(nxt) is not None:
                feed_url = nxt  # an empty first page points at its numbered self: check that page too
                continue
            await self.check_last_page(last)
            return

    async def find_feed(self) -> str | None:
        """The feed's URL: ``url`` itself, or the one its node document names (whose key log it trusts)."""
        if "/feed" in urlsplit(self.url).path:
            return self.url
        try:
            doc, log = await read_node_document(self.session, self.url.rstrip("/"), timeout=TIMEOUT_S)
        except SignpostError as e:
            self.fail(f"node document: {e}")
            return None
        self.keylogs[doc.publisher] = log
        named = urlsplit(doc.feed)
        if f"{named.scheme}://{named.netloc}" != self.origin:
            # The URL given is followed, not the public address the node names (which may not be live
            # yet, e.g. one's own node checked at http://127.0.0.1:8080): say which node this is.
            self.served_at = f"{named.scheme}://{named.netloc}"
            self.result.notes.append(
                f"{self.origin} is the node {doc.publisher} whose public address is {self.served_at}; "
                f"its feed was checked at {self.origin}, the address given"
            )
            return self.origin + named.path + (f"?{named.query}" if named.query else "")
        return doc.feed

    async def probe_bad_parameter(self) -> None:
        async with self.session.get(f"{self.origin}/feed", params={"afterChangeNumber": "not-a-number"}) as resp:
            if resp.status != 400 or "json" not in resp.headers.get("Content-Type", ""):
                self.fail(
                    f"a malformed afterChangeNumber got HTTP {resp.status} {resp.headers.get('Content-Type')},"
                    " not a 400 JSON error"
                )

    async def walk(self, walk: FeedWalk, max_pages: int) -> WalkedPage | None:
        """Check each page of ``walk``; the last page, or None when the walk failed or was cut short."""
        try:
            async with contextlib.aclosing(aiter(walk)) as pages:
                async for step in pages:
                    self.result.pages += 1
                    if self.progress:
                        self.progress(self.result.pages)
                    await self.check_page(step, f"page {self.result.pages} ({step.url})")
                    if step.last:
                        return step
                    if self.result.pages >= max_pages:
                        self.fail(f"stopped after {max_pages} pages without reaching the last page")
                        return None
        except SignpostError as e:
            self.result.pages += 1
            self.fail(f"page {self.result.pages} ({walk.url}): {e}")
        return None

    async def check_page(self, step: WalkedPage, where: str) -> None:
        page = step.page
        if not step.etag:
            self.fail(f"{where}: no ETag")
        if not page.license:
            self.fail(f"{where}: no license")
        max_age = _MAX_AGE.search(step.headers.get("Cache-Control", ""))
        if max_age is None:
            self.fail(f"{where}: no Cache-Control max-age")
        elif step.last and int(max_age.group(1)) > LAST_PAGE_MAX_AGE_S:
            self.fail(f"{where}: last page has max-age={max_age.group(1)}; it must be {LAST_PAGE_MAX_AGE_S} or less")
        for index, item in enumerate(page.items):
            label = f"{where} item {item.id}"
            if item.id in self.seen:
                self.fail(f"{label}: appears twice in one walk")
            self.seen.add(item.id)
            try:
                keylog = await self.keylog_for(item.id.partition("/")[0])
                check_item(ItemIn(index, item.id, item.kind, item.state, item.envelope), keylog, now_us=self.now)
            except SignpostError as e:
                self.fail(f"{label}: {e.reason}: {e}")
                continue
            self.result.records += 1

    async def keylog_for(self, publisher: str) -> KeyLog:
        if publisher not in self.keylogs:
            self.keylogs[publisher] = await fetch_keylog(self.session, self.origin, publisher, timeout=TIMEOUT_S)
        return self.keylogs[publisher]

    async def check_last_page(self, last: WalkedPage) -> None:
        """The last page names itself as ``next`` and answers a conditional GET with 304."""
        where = f"page {self.result.pages} ({last.url})"
        if last.page.next != last.url:
            self.fail(f"{where}: last page's next {last.page.next} is not the page's own URL")
        if not last.etag:
            return
        try:
            again = await get(
                self.session, last.url, max_bytes=SyncSettings().max_page_bytes, timeout=TIMEOUT_S, etag=last.etag
            )
        except SignpostError as e:
            self.fail(f"{where}: a conditional GET of the last page failed: {e}")
            return
        if again.status != 304:
            self.fail(f"{where}: a conditional GET of the last page answered {again.status}, not 304")
