"""The example networks (tests/pages/example_network.py), built once per session, and a national app on them."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for `support` and `nodeutil`
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pages"))  # example_network

from example_network import NOW, Network, build_network

from node.core.config import load_config
from node.web.app import create_app
from node.web.views.shared import CLOCK


@pytest.fixture(scope="session")
def network(tmp_path_factory: pytest.TempPathFactory) -> Network:
    return build_network(tmp_path_factory.mktemp("networks"))


@pytest.fixture
async def client(network: Network, aiohttp_client: Callable[..., Awaitable[TestClient]]) -> TestClient:
    app = create_app(load_config(network.national), sync=False)
    app[CLOCK] = lambda: NOW
    return await aiohttp_client(app)
