"""Open a record envelope: verify, then decode, then check (spec §3.4).

The order matters.  The signature is checked over the bytes received before
anything is decoded, the payload is decoded once, and the bytes are kept
so the node can re-serve them verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import envelope as dsse
from .errors import FromTheFuture, InvalidEnvelope, RevokedKey, UnknownKey, WrongPublisher
from .keylog import KeyLog
from .records import Version, decode_version

__all__ = ["MAX_SKEW_US", "Opened", "open_record", "check_clock"]

MAX_SKEW_US = 10 * 60 * 1_000_000


@dataclass(frozen=True)
class Opened:
    """A verified version, with the exact bytes and digest the merge rule needs."""

    version: Version
    body: bytes
    digest: bytes
    keyid: str


def check_clock(rev: int, now_us: int) -> None:
    if rev > now_us + MAX_SKEW_US:
        raise FromTheFuture(rev, now_us)


def open_record(env: dsse.Envelope, keylog: KeyLog, *, now_us: int) -> Opened:
    """Verify ``env`` as a record version of ``keylog``'s publisher.

    Raises, in the order checked: :class:`InvalidEnvelope` (payload type,
    base64), :class:`RevokedKey` / :class:`UnknownKey`, :class:`BadSignature`,
    :class:`InvalidPayload` / :class:`InvalidRecord`, :class:`WrongPublisher`,
    :class:`FromTheFuture`.
    """
    if env.payloadType != dsse.RECORD_TYPE:
        raise InvalidEnvelope(f"payloadType is {env.payloadType!r}, expected {dsse.RECORD_TYPE!r}")
    keyids = [s.keyid for s in env.signatures]
    authorised = keylog.authorised
    if not any(k in authorised for k in keyids):
        revoked = [k for k in keyids if k in keylog.revoked]
        if revoked:
            raise RevokedKey(f"signed by {revoked[0]}, which {keylog.publisher} revoked")
        raise UnknownKey(f"signed by {keyids[0][:60]}, which is not in the key log of {keylog.publisher}")
    body = dsse.payload_bytes(env)
    keyid = dsse.check_signature(env, dsse.RECORD_TYPE, body, authorised)
    version = decode_version(body)
    if version.publisher != keylog.publisher:
        raise WrongPublisher(f"record names publisher {version.publisher}, but was signed under {keylog.publisher}")
    check_clock(version.rev, now_us)
    return Opened(version=version, body=body, digest=dsse.pae_digest(dsse.RECORD_TYPE, body), keyid=keyid)
