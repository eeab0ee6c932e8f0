"""Feed pages and the node document (spec §6, §7).

The feed is an OpenActive RPDE 1.0 feed with change-number ordering.  These
types describe the wire shape; :func:`check_walk_step` holds the rules a
reader can check about consecutive pages, so ``signpost check-feed`` and the
node's own sync share them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, Protocol
from urllib.parse import parse_qs, urlsplit

import msgspec
from msgspec import Meta, Struct

from .envelope import Envelope
from .errors import InvalidFeed

__all__ = [
    "PROTOCOL",
    "PAGE_SIZE",
    "FeedItem",
    "FeedPage",
    "NodeDocument",
    "decode_page",
    "decode_node_document",
    "after_change_number",
    "check_walk_step",
    "WalkItem",
    "WalkPage",
]

PROTOCOL = "signpost/1"
PAGE_SIZE = 500


class FeedItem(Struct, kw_only=True, omit_defaults=True):
    """One RPDE item.  ``data`` on updates; ``tombstone`` (or nothing) on deletions.

    A deleted item without a tombstone appears only in a filtered slice and
    means "this record left the slice", not "the publisher deleted it".
    """

    state: Literal["updated", "deleted"]
    kind: Annotated[str, Meta(max_length=40)]
    id: Annotated[str, Meta(max_length=200)]
    modified: Annotated[int, Meta(ge=0)]
    data: Envelope | None = None
    tombstone: Envelope | None = None


class FeedPage(Struct, kw_only=True):
    next: Annotated[str, Meta(max_length=4096)]
    items: list[FeedItem]
    license: str | None = None
    epoch: str | None = None


class NodeDocument(Struct, kw_only=True):
    """``GET /.well-known/signpost``."""

    protocol: str
    name: str
    url: str
    publisher: str
    keylog: list[Envelope]
    feed: str
    follows: list[str] = []
    license: str | None = None
    software: str | None = None


_PAGE = msgspec.json.Decoder(FeedPage)
_DOC = msgspec.json.Decoder(NodeDocument)


def decode_page(data: bytes) -> FeedPage:
    """Decode a feed page; a malformed item fails the page as a whole.

    The envelopes inside are only shape-checked here; each one is verified
    on its own later so one bad record does not cost the rest of the page.
    """
    try:
        return _PAGE.decode(data)
    except msgspec.DecodeError as e:
        raise InvalidFeed(f"not a feed page: {e}") from e


def decode_node_document(data: bytes) -> NodeDocument:
    try:
        doc = _DOC.decode(data)
    except msgspec.DecodeError as e:
        raise InvalidFeed(f"not a Signpost node document: {e}") from e
    if doc.protocol != PROTOCOL:
        raise InvalidFeed(f"node speaks {doc.protocol!r}, not {PROTOCOL!r}")
    return doc


def after_change_number(url: str) -> int | None:
    """The ``afterChangeNumber`` a ``next`` URL asks for (None on the first page)."""
    values = parse_qs(urlsplit(url).query).get("afterChangeNumber")
    if not values:
        return None
    try:
        return int(values[-1])
    except ValueError as e:
        raise InvalidFeed(f"next URL has a non-integer afterChangeNumber: {url[:200]}") from e


class WalkItem(Protocol):
    """What :func:`check_walk_step` reads of an item (a :class:`FeedItem`, or a reader's own
    shape that keeps envelopes as ``msgspec.Raw`` bytes to verify them one by one)."""

    @property
    def id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def modified(self) -> int: ...
    @property
    def data(self) -> object: ...
    @property
    def tombstone(self) -> object: ...


class WalkPage(Protocol):
    @property
    def next(self) -> str: ...
    @property
    def items(self) -> Sequence[WalkItem]: ...


def _present(envelope: object) -> bool:
    """An envelope is there unless it is missing or an empty ``Raw``."""
    return envelope is not None and not (isinstance(envelope, msgspec.Raw) and len(envelope) == 0)


def check_walk_step(requested_after: int | None, page: WalkPage) -> None:
    """The RPDE rules one page must keep relative to the cursor that fetched it.

    At most :data:`PAGE_SIZE` items, strictly increasing and all beyond the
    cursor; ``data`` only on updates, ``tombstone`` only on deletions;
    ``next`` names the last item's change number, or, on an empty page,
    repeats the cursor.
    """
    if len(page.items) > PAGE_SIZE:
        raise InvalidFeed(f"page holds {len(page.items)} items; the limit is {PAGE_SIZE}")
    floor = requested_after if requested_after is not None else -1
    last = floor
    for item in page.items:
        if item.modified <= last:
            raise InvalidFeed(f"item {item.id} has modified {item.modified}, not above {last}: the feed went backwards")
        last = item.modified
        if item.state == "updated" and not _present(item.data):
            raise InvalidFeed(f"updated item {item.id} has no data")
        if item.state == "deleted" and _present(item.data):
            raise InvalidFeed(f"deleted item {item.id} carries data (RPDE forbids it)")
        if item.state == "updated" and _present(item.tombstone):
            raise InvalidFeed(f"updated item {item.id} carries a tombstone")
    nxt = after_change_number(page.next)
    if page.items:
        if nxt != last:
            raise InvalidFeed(f"next asks after {nxt}, but the page's last item is {last}")
    elif requested_after is not None and nxt != requested_after:
        raise InvalidFeed(f"empty page's next asks after {nxt}, not the same {requested_after}")
