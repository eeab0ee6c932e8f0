"""Under load, while a sync and an import run: no errors, and memory stays put."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from load import report, run_load

pytestmark = pytest.mark.slow


async def test_searchers_and_feed_pollers_during_sync_and_import_see_no_errors(tmp_path: Path) -> None:
    figures = await run_load(searchers=40, pollers=6, seconds=8, root=tmp_path)
    print(report(figures, 8))
    assert figures.errors == []
    assert figures.requests > 100
    warm = statistics.median(figures.rss_mb[: max(1, len(figures.rss_mb) // 3)])
    assert figures.rss_mb[-1] < warm + 80, f"serve memory grew from {warm:.0f} MB to {figures.rss_mb[-1]:.0f} MB"
