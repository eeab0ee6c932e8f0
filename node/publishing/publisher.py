"""Publishing this node's own listings: issuing revs, signing once, planning imports.

The node's identity (publisher id, signing key, key log) is loaded from the
node directory; every version it issues gets ``rev = max(now, last_rev + 1)``
(spec §5.1), and ``last_rev`` is kept in the same transaction as the version.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.core.errors import NodeError, NotFound
from node.publishing.keystore import SIGNING_FILE, read_key, settle_staged_key
from node.storage.ledger import (
    apply_version,
    apply_versions,
    load_keylog,
    own_last_rev,
    set_own_last_rev,
)
from node.storage.own import (
    PlaceRow,
    deleted_on,
    forget_private_place,
    own_ids,
    own_payloads,
    set_private_place,
    version_state,
)
from protocol import envelope as dsse
from protocol.keylog import KeyLog
from protocol.keys import keyid_for
from protocol.merge import Decision
from protocol.publish import next_rev, rfc3339, seal_version, tombstone_for
from protocol.records import Record
from protocol.verify import Opened

__all__ = [
    "Identity",
    "load_identity",
    "seal",
    "publish",
    "delete",
    "Planned",
    "ImportPlan",
    "HeldBack",
    "plan_import",
    "apply_plan",
    "own_contents",
    "ListingIn",
]

_ENCODE = msgspec.json.Encoder()
_DECODE = msgspec.json.Decoder()


@dataclass(frozen=True)
class Identity:
    publisher: str
    signing: Ed25519PrivateKey
    keylog: KeyLog

    @property
    def keyid(self) -> str:
        return keyid_for(self.signing.public_key())


def load_identity(directory: Path, conn: sqlite3.Connection, publisher: str) -> Identity:
    log = load_keylog(conn, publisher)
    if log is None:
        raise NodeError(
            f"the database holds no key log for this node's publisher {publisher}",
            hint="was signpost.db replaced? restore it, or run `signpost keys recover`",
        )
    settle_staged_key(directory / "keys", log.authorised)
    signing = read_key(directory / "keys" / SIGNING_FILE)
    if keyid_for(signing.public_key()) not in log.authorised:
        raise NodeError(
            "this node's signing key is not authorised by its key log",
            hint="run `signpost keys show` and `signpost keys rotate`",
        )
    return Identity(publisher=publisher, signing=signing, keylog=log)


def seal(ident: Identity, version: Any, *, checked: bool = False) -> tuple[Opened, bytes]:
    """Sign ``version`` under ``ident``'s key: the opened version the ledger merges, and its envelope."""
    env, body = seal_version(version, ident.signing, checked=checked)
    opened = Opened(version=version, body=body, digest=dsse.pae_digest(dsse.RECORD_TYPE, body), keyid=ident.keyid)
    return opened, dsse.encode_envelope(env)


@dataclass(frozen=True)
class ListingIn:
    """A listing to publish: its id, content fields, and (private groups) where it really meets."""

    id: str
    fields: dict[str, Any]
    private_place: PlaceRow | None = None


def _record(ident: Identity, listing: ListingIn, rev: int) -> Record:
    payload = {**listing.fields, "publisher": ident.publisher, "id": listing.id, "rev": rev, "updated": rfc3339(rev)}
    payload.pop("deleted", None)
    return msgspec.convert(payload, type=Record)


def publish(
    conn: sqlite3.Connection, ident: Identity, listings: list[ListingIn], *, now_us: int, checked: bool = False
) -> list[Decision]:
    """Sign and store new versions of ``listings`` (run inside a write transaction).

    ``checked=True`` when every listing's fields already passed the record
    rules (the importer's row check), so they are not decoded a second time.
    """
    last = own_last_rev(conn)
    batch = []
    for listing in listings:
        last = next_rev(now_us, last)
        batch.append(seal(ident, _record(ident, listing, last), checked=checked))
    decisions = apply_versions(conn, batch, via=None, now_us=now_us)
    for listing in listings:
        if listing.private_place is not None:
            set_private_place(conn, listing.id, listing.private_place)
        else:
            forget_private_place(conn, listing.id)
    set_own_last_rev(conn, last)
    return decisions


def delete(conn: sqlite3.Connection, ident: Identity, record_id: str, *, now_us: int) -> str:
    """Publish a tombstone for one of this node's listings; return its kind."""
    state = version_state(conn, ident.publisher, record_id)
    if state is None:
        raise NotFound(
            f"this node has no listing with id {record_id!r}", hint=_id_hint(conn, ident.publisher, record_id)
        )
    kind, deleted = state
    if deleted:
        raise NotFound(f"listing {record_id!r} is already deleted")
    rev = next_rev(now_us, own_last_rev(conn))
    opened, env = seal(ident, tombstone_for(ident.publisher, record_id, kind, rev))
    apply_version(conn, opened, env, via=None, now_us=now_us)
    forget_private_place(conn, record_id)
    set_own_last_rev(conn, rev)
    return kind


