"""Key logs: self-certifying publisher identity that survives key rotation (spec §4).

A key log is a hash-chained list of DSSE envelopes.  The genesis entry names
the signing and recovery keys and is signed by one of its own recovery keys;
the publisher id is derived from the genesis payload's hash, so nobody can
claim it without that exact genesis.  Each later entry names the previous
entry's payload hash in ``prev`` and is signed by a recovery key in force
before it.  Verification is a pure function of the envelopes: no I/O, no
clock.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Annotated, Literal

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from msgspec import Meta, Struct

from . import envelope as dsse
from .errors import InvalidKeyLog, RevokedKey, SignpostError, UnknownKey
from .keys import keyid_for, public_key_for
from .payload import parse_payload

__all__ = [
    "KeyLogEntry",
    "KeyLog",
    "Fork",
    "publisher_id",
    "make_genesis",
    "make_rotation",
    "verify_keylog",
    "entry_hash",
]

KeyId = Annotated[str, Meta(pattern=r"^ed25519:[A-Za-z0-9_-]{43}$")]
_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$"


class KeyLogEntry(Struct, kw_only=True, omit_defaults=True):
    op: Literal["genesis", "rotate"]
    signing: Annotated[list[KeyId], Meta(max_length=8)]
    recovery: Annotated[list[KeyId], Meta(min_length=1, max_length=8)]
    revoked: Annotated[list[KeyId], Meta(max_length=64)] = []
    prev: Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")] | None = None
    created: Annotated[str, Meta(pattern=_TIMESTAMP)]


@dataclass(frozen=True)
class Fork:
    """Two or more valid entries claimed the same ``prev``; ``kept`` won by the fork rule."""

    prev: str
    kept: str
    dropped: tuple[str, ...]


@dataclass
class KeyLog:
    """The verified state of one publisher's key log."""

    publisher: str
    chain: list[dsse.Envelope]
    entries: list[KeyLogEntry]
    signing: frozenset[str]
    recovery: frozenset[str]
    revoked: frozenset[str]
    ever_signing: frozenset[str]
    head: str
    forks: list[Fork] = field(default_factory=list)

    @property
    def authorised(self) -> frozenset[str]:
        """Keys whose record signatures are valid: ever authorised, never revoked."""
        return self.ever_signing - self.revoked

    def check_key(self, keyid: str) -> None:
        """Raise unless ``keyid`` may sign this publisher's records (spec §4.4)."""
        if keyid in self.revoked:
            raise RevokedKey(f"key {keyid} was revoked by {self.publisher}")
        if keyid not in self.ever_signing:
            raise UnknownKey(f"key {keyid} is not in the key log of {self.publisher}")


def entry_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def publisher_id(genesis_payload: bytes) -> str:
    """``sp1:`` + the first 26 characters of lowercase unpadded base32(SHA-256)."""
    digest = hashlib.sha256(genesis_payload).digest()
    return "sp1:" + base64.b32encode(digest).decode("ascii").lower().rstrip("=")[:26]


_ENCODER = msgspec.json.Encoder()


def make_genesis(
    signing: list[str], recovery_key: Ed25519PrivateKey, *, created: str, extra_recovery: list[str] | None = None
) -> dsse.Envelope:
    recovery = [keyid_for(recovery_key.public_key()), *(extra_recovery or [])]
    entry = KeyLogEntry(op="genesis", signing=signing, recovery=recovery, created=created)
    return dsse.seal(_ENCODER.encode(entry), dsse.KEYLOG_TYPE, recovery_key)


def make_rotation(
    log: KeyLog,
    recovery_key: Ed25519PrivateKey,
    *,
    signing: list[str],
    created: str,
    recovery: list[str] | None = None,
    revoked: list[str] | None = None,
) -> dsse.Envelope:
    """A ``rotate`` entry after ``log``'s head, signed by one of its recovery keys."""
    signer = keyid_for(recovery_key.public_key())
    if signer not in log.recovery:
        raise InvalidKeyLog("that recovery key is not in force for this key log", reason="not-recovery-key")
    entry = KeyLogEntry(
        op="rotate",
        signing=signing,
        recovery=recovery if recovery is not None else sorted(log.recovery),
        revoked=revoked or [],
        prev=log.head,
        created=created,
    )
    return dsse.seal(_ENCODER.encode(entry), dsse.KEYLOG_TYPE, recovery_key)


@dataclass
class _Parsed:
    env: dsse.Envelope
    body: bytes
    entry: KeyLogEntry
    hash: str


def _parse(env: dsse.Envelope, index: int) -> _Parsed:
    if env.payloadType != dsse.KEYLOG_TYPE:
        raise InvalidKeyLog(f"entry {index} has payloadType {env.payloadType!r}", reason="wrong-payload-type")
    body = dsse.payload_bytes(env)
    try:
        entry = msgspec.convert(parse_payload(body), type=KeyLogEntry)
    except msgspec.ValidationError as e:
        raise InvalidKeyLog(f"entry {index}: {e}", reason="malformed-entry") from e
    except SignpostError as e:
        raise InvalidKeyLog(f"entry {index}: {e}", reason="malformed-entry") from e
    return _Parsed(env, body, entry, entry_hash(body))


