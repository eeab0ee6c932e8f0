"""DSSE envelopes and PAE (spec §3).

A version travels as a Dead Simple Signing Envelope.  The signature covers
``PAE(payloadType, payload)`` so a signature made for one payload type cannot
be replayed as another.  Receivers keep the payload bytes exactly as signed
and never re-encode them to verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Annotated

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from msgspec import Meta, Struct

from . import keys
from .errors import BadSignature, InvalidEnvelope, UnknownKey

__all__ = [
    "RECORD_TYPE",
    "KEYLOG_TYPE",
    "Signature",
    "Envelope",
    "pae",
    "seal",
    "payload_bytes",
    "check_signature",
    "pae_digest",
    "decode_envelope",
    "encode_envelope",
]

RECORD_TYPE = "application/vnd.signpost.record+json"
KEYLOG_TYPE = "application/vnd.signpost.keylog+json"
MAX_ENVELOPE_BYTES = 96 * 1024


class Signature(Struct, kw_only=True):
    keyid: Annotated[str, Meta(max_length=100)]
    sig: Annotated[str, Meta(max_length=200)]


class Envelope(Struct, kw_only=True):
    """``{"payloadType", "payload", "signatures"}``; unknown fields are ignored."""

    payloadType: Annotated[str, Meta(max_length=100)]
    payload: Annotated[str, Meta(max_length=MAX_ENVELOPE_BYTES)]
    signatures: Annotated[list[Signature], Meta(min_length=1, max_length=4)]


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding; lengths are in bytes, not characters."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def pae_digest(payload_type: str, payload: bytes) -> bytes:
    """SHA-256 of the PAE: the merge rule's tie-break (spec §5.2)."""
    return hashlib.sha256(pae(payload_type, payload)).digest()


def payload_bytes(env: Envelope) -> bytes:
    """The signed payload bytes; standard base64 with padding, strictly decoded."""
    try:
        return base64.b64decode(env.payload, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidEnvelope("payload is not valid base64") from e


def seal(payload: bytes, payload_type: str, private: Ed25519PrivateKey) -> Envelope:
    """Sign ``payload`` as written; the caller never re-encodes it afterwards."""
    sig = private.sign(pae(payload_type, payload))
    return Envelope(
        payloadType=payload_type,
        payload=base64.b64encode(payload).decode("ascii"),
        signatures=[Signature(keyid=keys.keyid_for(private.public_key()), sig=base64.b64encode(sig).decode("ascii"))],
    )


def check_signature(env: Envelope, payload_type: str, body: bytes, authorised: set[str] | frozenset[str]) -> str:
    """Check that one signature by an authorised key verifies; return its keyid.

    Signatures by keys outside ``authorised`` are skipped; if none is left
    the caller's key check (not this function) reports the unknown key.
    """
    if env.payloadType != payload_type:
        raise InvalidEnvelope(f"payloadType is {env.payloadType!r}, expected {payload_type!r}")
    message = pae(env.payloadType, body)
    failure: BadSignature | None = None
    for s in env.signatures:
        if s.keyid not in authorised:
            continue
        try:
            raw = base64.b64decode(s.sig, validate=True)
        except (binascii.Error, ValueError):
            failure = BadSignature("signature is not valid base64")
            continue
        try:
            keys.verify(s.keyid, message, raw)
            return s.keyid
        except BadSignature as e:
            failure = e
    if failure is not None:
        raise failure
    raise UnknownKey(
        "no signature is by a key the publisher's key log authorises: "
        + ", ".join(s.keyid[:60] for s in env.signatures)
    )


_DECODER = msgspec.json.Decoder(Envelope)
_ENCODER = msgspec.json.Encoder()


def decode_envelope(data: bytes) -> Envelope:
    if len(data) > MAX_ENVELOPE_BYTES:
        error = InvalidEnvelope(f"envelope is {len(data)} bytes; the limit is {MAX_ENVELOPE_BYTES}")
        error.reason = "too-large"
        raise error
    try:
        return _DECODER.decode(data)
    except msgspec.DecodeError as e:
        raise InvalidEnvelope(f"not a DSSE envelope: {e}") from e


def encode_envelope(env: Envelope) -> bytes:
    return _ENCODER.encode(env)
