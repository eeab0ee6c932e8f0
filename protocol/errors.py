"""One error root for the protocol, with subclasses that carry their data.

Every check in ``protocol/`` raises rather than returning ``False``: a caller
cannot forget to look at a raised error.  Each class has an ``http_status`` so
the node can turn it into a response without a lookup table of its own, and a
``reason`` code that is stable across versions (the test vectors use it).
"""

from __future__ import annotations

__all__ = [
    "SignpostError",
    "InvalidEnvelope",
    "InvalidPayload",
    "InvalidRecord",
    "BadSignature",
    "UnknownKey",
    "RevokedKey",
    "WrongPublisher",
    "FromTheFuture",
    "InvalidKeyLog",
    "InvalidFeed",
]


class SignpostError(Exception):
    """Root of every error the protocol raises."""

    http_status = 400
    reason = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class InvalidEnvelope(SignpostError):
    """The DSSE envelope itself is malformed (not JSON, missing fields, bad base64)."""

    reason = "invalid-envelope"


class InvalidPayload(SignpostError):
    """The payload bytes break the I-JSON rules (spec §3.3), at ``path``."""

    reason = "invalid-payload"

    def __init__(self, path: str, problem: str, *, reason: str = "invalid-payload") -> None:
        super().__init__(f"{problem} at {path}")
        self.path = path
        self.problem = problem
        self.reason = reason


class InvalidRecord(SignpostError):
    """The payload is well-formed JSON but not a valid record, at ``path``."""

    reason = "invalid-record"

    def __init__(self, path: str, problem: str, *, reason: str = "invalid-record") -> None:
        super().__init__(f"{problem} at {path}")
        self.path = path
        self.problem = problem
        self.reason = reason


class BadSignature(SignpostError):
    """The signature does not verify over the PAE of the payload."""

    http_status = 403
    reason = "bad-signature"


class UnknownKey(SignpostError):
    """The signing key is not authorised by the publisher's key log."""

    http_status = 403
    reason = "unknown-key"


class RevokedKey(UnknownKey):
    """The signing key was revoked: everything it signed is void (spec §4.4)."""

    reason = "revoked-key"


class WrongPublisher(SignpostError):
    """The record names a publisher other than the one whose key log was given."""

    http_status = 403
    reason = "wrong-publisher"


class FromTheFuture(SignpostError):
    """The version's ``rev`` is beyond the receiver's clock plus the allowed skew.

    Not a rejection: the node quarantines the version and tries it again later.
    """

    http_status = 409
    reason = "from-the-future"

    def __init__(self, rev: int, now: int) -> None:
        ahead = (rev - now) / 1_000_000
        super().__init__(
            f"rev {rev} is {ahead:.0f} s ahead of this node's clock",
            hint="quarantined; it will be tried again once the clock catches up",
        )
        self.rev = rev
        self.now = now


class InvalidKeyLog(SignpostError):
    """A key-log entry is malformed, unsigned, or does not chain (spec §4)."""

    http_status = 403
    reason = "invalid-keylog"

    def __init__(self, message: str, *, reason: str = "invalid-keylog", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


class InvalidFeed(SignpostError):
    """A feed page or node document does not follow spec §6."""

    http_status = 502
    reason = "invalid-feed"
