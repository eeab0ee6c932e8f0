"""Following peers: pull their feeds, verify every record, merge (spec §5–§6; issue 5).

A pull walks ``next`` to the end of a peer's feed.  Each page is verified
item by item (a bad record is rejected with its reason and the rest of the
page still lands), then its winners, rejections and the new cursor commit in
one transaction, so a crash resumes exactly where it stopped.  Remote
failures are sorted: :class:`PeerUnavailable` (timeouts, 429, 5xx) backs off
and retries; :class:`PeerRejected` (4xx, bad JSON, oversized) is recorded on
the peer.  One peer's trouble never delays another's pull.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import random
import sqlite3
from dataclasses import dataclass, field
from typing import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import msgspec
from aiohttp import web
from msgspec import Raw, Struct

from protocol import envelope as dsse
from protocol.errors import FromTheFuture, InvalidFeed, SignpostError, UnknownKey
from protocol.feed import after_change_number, check_walk_step, decode_node_document
from protocol.keylog import KeyLog, verify_keylog
from protocol.verify import Opened, open_record

from node.core.context import NODE, Node, now_us
from node.core.errors import NodeError, PeerRejected, PeerUnavailable
from node.storage.ledger import (
    apply_version,
    apply_versions,
    load_keylog,
    purge_revoked,
    store_keylog,
)
from node.federation.verifier import ItemIn, Verifier, check_batch

__all__ = [
    "PullReport",
    "Syncer",
    "check_peer_url",
    "is_loopback",
    "fetch_node_document",
    "follow",
    "unfollow",
    "sync_once",
    "scheduler_ctx",
]

log = logging.getLogger("signpost.sync")

MAX_BACKOFF_S = 6 * 3600
PEER_LOG_KEEP = 1000


class _RawItem(Struct, kw_only=True):
    """An item whose envelope stays as raw bytes, to be verified and stored verbatim."""

    state: str
    kind: str
    id: str
    modified: int
    data: Raw = Raw(b"")
    tombstone: Raw = Raw(b"")


class _RawPage(Struct, kw_only=True):
    next: str
    items: list[_RawItem]
    license: str | None = None
    epoch: str | None = None


_PAGE = msgspec.json.Decoder(_RawPage)
_KEYS = msgspec.json.Decoder(dict[str, msgspec.Raw])
_ENVELOPES = msgspec.json.Decoder(list[dsse.Envelope])


@dataclass
class PullReport:
    peer: str
    pages: int = 0
    merged: int = 0
    unchanged: int = 0
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    quarantined: int = 0
    error: str | None = None
    not_modified: bool = False
    resynced: bool = False
    finished: bool = False  # the last page's commit also recorded the success


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: where plain HTTP (and binding) is allowed without asking."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_peer_url(url: str, *, allow_insecure_http: bool) -> str:
    """Peers are reached over HTTPS; plain HTTP only on loopback or when loudly allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NodeError(f"{url!r} is not an http(s) URL", hint="give the peer's base URL, e.g. https://signpost.example.org")
    if parts.scheme == "http" and not is_loopback(parts.hostname) and not allow_insecure_http:
        raise NodeError(
            f"{url} uses plain HTTP",
            hint="peers must use HTTPS; set [sync] allow_insecure_http = true only on a private test network",
        )
    return url.rstrip("/")


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


