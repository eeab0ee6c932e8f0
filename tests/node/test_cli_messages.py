"""Every command's errors are one sentence saying what to do: no traceback, whatever the mistake."""

from __future__ import annotations

from pathlib import Path

from nodeutil import make_node, signpost


def _one_sentence_error(done: object) -> str:
    stderr: str = done.stderr  # type: ignore[attr-defined]
    assert done.returncode == 1, (done.returncode, stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in stderr, stderr
    return stderr


def test_importing_a_file_that_does_not_exist_says_so(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    err = _one_sentence_error(signpost("import", "nosuch.csv", "--dir", str(node.directory), check=False))
    assert "nosuch.csv does not exist" in err
