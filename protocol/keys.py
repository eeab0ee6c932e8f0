"""Ed25519 keys and keyids, verified strictly (spec §3.2).

A keyid is ``ed25519:`` + unpadded base64url of the 32-byte public key.
Verification follows RFC 8032 strictly: ``S`` must be below the group order
``L``, and public keys of small order (which would let one signature verify
for many messages) or with a non-canonical ``y`` are refused before OpenSSL
is asked.  OpenSSL already rejects a non-canonical ``S``; the explicit check
keeps the rule in our code, where the test vectors can see it.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import BadSignature, UnknownKey

__all__ = [
    "KEYID_PREFIX",
    "keyid_for",
    "public_key_for",
    "verify",
    "sign",
    "b64url",
    "b64url_decode",
    "private_key_from_seed",
]

KEYID_PREFIX = "ed25519:"
_L = 2**252 + 27742317777372353535851937790883648493
_P = 2**255 - 19

# Encodings of the eight points of small order on edwards25519 (and their
# sign-bit twins), as listed by libsodium's ``has_small_order``.
_SMALL_ORDER = {
    bytes.fromhex(h)
    for h in (
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "0100000000000000000000000000000000000000000000000000000000000080",
    )
}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not text.isascii() or "=" in text:
        raise ValueError("not unpadded base64url")
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def keyid_for(public: Ed25519PublicKey | bytes) -> str:
    raw = public if isinstance(public, bytes) else public.public_bytes_raw()
    return KEYID_PREFIX + b64url(raw)


@lru_cache(maxsize=4096)
def public_key_for(keyid: str) -> Ed25519PublicKey:
    """Parse a keyid into a public key, refusing weak or malformed keys.

    Cached: a national aggregator verifies thousands of records per key, and
    parsing a key costs about as much as verifying a signature.
    """
    if not keyid.startswith(KEYID_PREFIX):
        raise UnknownKey(f"keyid {keyid[:60]!r} is not an ed25519: keyid")
    try:
        raw = b64url_decode(keyid[len(KEYID_PREFIX) :])
    except ValueError as e:
        raise UnknownKey(f"keyid {keyid[:60]!r} is not valid base64url") from e
    if len(raw) != 32:
        raise UnknownKey(f"keyid {keyid[:60]!r} does not hold 32 bytes")
    if raw in _SMALL_ORDER:
        raise UnknownKey(f"keyid {keyid[:60]!r} is a small-order point")
    if int.from_bytes(raw, "little") & ((1 << 255) - 1) >= _P:
        raise UnknownKey(f"keyid {keyid[:60]!r} is a non-canonical point encoding")
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as e:
        raise UnknownKey(f"keyid {keyid[:60]!r} is not a point on the curve") from e


def verify(keyid: str, message: bytes, signature: bytes) -> None:
    """Verify an Ed25519 signature strictly; raise :class:`BadSignature` if it fails."""
    key = public_key_for(keyid)
    if len(signature) != 64:
        raise BadSignature(f"signature is {len(signature)} bytes, not 64")
    if int.from_bytes(signature[32:], "little") >= _L:
        raise BadSignature("signature has a non-canonical S (S >= L)")
    try:
        key.verify(signature, message)
    except InvalidSignature as e:
        raise BadSignature("signature does not verify") from e


def sign(private: Ed25519PrivateKey, message: bytes) -> bytes:
    return private.sign(message)


def private_key_from_seed(seed: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(seed)
