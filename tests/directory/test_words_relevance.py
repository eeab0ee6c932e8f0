"""The relevance benchmark holds its goal: searches people type find what they should (tests/bench/relevance.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench" / "relevance.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("relevance_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_top_three_success_on_the_relevance_cases_meets_the_goal(tmp_path: Path) -> None:
    bench = _bench()
    bench.build(tmp_path / "relevance.db")
    from node.storage.store import connect

    conn = connect(tmp_path / "relevance.db")
    try:
        outcomes = bench.run_all(conn, "cases")
    finally:
        conn.close()
    hits = [o for o in outcomes if o.rank is not None and o.rank <= 3]
    misses = [(o.case["q"], o.case.get("near"), o.top[:3]) for o in outcomes if o not in hits]
    assert len(hits) / len(outcomes) >= bench.GOAL, misses
