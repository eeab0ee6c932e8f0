"""Fixtures for federation tests: peers served in-process on 127.0.0.1, a pulling node."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from node.core.context import Node
from node.web.app import create_app, open_node
from nodeutil import NodeHandle, make_node


@pytest.fixture
def serve(aiohttp_server: Any) -> Callable[[NodeHandle], Any]:
    """Serve a node's app in-process on its own configured port."""

    async def start(handle: NodeHandle) -> Any:
        return await aiohttp_server(create_app(handle.config, sync=False), host="127.0.0.1", port=handle.port)

    return start


@pytest.fixture
async def puller(tmp_path: Path) -> AsyncIterator[tuple[NodeHandle, Node]]:
    handle = make_node(tmp_path / "national", "National")
    node = open_node(handle.config)
    node.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=handle.config.sync.timeout))
    try:
        yield handle, node
    finally:
        await node.session.close()
        if node.syncer is not None:
            node.syncer.close()
        node.store.close()
