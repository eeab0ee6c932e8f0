"""The running node's shared state, reached from views through one AppKey.

The parts the federation layer runs (the peer puller) are typed here by a
Protocol, so ``node.core`` never imports ``node.federation`` and the layers
below never learn of the ones above (docs/architecture.md).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from aiohttp import web

from node.core.config import Config
from node.storage.store import Store

__all__ = ["Node", "NODE", "Puller", "now_us"]


def now_us() -> int:
    """The node's clock, in microseconds (the protocol itself never reads a clock)."""
    return time.time_ns() // 1000


class Puller(Protocol):
    """What the node asks of its peer puller (``node.federation.sync.Syncer``).

    ``pull`` pulls one peer now (joining a pull already running) and says how
    it went; ``close`` stops its verification workers when the node stops.
    """

    async def pull(self, url: str) -> object: ...

    def close(self) -> None: ...


@dataclass
class Node:
    config: Config
    store: Store
    publisher: str
    session: aiohttp.ClientSession | None = None
    syncer: Puller | None = None
    extras: dict[str, object] = field(default_factory=dict)


NODE: web.AppKey[Node] = web.AppKey("node", Node)