async def _get(session: aiohttp.ClientSession, url: str, *, max_bytes: int, timeout: float, etag: str | None = None) -> tuple[int, bytes, str | None]:
    """GET with a size cap, a time cap, no redirects; sort failures into the two kinds."""
    headers = {"Accept": "application/json"}
    if etag:
        headers["If-None-Match"] = etag
    try:
        async with asyncio.timeout(timeout):
            async with session.get(url, headers=headers, allow_redirects=False) as resp:
                if resp.status == 304:
                    return 304, b"", resp.headers.get("ETag")
                if resp.status == 429 or resp.status >= 500:
                    retry = resp.headers.get("Retry-After", "")
                    raise PeerUnavailable(
                        f"{url} answered HTTP {resp.status}", retry_after=float(retry) if retry.isdigit() else None
                    )
                if 300 <= resp.status < 400:
                    raise PeerRejected(f"{url} redirected (HTTP {resp.status}); redirects are not followed")
                if resp.status != 200:
                    raise PeerRejected(f"{url} answered HTTP {resp.status}")
                ctype = resp.headers.get("Content-Type", "")
                if not ctype.split(";")[0].strip().lower().endswith("json"):
                    raise PeerRejected(f"{url} sent {ctype or 'no content type'}, not JSON")
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise PeerRejected(f"{url} sent {resp.content_length} bytes; the limit is {max_bytes}")
                chunks = []
                size = 0
                async for chunk in resp.content.iter_chunked(65536):
                    size += len(chunk)
                    if size > max_bytes:
                        raise PeerRejected(f"{url} sent more than {max_bytes} bytes; the limit is {max_bytes}")
                    chunks.append(chunk)
                return 200, b"".join(chunks), resp.headers.get("ETag")
    except TimeoutError:
        raise PeerUnavailable(f"{url} did not answer in full within {timeout:.0f} s") from None
    except aiohttp.ClientError as e:
        raise PeerUnavailable(f"{url} could not be reached: {e.__class__.__name__}: {e}") from e


async def fetch_node_document(node: Node, url: str):  # type: ignore[no-untyped-def]
    assert node.session is not None
    _, body, _ = await _get(node.session, f"{url}/.well-known/signpost", max_bytes=1024 * 1024, timeout=node.config.sync.timeout)
    try:
        doc = decode_node_document(body)
        log_ = verify_keylog(doc.keylog, publisher=doc.publisher)
    except SignpostError as e:
        raise PeerRejected(f"{url} sent an invalid node document: {e}") from e
    return doc, log_


def fingerprint(publisher: str) -> str:
    """A short form a coordinator can read out over the phone to confirm a peer."""
    tail = publisher.removeprefix("sp1:")
    return "-".join(tail[i : i + 4] for i in range(0, 16, 4))


async def follow(node: Node, url: str, *, publisher: str | None = None) -> tuple[str, str]:
    """Fetch a peer's node document, verify its key log, pin its publisher, store the peer."""
    url = check_peer_url(url, allow_insecure_http=node.config.sync.allow_insecure_http)
    doc, log_ = await fetch_node_document(node, url)
    if publisher is not None and publisher != log_.publisher:
        raise NodeError(
            f"{url} is publisher {log_.publisher}, not the {publisher} you pinned",
            hint="check the publisher id with the peer's coordinator; nothing was followed",
        )
    if log_.publisher == node.publisher:
        raise NodeError(f"{url} is this node itself")
    now = now_us()

    def write(conn: sqlite3.Connection) -> None:
        store_keylog(conn, log_, now_us=now)
        conn.execute(
            """INSERT INTO peers (url, publisher, name, added) VALUES (?, ?, ?, ?)
               ON CONFLICT (url) DO UPDATE SET publisher = excluded.publisher, name = excluded.name""",
            (url, log_.publisher, doc.name, now),
        )

    await node.store.write(write)
    return log_.publisher, doc.name


async def unfollow(node: Node, url: str) -> None:
    url = url.rstrip("/")

    def write(conn: sqlite3.Connection) -> int:
        return conn.execute("DELETE FROM peers WHERE url = ?", (url,)).rowcount

    if not await node.store.write(write):
        raise NodeError(f"this node does not follow {url}", hint="`signpost status` lists the peers")


@dataclass
class _Peer:
    url: str
    publisher: str
    next_url: str | None
    epoch: str | None
    etag: str | None


