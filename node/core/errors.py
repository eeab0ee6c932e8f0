"""Errors the node raises for people and peers, with a hint saying what to do."""

from __future__ import annotations

from protocol.errors import SignpostError

__all__ = [
    "NodeError",
    "ConfigError",
    "KeyFileError",
    "NotANode",
    "PeerUnavailable",
    "PeerRejected",
    "NotFound",
    "BadRequest",
]


class NodeError(SignpostError):
    """Root of the node's own errors (the CLI prints message and hint, no traceback)."""


class ConfigError(NodeError):
    """``signpost.toml`` is missing a value, has a typo, or a value is wrong."""


class KeyFileError(NodeError):
    """A key file is missing, malformed, or readable by other users."""


class NotANode(NodeError):
    """The directory does not hold a Signpost node."""


class NotFound(NodeError):
    http_status = 404
    reason = "not-found"


class BadRequest(NodeError):
    http_status = 400
    reason = "bad-request"


class PeerUnavailable(NodeError):
    """A peer could not be reached or answered 429/5xx: back off and try again later."""

    http_status = 502
    reason = "peer-unavailable"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PeerRejected(NodeError):
    """A peer answered with something we refuse (4xx, bad JSON, oversized): record and move on."""

    http_status = 502
    reason = "peer-rejected"
