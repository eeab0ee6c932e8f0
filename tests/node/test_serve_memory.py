"""``signpost serve --workers 2`` keeps one copy of what every process only reads (node.web.workers, node.web.app.preload)."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest

from nodeutil import make_node, serve_workers


def _rollup(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":")
        out[key] = int(value.split()[0])
    return out


@pytest.mark.slow
def test_the_reader_process_shares_the_loaded_code_and_place_data_with_the_main_one(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    log = tmp_path / "serve.log"
    proc = serve_workers(node, log)
    try:
        deadline = time.monotonic() + 60
        readers: list[int] = []
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            readers = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
            if readers and "answers requests only" in log.read_text():
                break
            time.sleep(0.2)
        else:
            raise AssertionError(f"no reader process started: {log.read_text()}")
        assert len(readers) == 2, readers  # --workers 2: two readers; the main process only runs jobs
        for _ in range(20):  # fresh connections: both readers answer some
            with urllib.request.urlopen(f"{node.url}/search?q=peer+support&near=Leeds", timeout=10) as r:
                assert r.status == 200
        for reader in readers:
            mine = _rollup(reader)
            # Anonymous memory shared with the main process (the interpreter's modules, the gazetteer
            # and postcode tables read once before the readers were forked) counts a share in each PSS.
            shared_kb = mine["Anonymous"] - mine["Pss_Anon"]
            assert shared_kb > 10 * 1024, f"reader shares only {shared_kb} KiB of its {mine['Anonymous']} KiB"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
