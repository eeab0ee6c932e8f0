"""Every benchmark still runs: each script's ``--quick`` size exits 0 and prints its RESULT line.

The figures themselves are not judged here (a smoke size on a busy CI
machine says nothing); this only keeps the scripts from rotting as the node
changes under them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent / "bench"
REPO = BENCH.parent.parent

# (script, its final line's prefix, what it needs installed besides the node)
SCRIPTS = (
    ("ingest.py", "RESULT ingest:", None),
    ("aggregator.py", "RESULT aggregator:", None),
    ("serve.py", "RESULT serve:", "datasette"),
    ("import.py", "RESULT import:", None),
    ("http_search.py", "RESULT http_search", None),
)


@pytest.mark.slow
@pytest.mark.parametrize(("script", "result", "needs"), SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_benchmark_runs_at_smoke_size_and_ends_with_its_result_line(
    script: str, result: str, needs: str | None, tmp_path: Path
) -> None:
    if needs is not None and shutil.which(needs, path=str(Path(sys.executable).parent)) is None:
        pytest.skip(f"{script} compares against {needs}, a benchmark-only tool: pip install {needs}")
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        env={**__import__("os").environ, "SIGNPOST_BENCH_CACHE": str(tmp_path / "cache")},
    )
    assert proc.returncode == 0, f"{script} --quick exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    lines = proc.stdout.strip().splitlines()
    assert lines and lines[-1].startswith(result), f"{script} did not end with {result!r}:\n{proc.stdout}"
