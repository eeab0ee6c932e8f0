"""The one feed walker: fetch a page, check it, follow ``next`` (spec §6; RPDE).

Sync, ``signpost check-feed`` and ``signpost keys recover --from`` all walk a
feed through :class:`FeedWalk`, so the rules a page must keep are applied in
one place: every page is fetched through :func:`node.federation.fetch.get`
(size and time caps, no redirects), keeps the RPDE walk rules relative to
the cursor that fetched it (:func:`protocol.feed.check_walk_step`), keeps
the epoch it started under, and names a ``next`` on the same origin.  The
walk ends at the first empty page.

Items keep their envelopes as raw bytes: they are verified as received and
stored verbatim, never re-encoded (house style §1).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
import msgspec
from msgspec import Raw, Struct

from node.core.errors import PeerRejected
from node.federation.fetch import get, same_origin
from protocol.errors import InvalidFeed
from protocol.feed import after_change_number, check_walk_step

__all__ = ["RawItem", "RawPage", "WalkedPage", "EpochChanged", "FeedWalk"]


class RawItem(Struct, kw_only=True):
    """An item whose envelope stays as raw bytes, to be verified and stored verbatim."""

    state: str
    kind: str
    id: str
    modified: int
    data: Raw = Raw(b"")
    tombstone: Raw = Raw(b"")

    @property
    def envelope(self) -> bytes:
        """The signed envelope this item carries for its state (empty if it carries none)."""
        return bytes(self.data if self.state == "updated" else self.tombstone)


class RawPage(Struct, kw_only=True):
    next: str
    items: list[RawItem]
    license: str | None = None
    epoch: str | None = None


_PAGE = msgspec.json.Decoder(RawPage)


class EpochChanged(InvalidFeed):
    """The feed's epoch changed under the cursor: its change numbers started again (spec §6.4).

    A follower starts again from the first page; a checker reports it.
    """

    def __init__(self, was: str, now: str | None) -> None:
        super().__init__(f"epoch changed from {was} to {now} during the walk")
        self.was = was
        self.now = now


@dataclass(frozen=True)
class WalkedPage:
    """A page that passed the walk's checks, with where it came from and how it was served."""

    url: str
    page: RawPage
    etag: str | None
    headers: Mapping[str, str]
    requested: int | None  # the afterChangeNumber that fetched it (None on the first page)

    @property
    def last(self) -> bool:
        """An empty page is the end of the feed."""
        return not self.page.items


class FeedWalk:
    """Walks a feed from ``start`` to its end, yielding each checked page.

    ``etag`` makes the first request conditional: a 304 ends the walk with no
    pages and sets :attr:`not_modified`.  ``epoch`` is the epoch the cursor
    belongs to (None when unknown); a page under another epoch raises
    :class:`EpochChanged` before any of its items are looked at.  Failures
    raise :class:`PeerUnavailable`, :class:`PeerRejected` or
    :class:`InvalidFeed`; :attr:`url` and :attr:`pages` then say where.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        start: str,
        *,
        origin: str,
        max_bytes: int,
        timeout: float,
        etag: str | None = None,
        epoch: str | None = None,
        served_at: str | None = None,
    ) -> None:
        """``served_at``: the public origin the node names in its links when the walk was pointed at
        another address of the same node (``signpost check-feed http://127.0.0.1:8080`` on one's own
        node before its public address is live); its ``next`` links are followed at ``origin`` instead.
        """
        self.served_at = served_at
        self.session = session
        self.url = start
        parts = urlsplit(origin)
        self.origin = f"{parts.scheme}://{parts.netloc}"  # a peer's base URL may have a path
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.etag = etag
        self.epoch = epoch
        self.pages = 0
        self.not_modified = False

    def __aiter__(self) -> AsyncGenerator[WalkedPage, None]:
        return self._walk()

    async def _walk(self) -> AsyncGenerator[WalkedPage, None]:
        etag = self.etag
        while True:
            walked = await self._fetch(self.url, etag)
            if walked is None:
                self.not_modified = True
                return
            self.pages += 1
            yield walked
            if walked.last:
                return
            self.url, etag = walked.page.next, None

    async def _fetch(self, url: str, etag: str | None) -> WalkedPage | None:
        requested = after_change_number(url)
        got = await get(self.session, url, max_bytes=self.max_bytes, timeout=self.timeout, etag=etag)
        if got.status == 304:
            return None
        try:
            page = _PAGE.decode(got.body)
        except msgspec.DecodeError as e:
            raise PeerRejected(f"{url} is not a feed page: {e}") from e
        if self.epoch is not None and page.epoch != self.epoch:
            raise EpochChanged(self.epoch, page.epoch)
        check_walk_step(requested, page)
        if not urlsplit(page.next).scheme:
            raise PeerRejected(f"next is not an absolute URL: {page.next[:200]}")
        if self.served_at is not None and same_origin(page.next, self.served_at):
            rest = urlsplit(page.next)
            page = msgspec.structs.replace(
                page, next=self.origin + rest.path + (f"?{rest.query}" if rest.query else "")
            )
        if not same_origin(page.next, self.origin):
            raise PeerRejected(f"next URL {page.next[:200]} leaves the peer's origin {self.origin}")
        self.epoch = page.epoch
        return WalkedPage(url=url, page=page, etag=got.etag, headers=got.headers, requested=requested)
