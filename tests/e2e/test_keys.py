"""Keys a small charity can live with: rotation, recovery, compromise, restore."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nodeutil import NodeHandle, ServeProcess, example_listings, group, make_node, signpost

pytestmark = pytest.mark.slow


def keyids(node: NodeHandle, publisher: str) -> set[str]:
    return {r[0] for r in node.query("SELECT keyid FROM versions WHERE publisher = ?", publisher)}


def test_planned_rotation_keeps_every_copy_verifying(tmp_path: Path) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    national = make_node(tmp_path / "national", "National")
    york = make_node(tmp_path / "york", "York follows national")
    leeds.publish([group(i) for i in range(5)])
    with ServeProcess(leeds), ServeProcess(national):
        signpost("follow", leeds.url, "--publisher", leeds.publisher, "--dir", str(national.directory))
        signpost("follow", national.url, "--publisher", national.publisher, "--dir", str(york.directory))
        signpost("sync", "--dir", str(national.directory))
        signpost("sync", "--dir", str(york.directory))
        [old_key] = keyids(york, leeds.publisher)

        out = signpost("keys", "rotate", "--words-stdin", "--dir", str(leeds.directory), input=leeds.words).stdout
        assert "retired" in out
        leeds.publish([group(99)])
        [new_key] = keyids(leeds, leeds.publisher) - {old_key}

        signpost("sync", "--dir", str(national.directory))
        signpost("sync", "--dir", str(york.directory))
        for node in (national, york):
            assert keyids(node, leeds.publisher) == {old_key, new_key}, "old versions stay valid, the new one verifies"
            assert node.query("SELECT count(*) FROM listings WHERE publisher = ?", leeds.publisher) == [(6,)]
        shown = signpost("keys", "show", "--dir", str(leeds.directory)).stdout
        assert new_key in shown and "Retired" in shown
        assert signpost("check-feed", national.url, check=False).returncode == 0


def test_recovering_lambeth_from_its_words_on_a_fresh_machine_replaces_every_copy(tmp_path: Path) -> None:
    lambeth = make_node(tmp_path / "lambeth", "Lambeth")
    national = make_node(tmp_path / "national", "National")
    leeds = make_node(tmp_path / "leeds", "Leeds follows national")
    lambeth.publish(example_listings("lambeth"))
    lambeth.delete(example_listings("lambeth")[0][0])
    before = {r[0] for r in lambeth.query("SELECT id FROM versions")}
    lambeth_serve = ServeProcess(lambeth).start()
    with ServeProcess(national):
        signpost("follow", lambeth.url, "--publisher", lambeth.publisher, "--dir", str(national.directory))
        signpost("follow", national.url, "--publisher", national.publisher, "--dir", str(leeds.directory))
        signpost("sync", "--dir", str(national.directory))
        signpost("sync", "--dir", str(leeds.directory))
        [old_key] = keyids(national, lambeth.publisher)

        # The laptop is stolen: Lambeth's node directory is gone.
        lambeth_serve.kill()
        shutil.rmtree(lambeth.directory)
        words = tmp_path / "words.txt"
        words.write_text(lambeth.words)
        rebuilt = NodeHandle(tmp_path / "lambeth-new", lambeth.port, lambeth.publisher)
        out = signpost(
            "keys",
            "recover",
            "--dir",
            str(rebuilt.directory),
            "--from",
            national.url,
            "--publisher",
            lambeth.publisher,
            "--name",
            "Lambeth",
            "--url",
            lambeth.url,
            "--port",
            str(lambeth.port),
            "--words-file",
            str(words),
        ).stdout
        assert f"Recovered {lambeth.publisher}" in out and old_key in out
        assert {r[0] for r in rebuilt.query("SELECT id FROM versions")} == before
        [new_key] = keyids(rebuilt, lambeth.publisher)
        assert new_key != old_key

        with ServeProcess(rebuilt):
            signpost("sync", "--dir", str(national.directory))
            signpost("sync", "--dir", str(leeds.directory))
        for node in (national, leeds):
            assert keyids(node, lambeth.publisher) == {new_key}, "only versions signed by the new key remain"
            assert {
                r[0] for r in node.query("SELECT id FROM versions WHERE publisher = ?", lambeth.publisher)
            } == before
        assert signpost("check-feed", national.url, check=False).returncode == 0


def test_compromise_revokes_and_resigns_everything_in_one_step(tmp_path: Path) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    national = make_node(tmp_path / "national", "National")
    leeds.publish([group(i) for i in range(10)])
    leeds.delete("group-000003")
    with ServeProcess(leeds):
        signpost("follow", leeds.url, "--publisher", leeds.publisher, "--dir", str(national.directory))
        signpost("sync", "--dir", str(national.directory))
        [old_key] = keyids(national, leeds.publisher)
        refused = signpost("keys", "rotate", "--revoke", "--dir", str(leeds.directory), check=False)
        assert refused.returncode == 1 and "--words-stdin" in refused.stderr and "Traceback" not in refused.stderr
        out = signpost(
            "keys", "rotate", "--revoke", "--words-stdin", "--dir", str(leeds.directory), input=leeds.words
        ).stdout
        assert "re-signed 10" in out
        [new_key] = keyids(leeds, leeds.publisher)
        signpost("sync", "--dir", str(national.directory))
    assert keyids(national, leeds.publisher) == {new_key} and new_key != old_key
    assert national.query("SELECT count(*), sum(deleted) FROM versions WHERE publisher = ?", leeds.publisher) == [
        (10, 1)
    ]


def test_a_node_restored_from_an_older_backup_never_reuses_a_rev_and_starts_a_new_epoch(tmp_path: Path) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    leeds.publish([group(1)])
    backup = tmp_path / "backup.db"
    shutil.copy(leeds.directory / "signpost.db", backup)
    epoch_before = leeds.query("SELECT value FROM meta WHERE key = 'epoch'")
    leeds.publish([group(2), group(3)])
    issued = {r[0] for r in leeds.query("SELECT rev FROM versions")}
    high_water = leeds.query("SELECT max(change) FROM versions")[0][0]
    for suffix in ("-wal", "-shm"):
        (leeds.directory / f"signpost.db{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, leeds.directory / "signpost.db")
    with ServeProcess(leeds):
        pass  # opening the store notices the restore
    assert leeds.query("SELECT value FROM meta WHERE key = 'epoch'") != epoch_before
    leeds.publish([group(2, summary="Re-entered after the restore.")])
    [(rev, change)] = leeds.query("SELECT rev, change FROM versions WHERE id = 'group-000002'")
    assert rev > max(issued) and change > high_water


def test_init_prints_the_words_and_keeps_only_the_public_half(tmp_path: Path) -> None:
    d = tmp_path / "leeds"
    out = signpost("init", "--dir", str(d), "--name", "Leeds", "--url", "http://127.0.0.1:9", "--password", "").stdout
    assert "only copy" in out and " 24. " in out
    assert sorted(p.name for p in (d / "keys").iterdir()) == ["signing.key"]


def test_wrong_words_are_refused_in_one_sentence(tmp_path: Path) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    other = make_node(tmp_path / "other", "Other")
    done = signpost(
        "keys", "rotate", "--revoke", "--words-stdin", "--dir", str(leeds.directory), input=other.words, check=False
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "not one this node's key log trusts" in done.stderr


def test_an_older_node_with_its_recovery_key_on_disk_is_offered_the_move(tmp_path: Path) -> None:
    from node.publishing.keystore import RECOVERY_FILE, key_from_words, write_key

    leeds = make_node(tmp_path / "leeds", "Leeds")
    keyfile = leeds.directory / "keys" / RECOVERY_FILE
    write_key(keyfile, key_from_words(leeds.words))  # as nodes made before the words-only rule kept it
    d = str(leeds.directory)
    assert "forget-recovery" in signpost("status", "--dir", d).stdout
    assert "forget-recovery" in signpost("keys", "show", "--dir", d).stdout
    unconfirmed = signpost("keys", "forget-recovery", "--dir", d, check=False)
    assert unconfirmed.returncode == 1 and "--yes" in unconfirmed.stderr and "--words-stdin" in unconfirmed.stderr
    other = make_node(tmp_path / "other", "Other")
    wrong = signpost("keys", "forget-recovery", "--words-stdin", "--dir", d, input=other.words, check=False)
    assert wrong.returncode == 1 and keyfile.exists(), "wrong words keep the key"
    signpost("keys", "forget-recovery", "--words-stdin", "--dir", d, input=leeds.words)
    assert not keyfile.exists()
    assert "forget-recovery" not in signpost("status", "--dir", d).stdout
    assert "recovery_key_on_disk" in signpost("status", "--json", "--dir", d).stdout
    write_key(keyfile, key_from_words(leeds.words))
    signpost("keys", "forget-recovery", "--yes", "--dir", d)
    assert not keyfile.exists()
