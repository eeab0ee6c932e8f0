"""Signpost wire protocol, version 1: a pure library (no sockets, SQL or clock).

See ``spec/signpost-v1.md``.  Callers pass bytes, keys and ``now`` in and get
values or raised :class:`~protocol.errors.SignpostError` subclasses out.
"""

from . import envelope, errors, feed, keylog, keys, merge, payload, publish, records, verify

__all__ = ["envelope", "errors", "feed", "keylog", "keys", "merge", "payload", "publish", "records", "verify"]
__version__ = "0.1.0"
