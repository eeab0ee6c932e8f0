"""The running node's shared state, reached from views through one AppKey."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from node.core.config import Config
from node.storage.store import Store

if TYPE_CHECKING:
    from node.federation.sync import Syncer

__all__ = ["Node", "NODE", "now_us"]


def now_us() -> int:
    """The node's clock, in microseconds (the protocol itself never reads a clock)."""
    return time.time_ns() // 1000


@dataclass
class Node:
    config: Config
    store: Store
    publisher: str
    session: aiohttp.ClientSession | None = None
    syncer: "Syncer | None" = None
    extras: dict[str, object] = field(default_factory=dict)


NODE: web.AppKey[Node] = web.AppKey("node", Node)
