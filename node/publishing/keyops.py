"""Key rotation, recovery and compromise for this node's identity (spec §4.4–4.6).

The publisher id never changes: it is the hash of the genesis entry.  What
changes is the key log.  A planned rotation authorises a new signing key and
retires the old one (what it signed stays valid).  A compromise or a
recovery *revokes* the old key, which voids everything it ever signed (a
thief can backdate ``rev``), so the node re-signs every live record and
tombstone under the new key in the same transaction as the key-log entry.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from node.core.context import now_us
from node.core.errors import KeyFileError, NodeError
from node.publishing.keystore import RECOVERY_FILE, new_key, read_key, stage_signing_key
from node.publishing.publisher import Identity, ListingIn, publish, seal
from node.storage.ledger import (
    load_keylog,
    own_last_rev,
    purge_revoked,
    set_own_last_rev,
    store_keylog,
)
from node.storage.own import own_versions, private_place
from node.storage.store import get_meta
from protocol import envelope as dsse
from protocol.keylog import KeyLog, make_rotation, verify_keylog
from protocol.keys import keyid_for
from protocol.publish import next_rev, rfc3339, tombstone_for
from protocol.records import Kind, Record, Tombstone, decode_version

__all__ = ["KeyChange", "describe_keys", "rotate", "rotate_in_place", "republish_all", "recover_into"]

_ENVELOPE = msgspec.json.Decoder(dsse.Envelope)
_DECODE = msgspec.json.Decoder()


@dataclass(frozen=True)
class KeyChange:
    publisher: str
    new_keyid: str
    revoked: list[str]
    republished: int


def describe_keys(log: KeyLog) -> list[str]:
    """The key log in plain words, for ``signpost keys show``."""
    lines = [
        f"Publisher id: {log.publisher}",
        "Signing keys in use: " + (", ".join(sorted(log.signing)) or "none"),
        "Recovery keys: " + ", ".join(sorted(log.recovery)),
    ]
    retired = sorted(log.ever_signing - log.signing - log.revoked)
    if retired:
        lines.append("Retired (what they signed stays valid): " + ", ".join(retired))
    if log.revoked:
        lines.append("Revoked (everything they signed is void): " + ", ".join(sorted(log.revoked)))
    lines.append(f"Key log ({len(log.entries)} entries):")
    for i, entry in enumerate(log.entries):
        if entry.op == "genesis":
            what = f"created the identity with signing key {', '.join(entry.signing)}"
        else:
            what = f"signing keys now {', '.join(entry.signing) or 'none'}"
            if entry.revoked:
                what += f"; revoked {', '.join(entry.revoked)}"
        lines.append(f"  {i + 1}. {entry.created}: {what}")
    for fork in log.forks:
        lines.append(
            f"  Warning: the key log forked after {fork.prev[:12]}; kept {fork.kept[:12]}, dropped {', '.join(d[:12] for d in fork.dropped)}"
        )
    return lines


def republish_all(conn: sqlite3.Connection, ident: Identity, *, now_us: int, extra_last_rev: int = 0) -> int:
    """Re-sign every live record and tombstone of this publisher under ``ident``'s key."""
    rows = own_versions(conn, ident.publisher)
    last = max(own_last_rev(conn), extra_last_rev)
    listings: list[ListingIn] = []
    tombstones: list[tuple[str, Kind]] = []
    for row in rows:
        if row.deleted:
            tombstones.append((row.id, row.kind))
            continue
        version = decode_version(dsse.payload_bytes(_ENVELOPE.decode(row.envelope)))
        assert isinstance(version, Record)
        fields = _content_of(version)
        listings.append(ListingIn(id=row.id, fields=fields, private_place=private_place(conn, row.id)))
    return _reissue(conn, ident, listings, tombstones, last_rev=last, now_us=now_us)


def _content_of(version: Record) -> dict[str, Any]:
    """A record's content, without the fields a new version sets afresh."""
    fields: dict[str, Any] = msgspec.to_builtins(version)
    for key in ("publisher", "id", "rev", "updated"):
        fields.pop(key, None)
    return fields


def _reissue(
    conn: sqlite3.Connection,
    ident: Identity,
    listings: list[ListingIn],
    tombstones: list[tuple[str, Kind]],
    *,
    last_rev: int,
    now_us: int,
) -> int:
    """Sign ``listings`` and ``tombstones`` afresh under ``ident``, with revs above ``last_rev``."""
    from node.storage.ledger import apply_version

    set_own_last_rev(conn, last_rev)
    publish(conn, ident, listings, now_us=now_us, checked=True)  # content of verified versions
    last = own_last_rev(conn)
    for rid, kind in tombstones:
        last = next_rev(now_us, last)
        opened, env = seal(ident, tombstone_for(ident.publisher, rid, kind, last))
        apply_version(conn, opened, env, via=None, now_us=now_us)
    set_own_last_rev(conn, last)
    return len(listings) + len(tombstones)


