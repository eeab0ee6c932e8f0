"""The networks this node carries, as people and other networks look for them (``/networks``).

A network is a publisher: this node's own and every one merged from peers.  It describes
itself in its own signed ``organisation`` record, so an aggregator shows what the network
wrote, not a copy.  When a publisher signs several (one node shared by two organisations),
the one its listings name most often as who runs them speaks for the network (see
:func:`speakers`, the one rule results pages use too).  Around that this module adds what the node knows locally:
how many live listings of each kind it offers and its commonest topics, when it last
published (its highest ``rev``), and through which peer it arrived (``versions.via``).

Every query is keyed by publisher, so the ``versions_record`` and ``listings_record``
indexes (both lead with ``publisher``) serve them; the list is small (one row per
network), so searching it by words and place is done here in Python.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Final, NamedTuple

import msgspec

from node.directory.ending import ENDED_SQL
from node.directory.filters import words
from node.directory.geo import Place, distance_km
from node.directory.schedule import LONDON
from protocol.records import AreaLocation, PublicLocation, Record

__all__ = [
    "Network",
    "NetworkListing",
    "Speaker",
    "carried_publishers",
    "network",
    "networks",
    "speakers",
    "NEAR_KM",
    "TOP_TOPICS",
]

NEAR_KM: Final = 25.0  # "networks near X": a network with a listing or an office this close
TOP_TOPICS: Final = 5
_RECORD = msgspec.json.Decoder(Record)


@dataclass(frozen=True)
class NetworkListing:
    id: str
    kind: str
    name: str
    summary: str | None


@dataclass
class Network:
    """One publisher as ``/networks`` shows it."""

    publisher: str
    name: str
    about: Record | None  # its own organisation record, as it signed it
    counts: dict[str, int]  # live listings by kind
    topics: list[str]  # commonest topic slugs, most common first
    areas: list[str]  # the areas its listings name, most common first
    last_published: str  # ISO date and time (UTC) of its newest version
    via: str | None  # the peer URL it arrived through; None for this node's own
    distance_km: float | None = None
    listings: list[NetworkListing] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def carried_publishers(conn: sqlite3.Connection) -> list[tuple[str, int, str | None]]:
    """Every publisher with a version here: (publisher, newest rev, a peer URL it came through)."""
    rows = conn.execute("SELECT publisher, max(rev), max(via) FROM versions GROUP BY publisher").fetchall()
    return [(str(p), int(r), v) for p, r, v in rows]


class Speaker(NamedTuple):
    """The organisation record a network speaks with: its id and the name it gives."""

    id: str
    name: str


def speakers(conn: sqlite3.Connection, publishers: list[str]) -> dict[str, Speaker]:
    """For each publisher with an open organisation record, the one that speaks for it.

    The rule, the same on results pages (:func:`node.directory.search.network_names`) and on
    ``/networks``: of its open organisation records, the one its open listings name most often
    as who runs them (``organisation.ref``), then the earliest by ``rev``.  A network that edits
    its own description keeps its name: the counts do not move with an edit's ``rev``.  The
    counts are kept as listings land (``organisation_refs``, node.storage.migrations), so this is
    one statement for a whole page: a seek per publisher in the ``listings_org`` index and one
    primary-key lookup per organisation record, with nothing to sort.
    """
    wanted = list(dict.fromkeys(publishers))
    out: dict[str, Speaker] = {}
    if not wanted:
        return out
    named: dict[str, int] = {}
    # In the index's order (publisher, then rev), so SQLite sorts nothing; a later record takes over
    # only when strictly more listings name it, so the earliest wins a tie.
    for p, rid, name, n in conn.execute(
        "SELECT l.publisher, l.id, l.name, coalesce(r.n, 0) FROM listings l INDEXED BY listings_org "
        "LEFT JOIN organisation_refs r ON r.publisher = l.publisher AND r.org = l.id "
        f"WHERE l.kind = 'organisation' AND l.publisher IN ({','.join('?' * len(wanted))}) "
        "AND l.status != 'closed' ORDER BY l.publisher, l.rev",
        wanted,
    ):
        publisher = str(p)
        if publisher not in out or int(n) > named[publisher]:
            out[publisher] = Speaker(str(rid), str(name))
            named[publisher] = int(n)
    return out


def _about(conn: sqlite3.Connection, publisher: str) -> Record | None:
    """The organisation record the network describes itself with, as it signed it (:func:`speakers`)."""
    speaker = speakers(conn, [publisher]).get(publisher)
    if speaker is None:
        return None
    row = conn.execute(
        "SELECT payload FROM listings WHERE publisher = ? AND id = ?", (publisher, speaker.id)
    ).fetchone()
    return None if row is None else _RECORD.decode(row[0])


def _fallback_name(conn: sqlite3.Connection, publisher: str, own: tuple[str, str]) -> str:
    if publisher == own[0]:
        return own[1]
    row = conn.execute(
        "SELECT name FROM peers WHERE publisher = ? AND name IS NOT NULL ORDER BY url LIMIT 1", (publisher,)
    ).fetchone()
    return str(row[0]) if row is not None else f"network {publisher[:12]}…"


class _Offer(NamedTuple):
    counts: dict[str, int]
    topics: list[str]
    areas: list[str]


def _offer(conn: sqlite3.Connection, publisher: str, today: str) -> _Offer:
    counts: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    for kind, slugs, area in conn.execute(
        f"SELECT l.kind, l.topic_slugs, l.area FROM listings l WHERE l.publisher = ? AND l.status != 'closed' "
        f"AND NOT {ENDED_SQL}",
        (publisher, today),
    ):
        if kind == "organisation":
            continue
        counts[str(kind)] += 1
        topics.update(str(slugs).split())
        if area:
            areas[str(area)] += 1
    return _Offer(dict(counts), [t for t, _ in topics.most_common(TOP_TOPICS)], [a for a, _ in areas.most_common(4)])


def _coordinates(conn: sqlite3.Connection, publisher: str) -> list[tuple[float, float]]:
    return [
        (float(lat), float(lon))
        for lat, lon in conn.execute(
            "SELECT lat, lon FROM listings WHERE publisher = ? AND status != 'closed' AND lat IS NOT NULL", (publisher,)
        )
    ]


def _text(n: Network) -> str:
    parts = [n.name, *n.areas, *n.topics]
    if n.about is not None:
        parts += [n.about.summary or "", n.about.description or "", n.about.audience or ""]
        loc = n.about.location
        if isinstance(loc, (PublicLocation, AreaLocation)) and loc.area:
            parts.append(loc.area)
    return " ".join(parts).lower()


def _build(
    conn: sqlite3.Connection, publisher: str, rev: int, via: str | None, *, own: tuple[str, str], today: str
) -> Network:
    offer = _offer(conn, publisher, today)
    about = _about(conn, publisher)
    return Network(
        publisher=publisher,
        name=about.name if about is not None else _fallback_name(conn, publisher, own),
        about=about,
        counts=offer.counts,
        topics=offer.topics,
        areas=offer.areas,
        last_published=dt.datetime.fromtimestamp(rev / 1_000_000, tz=dt.UTC).isoformat(timespec="seconds"),
        via=None if publisher == own[0] else via,
    )


def networks(
    conn: sqlite3.Connection,
    *,
    own_publisher: str,
    own_name: str,
    now: dt.datetime,
    q: str = "",
    place: Place | None = None,
    within_km: float = NEAR_KM,
) -> list[Network]:
    """Every network carried here (this node's own first, then by name), or those matching ``q``
    (every word in its name, description, areas or topics) and near ``place`` (nearest first)."""
    today = now.astimezone(LONDON).date().isoformat()
    own = (own_publisher, own_name)
    out = [_build(conn, p, rev, via, own=own, today=today) for p, rev, via in carried_publishers(conn)]
    ws = words(q)
    if ws:
        out = [n for n in out if all(w in _text(n) for w in ws)]
    if place is not None:
        near = []
        for n in out:
            points = _coordinates(conn, n.publisher)
            if points:
                n.distance_km = min(distance_km(place.lat, place.lon, *pt) for pt in points)
                if n.distance_km <= within_km:
                    near.append(n)
        return sorted(near, key=lambda n: (n.distance_km or 0.0, n.name.lower()))
    return sorted(out, key=lambda n: (n.publisher != own_publisher, n.name.lower()))


def network(
    conn: sqlite3.Connection, publisher: str, *, own_publisher: str, own_name: str, now: dt.datetime
) -> Network | None:
    """One network with its live listings (by kind, then name), or ``None`` if none is carried here."""
    row = conn.execute(
        "SELECT max(rev), max(via) FROM versions WHERE publisher = ? GROUP BY publisher", (publisher,)
    ).fetchone()
    if row is None:
        return None
    today = now.astimezone(LONDON).date().isoformat()
    n = _build(conn, publisher, int(row[0]), row[1], own=(own_publisher, own_name), today=today)
    n.listings = [
        NetworkListing(str(i), str(k), str(nm), s)
        for i, k, nm, s in conn.execute(
            "SELECT l.id, l.kind, l.name, l.summary FROM listings l WHERE l.publisher = ? AND l.status != 'closed' "
            f"AND NOT {ENDED_SQL} AND l.kind != 'organisation' ORDER BY l.kind, l.name COLLATE NOCASE",
            (publisher, today),
        )
    ]
    return n
