"""The example networks built once per session, and a national app on them at the example clock.

Shared by the handout and networks tests (their conftest files import these fixtures), so both
read the same three networks the page tests use (``example_network``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient
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
