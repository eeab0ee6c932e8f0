"""Pytest fixtures for the browser and RPDE helpers.

Use them from a test module with ``from support.fixtures import browser`` (or list
``"support.fixtures"`` in ``pytest_plugins`` of tests/conftest.py).

A missing tool skips the test on a developer's machine but fails it under CI (the
``CI`` environment variable set), so CI can never go green by skipping everything.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from .browser import CHROMIUM, Browser

__all__ = ["browser", "node_tools", "require_tool"]


def require_tool(present: bool, what: str, install: str) -> None:
    """Skip (or, under CI, fail) the calling test when a needed tool is absent."""
    if present:
        return
    message = f"{what} is not installed; {install}"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so a missing tool is an error: {message}")
    pytest.skip(message)


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    """A fresh Playwright driver and headless chromium for one test (under a second to start).

    Function-scoped because Playwright's objects belong to the event loop that made them,
    and each test runs on its own loop (asyncio_default_fixture_loop_scope in pyproject.toml)."""
    require_tool(CHROMIUM.exists(), f"chromium ({CHROMIUM})", "apt-get install chromium")
    async with Browser.launch() as launched:
        yield launched


@pytest.fixture
def node_tools() -> None:
    """Skip (or fail under CI) when node/npm, needed by ``validate_rpde``, are absent."""
    present = shutil.which("node") is not None and shutil.which("npm") is not None
    require_tool(present, "node and npm", "apt-get install nodejs npm")
