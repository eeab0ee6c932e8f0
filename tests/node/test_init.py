"""signpost init: a node directory a coordinator can trust."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from node.core.errors import KeyFileError, NodeError
from node.publishing.keystore import RECOVERY_FILE, key_from_words, read_key
from node.publishing.lifecycle import init_node
from node.storage.ledger import load_keylog
from node.storage.store import connect, get_meta
from nodeutil import signpost
from protocol.keys import keyid_for


def test_init_creates_config_keys_keylog_and_wal_database(tmp_path: Path) -> None:
    result = init_node(tmp_path / "n", name="Leeds", url="http://127.0.0.1:9999", port=9999)
    d = tmp_path / "n"
    assert (d / "signpost.toml").read_text().count('name = "Leeds"') == 1
    assert stat.S_IMODE((d / "keys" / "signing.key").stat().st_mode) == 0o600
    assert not (d / "keys" / RECOVERY_FILE).exists(), "the recovery key lives only in the words"
    conn = connect(d / "signpost.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert get_meta(conn, "publisher") == result.publisher
    assert conn.execute("SELECT count(*) FROM keylogs").fetchone()[0] == 1
    assert result.publisher.startswith("sp1:") and len(result.publisher) == 30


def test_recovery_words_rebuild_the_recovery_key_the_key_log_trusts(tmp_path: Path) -> None:
    result = init_node(tmp_path / "n", name="Leeds", url="http://127.0.0.1:9999")
    recovered = key_from_words(result.recovery_words)
    conn = connect(tmp_path / "n" / "signpost.db")
    try:
        log = load_keylog(conn, result.publisher)
    finally:
        conn.close()
    assert log is not None and log.recovery == {keyid_for(recovered.public_key())}


def test_a_kept_recovery_key_matches_its_words(tmp_path: Path) -> None:
    result = init_node(tmp_path / "n", name="Leeds", url="http://127.0.0.1:9999", keep_recovery_key=True)
    stored = read_key(tmp_path / "n" / "keys" / RECOVERY_FILE)
    assert keyid_for(key_from_words(result.recovery_words).public_key()) == keyid_for(stored.public_key())


def test_a_miscopied_recovery_word_is_caught(tmp_path: Path) -> None:
    words = init_node(tmp_path / "n", name="L", url="http://127.0.0.1:9").recovery_words.split()
    words[3], words[4] = words[4], words[3]
    with pytest.raises(KeyFileError):
        key_from_words(" ".join(words))


def test_init_refuses_to_overwrite_an_existing_node(tmp_path: Path) -> None:
    init_node(tmp_path / "n", name="Leeds", url="http://127.0.0.1:9999")
    before = (tmp_path / "n" / "keys" / "signing.key").read_bytes()
    with pytest.raises(NodeError, match="already holds"):
        init_node(tmp_path / "n", name="Other", url="http://127.0.0.1:9998")
    assert (tmp_path / "n" / "keys" / "signing.key").read_bytes() == before


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    init_node(tmp_path / "n", name="Leeds", url="http://127.0.0.1:9999")
    key = tmp_path / "n" / "keys" / "signing.key"
    key.chmod(0o644)
    with pytest.raises(KeyFileError, match="other users") as e:
        read_key(key)
    assert e.value.hint == f"run: chmod 600 {key}"


def test_cli_init_prints_publisher_and_24_recovery_words(tmp_path: Path) -> None:
    out = signpost(
        "init", "--dir", str(tmp_path / "n"), "--name", "Lambeth", "--url", "http://127.0.0.1:9", "--password", ""
    ).stdout
    assert "Publisher id: sp1:" in out
    assert out.count("24.") == 1


def test_cli_errors_are_one_clear_message_without_traceback(tmp_path: Path) -> None:
    proc = signpost("status", "--dir", str(tmp_path / "nowhere"), check=False)
    assert proc.returncode == 1
    assert "no Signpost node in" in proc.stderr and "pass --dir" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_typo_is_refused_with_its_line(tmp_path: Path) -> None:
    init_node(tmp_path / "n", name="Leeds", url="http://127.0.0.1:9999")
    cfg = tmp_path / "n" / "signpost.toml"
    cfg.write_text(cfg.read_text().replace("port =", "prot ="))
    proc = signpost("status", "--dir", str(tmp_path / "n"), check=False)
    assert proc.returncode == 1
    assert "line" in proc.stderr and "prot" in proc.stderr
