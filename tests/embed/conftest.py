"""Fixtures for embedding tests: a Leeds node with the example listings plus privacy and XSS probes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for nodeutil and support

from embedutil import NOW, probe_listings, publish_private

from node.web.app import create_app
from node.web.views.shared import CLOCK
from nodeutil import NodeHandle, example_listings, make_node


@pytest.fixture
def leeds(tmp_path: Path) -> NodeHandle:
    handle = make_node(tmp_path / "leeds", "Leeds Peer Support Network")
    handle.publish(example_listings("leeds") + probe_listings())
    publish_private(handle)
    return handle


@pytest.fixture
def serve_node(aiohttp_server: Any) -> Callable[[NodeHandle], Any]:
    """Serve a node in-process on its configured port, with the clock fixed at :data:`NOW`."""

    async def start(handle: NodeHandle, *, clock: bool = True) -> Any:
        app = create_app(handle.config, sync=False)
        if clock:
            app[CLOCK] = lambda: NOW
        return await aiohttp_server(app, host="127.0.0.1", port=handle.port)

    return start


@pytest.fixture
async def client(leeds: NodeHandle, serve_node: Any, aiohttp_client: Any) -> Any:
    server = await serve_node(leeds)
    return await aiohttp_client(server)
