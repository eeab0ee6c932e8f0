"""What a publisher does to issue a version (spec §5.1).

Pure: the caller passes the clock reading and the last ``rev`` it issued.
"""

from __future__ import annotations

import datetime as dt

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import envelope as dsse
from .records import Kind, Record, Tombstone, decode_version, encode_payload

__all__ = ["next_rev", "rfc3339", "seal_version", "tombstone_for"]


def next_rev(now_us: int, last_rev: int) -> int:
    """``max(now, last_rev + 1)``: never reuse a rev, even if the clock steps back."""
    return max(now_us, last_rev + 1)


def rfc3339(us: int) -> str:
    """A display timestamp for ``updated`` from microseconds since the epoch."""
    t = dt.datetime.fromtimestamp(us / 1_000_000, tz=dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def seal_version(
    version: Record | Tombstone, private: Ed25519PrivateKey, *, checked: bool = False
) -> tuple[dsse.Envelope, bytes]:
    """Encode once, check it decodes under the receivers' rules, and sign the bytes.

    A publisher must never emit what receivers refuse.  ``checked=True`` is
    for content the caller has already run through :func:`decode_version`
    (an importer's row check, a re-signed verified version), so it is not
    decoded twice.
    """
    body = encode_payload(version)
    if not checked:
        decode_version(body)
    return dsse.seal(body, dsse.RECORD_TYPE, private), body


def tombstone_for(publisher: str, record_id: str, kind: Kind, rev: int) -> Tombstone:
    return Tombstone(publisher=publisher, id=record_id, rev=rev, updated=rfc3339(rev), kind=kind, deleted=True)
