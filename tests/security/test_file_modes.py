"""Everything the node writes is owner-only under a permissive umask; a directory others can write is refused.

The finding (docs/security.md, "At rest"): under umask 022, ``signpost.db``
(with its WAL and SHM) and ``signpost.toml`` were world-readable.
"""

from __future__ import annotations

import os
import stat
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from nodeutil import NodeHandle, ServeProcess, free_port, signpost

PASSWORD = "correct horse battery"


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _modes(directory: Path) -> dict[str, int]:
    out = {".": stat.S_IMODE(directory.stat().st_mode)}
    for path in directory.rglob("*"):
        out[str(path.relative_to(directory))] = stat.S_IMODE(path.lstat().st_mode)
    return out


def _too_open(directory: Path) -> dict[str, str]:
    return {
        name: oct(mode)
        for name, mode in _modes(directory).items()
        if mode & 0o077 and not name.endswith(("serve.log", "listings.csv"))
    }


@pytest.mark.slow
def test_init_import_and_serve_under_umask_022_leave_only_owner_only_files(tmp_path: Path, umask_022: None) -> None:
    port = free_port()
    d = tmp_path / "node"
    signpost("init", "--dir", str(d), "--name", "Leeds", "--url", f"http://127.0.0.1:{port}", "--port", str(port))
    assert (d / "signpost.db").exists() and (d / "signpost.toml").exists()
    assert _too_open(d) == {}
    csv = tmp_path / "listings.csv"
    csv.write_text("Name,Summary,Postcode\nHearing Voices Leeds,A peer group,LS1 4AP\n")
    signpost("import", str(csv), "--dir", str(d))
    signpost("password", "--password-stdin", "--dir", str(d), input=PASSWORD + "\n")
    node = NodeHandle(d, port, "", "")
    with ServeProcess(node):
        with urllib.request.urlopen(f"{node.url}/.well-known/signpost", timeout=5):
            pass
        assert (d / "signpost.db-wal").exists()
        assert _too_open(d) == {}
    assert _too_open(d) == {}


def test_an_old_node_with_readable_files_is_narrowed_at_the_next_command(tmp_path: Path, umask_022: None) -> None:
    port = free_port()
    d = tmp_path / "node"
    signpost("init", "--dir", str(d), "--name", "Leeds", "--url", f"http://127.0.0.1:{port}", "--port", str(port))
    os.chmod(d, 0o755)
    for name in ("signpost.db", "signpost.toml"):
        os.chmod(d / name, 0o644)
    signpost("status", "--dir", str(d))
    assert _too_open(d) == {}


def test_a_node_directory_others_can_write_is_refused_with_the_chmod_to_run(tmp_path: Path, umask_022: None) -> None:
    port = free_port()
    d = tmp_path / "node"
    signpost("init", "--dir", str(d), "--name", "Leeds", "--url", f"http://127.0.0.1:{port}", "--port", str(port))
    os.chmod(d, 0o777)
    done = signpost("serve", "--dir", str(d), check=False, timeout=30)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "can be changed by other users" in done.stderr and f"chmod 700 {d}" in done.stderr
