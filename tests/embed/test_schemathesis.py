"""schemathesis, an external OpenAPI fuzzer, finds nothing wrong with a real node process.

Runs the ``schemathesis`` CLI against ``signpost serve`` on 127.0.0.1 with
the example listings plus the privacy and XSS probes: every operation in
``/api/openapi.json`` (API, feed and slices, calendars, oEmbed, embed, Open
Referral), coverage and fuzzing phases, a bounded number of examples.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from embedutil import probe_listings, publish_private

from nodeutil import ServeProcess, example_listings, make_node

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"


@pytest.mark.slow
def test_schemathesis_finds_no_failure(tmp_path: Path) -> None:
    cli = shutil.which("schemathesis") or str(Path(sys.executable).with_name("schemathesis"))
    node = make_node(tmp_path / "leeds", "Leeds Peer Support Network")
    node.publish(example_listings("leeds") + probe_listings())
    publish_private(node)
    with ServeProcess(node):
        result = subprocess.run(
            [
                cli,
                "run",
                f"{node.url}/api/openapi.json",
                "--checks",
                CHECKS,
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "40",
                "--generation-database",
                "none",
                "--request-timeout",
                "10",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    tail = result.stdout[-4000:]
    assert result.returncode == 0, tail
    assert "passed" in tail and "failed" not in tail.split("SUMMARY")[-1]