def _recovery_key(directory: Path, words: str | None) -> Any:
    if words is not None:
        from node.publishing.keystore import key_from_words

        return key_from_words(words)
    path = directory / "keys" / RECOVERY_FILE
    if not path.exists():
        raise KeyFileError(
            "the recovery key is not kept on this machine, so its 24 words are needed",
            hint="type them when asked, or pass them on standard input with --words-stdin",
        )
    return read_key(path)


def rotate(conn: sqlite3.Connection, directory: Path, *, revoke: bool, words: str | None = None) -> KeyChange:
    """Authorise a new signing key; with ``revoke``, void the old ones and re-sign everything.

    Runs inside the caller's write transaction: the key-log entry, the
    re-signed versions and ``last_rev`` commit together.  The new key file is
    written only after the database work succeeded, by the caller.
    """
    publisher = get_meta(conn, "publisher")
    if publisher is None:
        raise NodeError("this database has no publisher id")
    log = load_keylog(conn, publisher)
    if log is None:
        raise NodeError(f"the database holds no key log for {publisher}", hint="use `signpost keys recover --from URL`")
    recovery = _recovery_key(directory, words)
    if keyid_for(recovery.public_key()) not in log.recovery:
        raise KeyFileError(
            "that recovery key is not one this node's key log trusts",
            hint="check the words against what you wrote down at `signpost init`",
        )
    signing = new_key()
    new_id = keyid_for(signing.public_key())
    # Written before the key log changes; installed once the transaction commits
    # (settle_staged_key), so a crash never leaves a log naming a key we lost.
    stage_signing_key(directory / "keys", signing)
    revoked = sorted(log.signing) if revoke else []
    now = now_us()
    entry = make_rotation(log, recovery, signing=[new_id], revoked=revoked, created=rfc3339(now))
    new_log = verify_keylog([*log.chain, entry], publisher=publisher)
    store_keylog(conn, new_log, now_us=now)
    republished = 0
    if revoke:
        ident = Identity(publisher=publisher, signing=signing, keylog=new_log)
        republished = republish_all(conn, ident, now_us=now)
        purge_revoked(conn, publisher, new_log.revoked)
    return KeyChange(publisher=publisher, new_keyid=new_id, revoked=revoked, republished=republished)


def recover_into(
    conn: sqlite3.Connection, directory: Path, *, log: KeyLog, versions: list[tuple[bytes, Any]], words: str
) -> KeyChange:
    """Rebuild this node's identity in a fresh database from recovered key log and versions.

    The old signing keys are revoked and every version is re-signed under a
    new key with a fresh ``rev``, in one transaction (the caller's).
    """
    from node.publishing.keystore import key_from_words
    from node.storage.store import set_meta

    recovery = key_from_words(words)
    if keyid_for(recovery.public_key()) not in log.recovery:
        raise KeyFileError(
            f"those recovery words do not belong to {log.publisher}",
            hint="check the words and the publisher id",
        )
    signing = new_key()
    new_id = keyid_for(signing.public_key())
    stage_signing_key(directory / "keys", signing)
    now = now_us()
    revoked = sorted(log.signing)
    entry = make_rotation(log, recovery, signing=[new_id], revoked=revoked, created=rfc3339(now))
    new_log = verify_keylog([*log.chain, entry], publisher=log.publisher)
    set_meta(conn, "publisher", log.publisher)
    store_keylog(conn, new_log, now_us=now)
    ident = Identity(publisher=log.publisher, signing=signing, keylog=new_log)
    last = max((v.rev for _, v in versions), default=0)
    listings = []
    tombstones = []
    for _, version in versions:
        if isinstance(version, Tombstone):
            tombstones.append((version.id, version.kind))
        else:
            listings.append(ListingIn(id=version.id, fields=_content_of(version)))
    count = _reissue(conn, ident, listings, tombstones, last_rev=last, now_us=now)
    return KeyChange(publisher=log.publisher, new_keyid=new_id, revoked=revoked, republished=count)


def rotate_in_place(directory: Path, db_path: Path, *, revoke: bool, words: str | None) -> KeyChange:
    """``signpost keys rotate`` / ``keys recover`` on a node whose database is here.

    The key-log entry (and, with ``revoke``, every re-signed version) commits
    in one transaction; only then is the staged signing key installed.
    """
    from node.publishing.keystore import settle_staged_key
    from node.storage.store import connect, transaction

    conn = connect(db_path)
    try:
        with transaction(conn):
            change = rotate(conn, directory, revoke=revoke, words=words)
        log = load_keylog(conn, change.publisher)
        assert log is not None
        settle_staged_key(directory / "keys", log.authorised)
    finally:
        conn.close()
    return change