def _require_signed_by(p: _Parsed, recovery: frozenset[str], revoked: frozenset[str], what: str) -> None:
    """Raise unless a recovery key in force signed ``p``, with a reason that says why not."""
    signers = [s.keyid for s in p.env.signatures]
    if not any(k in recovery for k in signers):
        if any(k in revoked for k in signers):
            raise InvalidKeyLog(f"{what} is signed by a revoked recovery key", reason="revoked-key")
        raise InvalidKeyLog(f"{what} is not signed by a recovery key in force", reason="not-recovery-key")
    try:
        dsse.check_signature(p.env, dsse.KEYLOG_TYPE, p.body, recovery)
    except SignpostError as e:
        raise InvalidKeyLog(f"{what}: {e}", reason="bad-signature") from e


def verify_keylog(envelopes: list[dsse.Envelope], *, publisher: str | None = None) -> KeyLog:
    """Verify a key log and return its state (spec §4.3).

    Entries may arrive in any order.  Every entry must chain from the one
    genesis; an entry that is unsigned, mis-signed or does not chain makes
    the whole log invalid.  Where two valid entries name the same ``prev``
    (a fork), the one whose payload has the lower SHA-256 is kept and the
    fork is reported in :attr:`KeyLog.forks`.
    """
    if not envelopes:
        raise InvalidKeyLog("the key log is empty", reason="empty")
    parsed = [_parse(env, i) for i, env in enumerate(envelopes)]
    # The same genesis served twice is one genesis, not two.
    geneses = list({p.hash: p for p in parsed if p.entry.op == "genesis"}.values())
    if publisher is not None:
        geneses = [p for p in geneses if publisher_id(p.body) == publisher]
        if not geneses:
            raise InvalidKeyLog(f"no genesis entry derives publisher {publisher}", reason="wrong-publisher")
    if len(geneses) != 1:
        raise InvalidKeyLog(f"expected one genesis entry, found {len(geneses)}", reason="genesis-count")
    genesis = geneses[0]
    g = genesis.entry
    if g.prev is not None or g.revoked:
        raise InvalidKeyLog("genesis must have no prev and revoke nothing", reason="malformed-entry")
    _require_signed_by(genesis, frozenset(g.recovery), frozenset(), "the genesis entry")
    for k in (*g.signing, *g.recovery):
        try:
            public_key_for(k)
        except UnknownKey as e:
            raise InvalidKeyLog(f"genesis names an unusable key: {e}", reason="bad-key") from e

    children: dict[str, list[_Parsed]] = {}
    seen = {genesis.hash}
    for p in parsed:
        if p is genesis or p.hash in seen:
            continue
        seen.add(p.hash)
        if p.entry.op != "rotate" or p.entry.prev is None:
            raise InvalidKeyLog("a later entry must be a rotate with a prev", reason="malformed-entry")
        children.setdefault(p.entry.prev, []).append(p)

    chain = [genesis]
    signing = frozenset(g.signing)
    recovery = frozenset(g.recovery)
    revoked: frozenset[str] = frozenset()
    ever = frozenset(g.signing)
    forks: list[Fork] = []
    head = genesis
    used = {genesis.hash}
    while head.hash in children:
        candidates = children.pop(head.hash)
        for c in candidates:
            _require_signed_by(c, recovery - revoked, revoked, f"the entry after {head.hash[:12]}")
        valid = sorted(candidates, key=lambda c: c.hash)
        if len(valid) > 1:
            forks.append(Fork(prev=head.hash, kept=valid[0].hash, dropped=tuple(c.hash for c in valid[1:])))
            # The losing branches are discarded whole.
            stack = list(valid[1:])
            while stack:
                lost = stack.pop()
                used.add(lost.hash)
                stack.extend(children.pop(lost.hash, []))
        head = valid[0]
        used.add(head.hash)
        entry = head.entry
        for k in (*entry.signing, *entry.recovery):
            try:
                public_key_for(k)
            except UnknownKey as err:
                raise InvalidKeyLog(f"entry names an unusable key: {err}", reason="bad-key") from err
        revoked = revoked | frozenset(entry.revoked)
        signing = frozenset(entry.signing) - revoked
        recovery = frozenset(entry.recovery) - revoked
        ever = ever | frozenset(entry.signing)
        chain.append(head)
        if not recovery:
            raise InvalidKeyLog("an entry leaves no recovery key in force", reason="no-recovery")
    if children:
        raise InvalidKeyLog(
            f"{sum(len(v) for v in children.values())} entry(ies) do not chain from the genesis",
            reason="broken-chain",
        )
    return KeyLog(
        publisher=publisher_id(genesis.body),
        chain=[p.env for p in chain],
        entries=[p.entry for p in chain],
        signing=signing,
        recovery=recovery,
        revoked=revoked,
        ever_signing=ever,
        head=head.hash,
        forks=forks,
    )