@dataclass
class _Verified:
    opened: list[tuple[Opened, bytes]] = field(default_factory=list)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)
    quarantined: list[tuple[str, str, int, bytes, str]] = field(default_factory=list)


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
    async def _keylog(self, peer: _Peer, publisher: str, *, refresh: bool = False) -> KeyLog:
        if not refresh and publisher in self.keylogs:
            return self.keylogs[publisher]
        held = None if refresh else await self.node.store.read(load_keylog, publisher)
        if held is not None:
            self.keylogs[publisher] = held
            return held
        assert self.node.session is not None
        _, body, _ = await _get(
            self.node.session, f"{peer.url}/keys/{publisher}", max_bytes=1024 * 1024, timeout=self.node.config.sync.timeout
        )
        try:
            doc = _KEYS.decode(body)
            fetched = verify_keylog(_ENVELOPES.decode(doc["keylog"]), publisher=publisher)
        except (msgspec.DecodeError, KeyError) as e:
            raise PeerRejected(f"{peer.url}/keys/{publisher} is not a key log: {e}") from e
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
    async def _verify_page(self, peer: _Peer, page: _RawPage, report: PullReport) -> _Verified:
        """Check every item of a page (on worker processes for big pages); keep page order.

        A bad item is rejected with its reason and the rest of the page still
        lands.  An unknown key makes us look for a newer key log once per
        publisher (it may have rotated) and check those items again.
        """
        now = now_us()
        items = []
        failed: dict[int, tuple[str, str, str]] = {}
        keylogs: dict[str, KeyLog] = {}
        no_keylog: dict[str, SignpostError] = {}
        for index, item in enumerate(page.items):
            raw = item.data if item.state == "updated" else item.tombstone
            publisher = item.id.partition("/")[0]
            if publisher not in keylogs and publisher not in no_keylog:
                try:
                    keylogs[publisher] = await self._keylog(peer, publisher)
                except (SignpostError, NodeError) as e:
                    no_keylog[publisher] = e
            if publisher in no_keylog:
                refused = no_keylog[publisher]
                failed[index] = (item.id[:200], refused.reason, str(refused)[:500])
                continue
            items.append(ItemIn(index, item.id, item.kind, item.state, bytes(raw)))
        outcomes = {o[1]: o for o in await self.verifier.check(items, keylogs, now_us=now)}
        unknown = [i for i in items if outcomes[i.index][0] == "unknown"]
        if unknown:
            for publisher in {i.id.partition("/")[0] for i in unknown}:
                try:
                    keylogs[publisher] = await self._keylog(peer, publisher, refresh=True)
                except (SignpostError, NodeError):
                    pass  # keep the first verdict: unknown key
            outcomes.update({o[1]: o for o in check_batch(unknown, keylogs, now_us=now)})
        out = _Verified()
        for index, item in enumerate(page.items):
            if index in failed:
                out.rejected.append(failed[index])
                continue
            outcome = outcomes.get(index)
            if outcome is None:
                continue
            if outcome[0] == "ok":
                out.opened.append((outcome[2], bytes(item.data if item.state == "updated" else item.tombstone)))
            elif outcome[0] == "future":
                publisher, _, rid = item.id.partition("/")
                out.quarantined.append((publisher, rid, outcome[2], bytes(item.data if item.state == "updated" else item.tombstone), outcome[3]))
            else:
                out.rejected.append((item.id[:200], outcome[2], outcome[3][:500]))
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
            except (PeerUnavailable, PeerRejected, InvalidFeed, NodeError, SignpostError) as e:
                report.error = str(e)
                retry_after = getattr(e, "retry_after", None)
                await self._record_failure(url, report.error, retry_after)
                return report
        if not report.finished:  # a 304, or a walk that ended without an empty page
            await self._record_success(url, report)
        return report

    async def _load_peer(self, url: str) -> _Peer | None:
        def read(conn: sqlite3.Connection):  # type: ignore[no-untyped-def]
            return conn.execute("SELECT url, publisher, next_url, epoch, etag FROM peers WHERE url = ?", (url,)).fetchone()

        row = await self.node.store.read(read)
        return None if row is None else _Peer(*row)

    async def _walk(self, url: str, report: PullReport) -> None:
        """Walk the peer's feed to its end, keeping one page's commit in flight.

        Page n commits on the writer thread (SQLite releases the GIL) while
        page n+1 is fetched and verified here, so both cores work.  Commits
        still happen in order, each with the cursor after its own page, and
        page n+1 is only queued once page n has committed.
        """
        peer = await self._load_peer(url)
        if peer is None:
            raise NodeError(f"not following {url}")
        assert self.node.session is not None
        cfg = self.node.config.sync
        next_url = peer.next_url or f"{peer.url}/feed"
        etag = peer.etag if peer.next_url else None
        resynced = False
        pending: asyncio.Future[tuple[int, int]] | None = None

        async def settle() -> None:
            nonlocal pending
            if pending is not None:
                merged, unchanged = await pending
                pending = None
                report.merged += merged
                report.unchanged += unchanged

        try:
            while True:
                requested = after_change_number(next_url)
                status, body, new_etag = await _get(self.node.session, next_url, max_bytes=cfg.max_page_bytes, timeout=cfg.timeout, etag=etag)
                if status == 304:
                    report.not_modified = True
                    return
                try:
                    page = _PAGE.decode(body)
                except msgspec.DecodeError as e:
                    raise PeerRejected(f"{next_url} is not a feed page: {e}") from e
                if peer.epoch is not None and page.epoch != peer.epoch and not resynced:
                    # The peer's database was reset: start again from the beginning.
                    log.warning("peer %s changed epoch %s -> %s; resyncing", url, peer.epoch, page.epoch)
                    await settle()
                    peer.epoch = page.epoch
                    resynced = report.resynced = True
                    next_url, etag = f"{peer.url}/feed", None
                    await self.node.store.write(_save_cursor, url, None, None, page.epoch)
                    continue
                check_walk_step(requested, page)
                if not _same_origin(page.next, peer.url):
                    raise PeerRejected(f"next URL {page.next[:200]} leaves the peer's origin {peer.url}")
                report.pages += 1
                verified = await self._verify_page(peer, page, report)
                last_page = not page.items
                await settle()
                pending = asyncio.ensure_future(
                    self.node.store.write(
                        functools.partial(_commit_page, finished=last_page),
                        url, verified, page.next, page.epoch, new_etag if last_page else None, now_us(),
                    )
                )
                report.finished = last_page
                report.rejected.extend(verified.rejected)
                report.quarantined += len(verified.quarantined)
                peer.epoch = page.epoch
                if last_page or page.next == next_url:
                    return
                next_url, etag = page.next, None
        finally:
            await settle()

    async def _record_failure(self, url: str, error: str, retry_after: float | None) -> None:
        now = now_us()

        def write(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT failures FROM peers WHERE url = ?", (url,)).fetchone()
            failures = (row[0] if row else 0) + 1
            delay = min(MAX_BACKOFF_S, 30 * 2 ** min(failures - 1, 12)) * random.uniform(0.8, 1.2)
            if retry_after is not None:
                delay = max(delay, min(retry_after, MAX_BACKOFF_S))
            conn.execute(
                "UPDATE peers SET failures = ?, last_error = ?, last_attempt = ?, retry_at = ? WHERE url = ?",
                (failures, error[:1000], now, now + int(delay * 1_000_000), url),
            )

        await self.node.store.write(write)

    async def _record_success(self, url: str, report: PullReport) -> None:
        await self.node.store.write(_mark_success, url, now_us())

    async def retry_quarantine(self) -> int:
        """Try quarantined versions whose time has come; return how many landed."""
        now = now_us()

        def read(conn: sqlite3.Connection):  # type: ignore[no-untyped-def]
            return conn.execute(
                "SELECT publisher, id, rev, envelope, peer FROM quarantine WHERE rev <= ?", (now + 10 * 60 * 1_000_000,)
            ).fetchall()

        rows = await self.node.store.read(read)
        landed = 0
        for publisher, rid, rev, env_bytes, peer in rows:
            env_bytes = bytes(env_bytes)

            def write(conn: sqlite3.Connection, opened: Opened | None) -> None:
                if opened is not None:
                    apply_version(conn, opened, env_bytes, via=peer, now_us=now)
                conn.execute("DELETE FROM quarantine WHERE publisher = ? AND id = ? AND rev = ?", (publisher, rid, rev))

            try:
                keylog = await self.node.store.read(load_keylog, publisher)
                if keylog is None:
                    continue
                opened: Opened | None = open_record(dsse.decode_envelope(env_bytes), keylog, now_us=now)
            except FromTheFuture:
                continue
            except SignpostError:
                opened = None
            await self.node.store.write(write, opened)
            landed += opened is not None
        return landed

    async def sync_all(self, *, due_only: bool = False) -> list[PullReport]:
        now = now_us()

        def read(conn: sqlite3.Connection) -> list[str]:
            if due_only:
                return [r[0] for r in conn.execute("SELECT url FROM peers WHERE retry_at <= ? ORDER BY url", (now,))]
            return [r[0] for r in conn.execute("SELECT url FROM peers ORDER BY url")]

        urls = await self.node.store.read(read)
        await self.retry_quarantine()
        return list(await asyncio.gather(*(self.pull(u) for u in urls)))


def _save_cursor(conn: sqlite3.Connection, url: str, next_url: str | None, etag: str | None, epoch: str | None) -> None:
    conn.execute("UPDATE peers SET next_url = ?, etag = ?, epoch = ? WHERE url = ?", (next_url, etag, epoch, url))


def _commit_page(
    conn: sqlite3.Connection, url: str, verified: _Verified, next_url: str, epoch: str | None, etag: str | None, now: int,
    *, finished: bool = False,
) -> tuple[int, int]:
    """One transaction: the page's winners, its rejections, its quarantine, and the cursor.

    ``finished`` (the feed's last page) also records the pull's success, saving
    a transaction per peer per poll.
    """
    decisions = apply_versions(conn, verified.opened, via=url, now_us=now)
    merged = sum(1 for d in decisions if d.store)
    unchanged = len(decisions) - merged
    for item, reason, detail in verified.rejected:
        conn.execute("INSERT INTO peer_log (peer, at, item, reason, detail) VALUES (?, ?, ?, ?, ?)", (url, now, item, reason, detail))
    if verified.rejected:
        conn.execute(
            "DELETE FROM peer_log WHERE peer = ? AND rowid <= (SELECT rowid FROM peer_log WHERE peer = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)",
            (url, url, PEER_LOG_KEEP),
        )
    for publisher, rid, rev, env_bytes, reason in verified.quarantined:
        conn.execute(
            "INSERT OR IGNORE INTO quarantine (publisher, id, rev, envelope, peer, reason, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (publisher, rid, rev, env_bytes, url, reason, now),
        )
    conn.execute(
        "UPDATE peers SET next_url = ?, epoch = ?, etag = COALESCE(?, etag), merged = merged + ?, rejected = rejected + ? WHERE url = ?",
        (next_url, epoch, etag, merged, len(verified.rejected), url),
    )
    if finished:
        _mark_success(conn, url, now)
    return merged, unchanged


def _mark_success(conn: sqlite3.Connection, url: str, now: int) -> None:
    conn.execute(
        "UPDATE peers SET failures = 0, last_error = NULL, last_attempt = ?, last_success = ?, retry_at = 0 WHERE url = ?",
        (now, now, url),
    )


async def sync_once(node: Node) -> list[PullReport]:
    """Pull every followed peer now (``signpost sync`` and tests)."""
    if node.syncer is None:
        node.syncer = Syncer(node)
    return await node.syncer.sync_all()


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Poll each peer on its own interval with jitter (apscheduler), inside ``signpost serve``."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    node = app[NODE]
    node.syncer = Syncer(node)
    cfg = node.config.sync
    if not cfg.enabled:
        yield
        return
    scheduler = AsyncIOScheduler()
    scheduled: set[str] = set()

    async def poll(url: str) -> None:
        def due(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT retry_at FROM peers WHERE url = ?", (url,)).fetchone()
            return row is not None and row[0] <= now_us()

        if await node.store.read(due):
            assert node.syncer is not None
            await node.syncer.pull(url)

    async def refresh_jobs() -> None:
        def read(conn: sqlite3.Connection) -> list[str]:
            return [r[0] for r in conn.execute("SELECT url FROM peers")]

        urls = set(await node.store.read(read))
        for url in urls - scheduled:
            scheduler.add_job(
                poll, "interval", args=[url], id=url, seconds=cfg.interval, jitter=cfg.interval * cfg.jitter,
                max_instances=1, coalesce=True, next_run_time=None,
            )
            scheduler.get_job(url).modify(next_run_time=_soon(cfg.interval * cfg.jitter))
            scheduled.add(url)
        for url in scheduled - urls:
            scheduler.remove_job(url)
            scheduled.discard(url)
        assert node.syncer is not None
        await node.syncer.retry_quarantine()

    scheduler.add_job(refresh_jobs, "interval", seconds=15, id="refresh", max_instances=1, coalesce=True, next_run_time=_soon(0))
    scheduler.start()
    try:
        yield
    finally:
        scheduler.shutdown(wait=False)
        for task in list(node.syncer.running.values()):
            task.cancel()
        node.syncer.close()


def _soon(spread: float):  # type: ignore[no-untyped-def]
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=random.uniform(0, min(spread, 5.0)))