def _id_hint(conn: sqlite3.Connection, publisher: str, record_id: str) -> str:
    """Close matches among this node's ids (by id or name), and how to see them all."""
    import difflib

    live = [(rid, name) for rid, name, deleted in own_ids(conn, publisher) if not deleted]
    by_name = {name.lower(): rid for rid, name in live if name}
    close = difflib.get_close_matches(record_id, [rid for rid, _ in live], n=3, cutoff=0.6)
    close += [by_name[n] for n in difflib.get_close_matches(record_id.lower(), list(by_name), n=3, cutoff=0.6)]
    close = list(dict.fromkeys(close))[:3]
    see_all = "`signpost listings` shows every id"
    return f"did you mean {' or '.join(repr(c) for c in close)}? {see_all}" if close else see_all


_VOLATILE = ("publisher", "id", "rev", "updated")


def _content(fields: dict[str, Any]) -> dict[str, Any]:
    """Content fields normalised through the record type, so equal listings compare equal."""
    full = {**fields, "publisher": "sp1:" + "a" * 26, "id": "x", "rev": 0, "updated": "1970-01-01T00:00:00Z"}
    out: dict[str, Any] = msgspec.to_builtins(msgspec.convert(full, type=Record))
    for key in _VOLATILE:
        out.pop(key, None)
    return out


def own_contents(conn: sqlite3.Connection, publisher: str) -> dict[str, dict[str, Any]]:
    """This node's live listings as normalised content, by id."""
    out = {}
    for rid, payload in own_payloads(conn, publisher):
        obj = _DECODE.decode(payload)
        out[rid] = _content(obj)
    return out


@dataclass
class Planned:
    id: str
    action: Literal["add", "change", "unchanged", "delete"]
    row: int | None = None
    name: str | None = None
    changed_fields: list[str] = field(default_factory=list)
    listing: ListingIn | None = None


@dataclass(frozen=True)
class HeldBack:
    """A row whose listing this node deleted (``signpost delete``): not brought back unless asked (``--undelete``)."""

    id: str
    row: int | None
    name: str
    deleted_us: int

    @property
    def message(self) -> str:
        import datetime as dt

        day = dt.datetime.fromtimestamp(self.deleted_us / 1e6, tz=dt.UTC).strftime("%d %B %Y")
        return (
            f"{self.name or self.id!r} [{self.id}] was deleted on {day} with `signpost delete`, so it was not "
            "brought back; remove the row, or pass --undelete to publish it again"
        )


@dataclass
class ImportPlan:
    items: list[Planned]
    held_back: list[HeldBack] = field(default_factory=list)

    def of(self, action: str) -> list[Planned]:
        return [p for p in self.items if p.action == action]

    def counts(self) -> dict[str, int]:
        out = {"add": 0, "change": 0, "unchanged": 0, "delete": 0}
        for p in self.items:
            out[p.action] += 1
        return out


def plan_import(
    conn: sqlite3.Connection,
    publisher: str,
    listings: list[tuple[int | None, ListingIn]],
    *,
    replace: bool,
    undelete: bool = False,
) -> ImportPlan:
    """What an import would do, without doing it: added, changed (which fields), unchanged, deleted.

    A row for a listing this node deleted is held back (``ImportPlan.held_back``)
    unless ``undelete``: a deletion made with ``signpost delete`` must not be
    silently undone by the next import of the same sheet.
    """
    current = own_contents(conn, publisher)
    gone = {} if undelete else deleted_on(conn, publisher)
    items: list[Planned] = []
    held: list[HeldBack] = []
    seen: set[str] = set()
    for row, listing in listings:
        seen.add(listing.id)
        new = _content(listing.fields)
        old = current.get(listing.id)
        name = str(listing.fields.get("name", ""))
        if old is None and listing.id in gone:
            held.append(HeldBack(listing.id, row, name, gone[listing.id]))
        elif old is None:
            items.append(Planned(listing.id, "add", row, name, listing=listing))
        elif old != new:
            changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            items.append(Planned(listing.id, "change", row, name, changed, listing=listing))
        else:
            items.append(Planned(listing.id, "unchanged", row, name))
    if replace:
        for rid, old in sorted(current.items()):
            if rid not in seen:
                items.append(Planned(rid, "delete", None, str(old.get("name", ""))))
    return ImportPlan(items, held)


def apply_plan(conn: sqlite3.Connection, ident: Identity, plan: ImportPlan, *, now_us: int) -> None:
    """Carry out a plan (inside one write transaction: all of it lands, or none)."""
    to_publish = [p.listing for p in plan.items if p.action in ("add", "change") and p.listing is not None]
    # The importer checked every row against the record rules (rows.check_fields).
    publish(conn, ident, to_publish, now_us=now_us, checked=True)
    for p in plan.of("delete"):
        delete(conn, ident, p.id, now_us=now_us)
