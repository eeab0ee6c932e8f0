"""Pulling peers: walk their feeds, verify every record, merge (spec §5–§6).

A pull walks the peer's feed from its cursor to the end (:class:`FeedWalk`).
Each page is verified item by item (a bad record is rejected with its reason
and the rest of the page still lands), then its winners, rejections and the
new cursor commit in one transaction, so a crash resumes exactly where it
stopped.  Remote failures are sorted: :class:`PeerUnavailable` (timeouts,
429, 5xx) backs off and retries; :class:`PeerRejected` (4xx, bad JSON,
oversized) is recorded on the peer.  One peer's trouble never delays
another's pull.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from node.core.context import Node, now_us
from node.core.errors import NodeError, PeerUnavailable
from node.directory.occurrences import fill_pending
from node.federation.fetch import fetch_keylog
from node.federation.verifier import ItemIn, Verifier, check_batch
from node.federation.walk import EpochChanged, FeedWalk, RawPage
from node.storage.ledger import load_keylog, purge_revoked, store_keylog
from node.storage.peers import (
    PeerCursor,
    Quarantined,
    Rejection,
    VerifiedPage,
    commit_page,
    due_quarantine,
    land_quarantined,
    load_cursor,
    mark_failure,
    mark_success,
    peer_failures,
    peer_urls,
    save_cursor,
)
from protocol import envelope as dsse
from protocol.errors import FromTheFuture, SignpostError
from protocol.keylog import KeyLog
from protocol.verify import Opened, open_record

__all__ = ["PullReport", "Syncer", "syncer_of", "sync_once", "MAX_BACKOFF_S", "QUARANTINE_LEEWAY_US"]

log = logging.getLogger("signpost.sync")

MAX_BACKOFF_S = 6 * 3600
QUARANTINE_LEEWAY_US = 10 * 60 * 1_000_000  # a held version is retried this long before its date


@dataclass
class PullReport:
    peer: str
    pages: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    quarantined: int = 0
    error: str | None = None
    not_modified: bool = False
    resynced: bool = False
    finished: bool = False  # the last page's commit also recorded the success


def backoff_s(failures: int, retry_after: float | None) -> float:
    """Seconds to wait after ``failures`` failed pulls in a row: doubling from 30 s, jittered, capped."""
    delay: float = min(MAX_BACKOFF_S, 30 << min(failures - 1, 12)) * random.uniform(0.8, 1.2)
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_BACKOFF_S))
    return delay


def _commit_and_fill(conn: sqlite3.Connection, *args: Any, finished: bool) -> tuple[int, int]:
    """Commit a page, and in the same transaction the next days' sessions of the listings it wrote,
    so "today" and "this weekend" stay index lookups during an ingest (node.directory.occurrences)."""
    result = commit_page(conn, *args, finished=finished)
    fill_pending(conn)
    return result


class Syncer:
    """Pulls peers: at most one pull per peer at a time, a bounded number at once."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.limit = asyncio.Semaphore(node.config.sync.max_concurrent)
        self.running: dict[str, asyncio.Task[PullReport]] = {}
        self.keylogs: dict[str, KeyLog] = {}
        self.verifier = Verifier(node.config.sync.verify_workers)

    def close(self) -> None:
        """Stop the verification workers (if any were started)."""
        self.verifier.close()

    # -- key logs ---------------------------------------------------------
    async def _keylog(self, peer: PeerCursor, publisher: str, *, refresh: bool = False) -> KeyLog:
        if not refresh and publisher in self.keylogs:
            return self.keylogs[publisher]
        held = None if refresh else await self.node.store.read(load_keylog, publisher)
        if held is not None:
            self.keylogs[publisher] = held
            return held
        assert self.node.session is not None
        fetched = await fetch_keylog(self.node.session, peer.url, publisher, timeout=self.node.config.sync.timeout)
        now = now_us()

        def write(conn: sqlite3.Connection) -> KeyLog:
            store_keylog(conn, fetched, now_us=now)
            merged = load_keylog(conn, publisher)
            assert merged is not None
            # Spec §5.5: what a revoked key signed is void here too.
            dropped = purge_revoked(conn, publisher, merged.revoked)
            if dropped:
                log.warning("dropped %d version(s) of %s signed by revoked keys", dropped, publisher)
            return merged

        merged = await self.node.store.write(write)
        self.keylogs[publisher] = merged
        return merged

    # -- verification -----------------------------------------------------
    async def _verify_page(self, peer: PeerCursor, page: RawPage) -> VerifiedPage:
        """Check every item of a page (on worker processes for big pages); keep page order.

        A bad item is rejected with its reason and the rest of the page still
        lands.  An unknown key makes us look for a newer key log once per
        publisher (it may have rotated) and check those items again.
        """
        now = now_us()
        items = []
        failed: dict[int, Rejection] = {}
        keylogs: dict[str, KeyLog] = {}
        no_keylog: dict[str, SignpostError] = {}
        for index, item in enumerate(page.items):
            publisher = item.id.partition("/")[0]
            if publisher not in keylogs and publisher not in no_keylog:
                try:
                    keylogs[publisher] = await self._keylog(peer, publisher)
                except SignpostError as e:
                    no_keylog[publisher] = e
            if publisher in no_keylog:
                refused = no_keylog[publisher]
                failed[index] = Rejection(item.id[:200], refused.reason, str(refused)[:500])
                continue
            items.append(ItemIn(index, item.id, item.kind, item.state, item.envelope))
        outcomes = {o[1]: o for o in await self.verifier.check(items, keylogs, now_us=now)}
        unknown = [i for i in items if outcomes[i.index][0] == "unknown"]
        if unknown:
            for publisher in {i.id.partition("/")[0] for i in unknown}:
                with contextlib.suppress(SignpostError):  # else keep the first verdict: unknown key
                    keylogs[publisher] = await self._keylog(peer, publisher, refresh=True)
            outcomes.update({o[1]: o for o in check_batch(unknown, keylogs, now_us=now)})
        out = VerifiedPage()
        for index, item in enumerate(page.items):
            if index in failed:
                out.rejected.append(failed[index])
                continue
            outcome = outcomes.get(index)
            if outcome is None:
                continue
            if outcome[0] == "ok":
                out.opened.append((outcome[2], item.envelope))
            elif outcome[0] == "future":
                publisher, _, rid = item.id.partition("/")
                out.quarantined.append(Quarantined(publisher, rid, outcome[2], item.envelope, outcome[3]))
            else:
                out.rejected.append(Rejection(item.id[:200], outcome[2], outcome[3][:500]))
        return out

    # -- one pull ---------------------------------------------------------
    async def pull(self, url: str) -> PullReport:
        """Pull one peer unless a pull of it is already running (then join that one)."""
        task = self.running.get(url)
        if task is None:
            task = asyncio.ensure_future(self._pull(url))
            self.running[url] = task
            task.add_done_callback(lambda _t: self.running.pop(url, None))
        return await asyncio.shield(task)

    async def _pull(self, url: str) -> PullReport:
        report = PullReport(peer=url)
        async with self.limit:
            try:
                await self._walk(url, report)
            except SignpostError as e:
                report.error = str(e)
                await self._record_failure(url, report.error, e.retry_after if isinstance(e, PeerUnavailable) else None)
                return report
        if not report.finished:  # a 304, or a walk that ended without an empty page
            await self.node.store.write(functools.partial(mark_success, now_us=now_us()), url)
        return report

    async def _walk(self, url: str, report: PullReport) -> None:
        """Walk the peer's feed from its cursor to its end; start again once if its epoch changed."""
        peer = await self.node.store.read(load_cursor, url)
        if peer is None:
            raise NodeError(f"not following {url}")
        start = peer.next_url or f"{peer.url}/feed"
        etag = peer.etag if peer.next_url else None
        try:
            await self._walk_from(peer, start, etag, report)
        except EpochChanged as e:
            if report.resynced:
                raise
            # The peer's database was reset: its change numbers mean nothing now.
            log.warning("peer %s changed epoch %s -> %s; resyncing", url, e.was, e.now)
            peer.epoch = e.now
            report.resynced = True
            await self.node.store.write(save_cursor, url, None, None, e.now)
            await self._walk_from(peer, f"{peer.url}/feed", None, report)

    async def _walk_from(self, peer: PeerCursor, start: str, etag: str | None, report: PullReport) -> None:
        """Walk from ``start``, keeping one page's commit in flight.

        Page n commits on the writer thread (SQLite releases the GIL) while
        page n+1 is fetched and verified here, so both cores work.  Commits
        still happen in order, each with the cursor after its own page, and
        page n+1 is only queued once page n has committed.
        """
        assert self.node.session is not None
        cfg = self.node.config.sync
        walk = FeedWalk(
            self.node.session,
            start,
            origin=peer.url,
            max_bytes=cfg.max_page_bytes,
            timeout=cfg.timeout,
            etag=etag,
            epoch=peer.epoch,
        )
        pending: asyncio.Future[tuple[int, int]] | None = None

        async def settle() -> None:
            nonlocal pending
            if pending is not None:
                merged, unchanged = await pending
                pending = None
                report.merged += merged
                report.unchanged += unchanged

        try:
            async for step in walk:
                report.pages += 1
                verified = await self._verify_page(peer, step.page)
                await settle()
                pending = asyncio.ensure_future(
                    self.node.store.write(
                        functools.partial(_commit_and_fill, finished=step.last),
                        peer.url,
                        verified,
                        step.page.next,
                        step.page.epoch,
                        step.etag if step.last else None,
                        now_us(),
                    )
                )
                report.finished = step.last
                report.rejected.extend(verified.rejected)
                report.quarantined += len(verified.quarantined)
                peer.epoch = step.page.epoch
            report.not_modified = walk.not_modified
        finally:
            await settle()

    async def _record_failure(self, url: str, error: str, retry_after: float | None) -> None:
        now = now_us()

        def write(conn: sqlite3.Connection) -> None:
            failures = peer_failures(conn, url) + 1
            retry_at = now + int(backoff_s(failures, retry_after) * 1_000_000)
            mark_failure(conn, url, failures=failures, error=error, now_us=now, retry_at=retry_at)

        await self.node.store.write(write)

    async def retry_quarantine(self) -> int:
        """Try quarantined versions whose time has come; return how many landed."""
        now = now_us()
        landed = 0
        for held in await self.node.store.read(functools.partial(due_quarantine, until_rev=now + QUARANTINE_LEEWAY_US)):
            keylog = await self.node.store.read(load_keylog, held.publisher)
            if keylog is None:
                continue
            try:
                opened: Opened | None = open_record(dsse.decode_envelope(held.envelope), keylog, now_us=now)
            except FromTheFuture:
                continue  # still too early
            except SignpostError:
                opened = None  # void for good: drop it
            await self.node.store.write(functools.partial(land_quarantined, now_us=now), held, opened)
            landed += opened is not None
        return landed

    async def sync_all(self, *, due_only: bool = False) -> list[PullReport]:
        """Pull every followed peer (or only those past their back-off) at once."""
        due = now_us() if due_only else None
        urls = await self.node.store.read(functools.partial(peer_urls, due_before=due))
        await self.retry_quarantine()
        return list(await asyncio.gather(*(self.pull(u) for u in urls)))


def syncer_of(node: Node) -> Syncer:
    """The node's :class:`Syncer`, made on first use and kept on the node."""
    syncer = node.syncer
    if not isinstance(syncer, Syncer):
        if syncer is not None:
            syncer.close()
        syncer = Syncer(node)
        node.syncer = syncer
    return syncer


async def sync_once(node: Node) -> list[PullReport]:
    """Pull every followed peer now (``signpost sync`` and tests)."""
    return await syncer_of(node).sync_all()
