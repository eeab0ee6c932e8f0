"""Every command's errors are one sentence saying what to do: no traceback, whatever the mistake."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nodeutil import ServeProcess, group, make_node, signpost


def _one_sentence_error(done: object) -> str:
    stderr: str = done.stderr  # type: ignore[attr-defined]
    assert done.returncode == 1, (done.returncode, stderr)  # type: ignore[attr-defined]
    assert "Traceback" not in stderr, stderr
    return stderr


def test_importing_a_file_that_does_not_exist_says_so(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    err = _one_sentence_error(signpost("import", "nosuch.csv", "--dir", str(node.directory), check=False))
    assert "nosuch.csv does not exist" in err


def test_serve_on_a_taken_port_says_so_before_starting_anything(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", node.port))
        taken.listen()
        done = signpost("serve", "--dir", str(node.directory), check=False, timeout=30)
    err = _one_sentence_error(done)
    assert f"port {node.port} on 127.0.0.1 is already in use" in err and "--port" in err
    assert "Serving" not in err and "apscheduler" not in err


def test_keys_show_outside_a_node_says_there_is_no_node_here(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "node", "keys", "show"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    err = _one_sentence_error(done)
    assert "no Signpost node here" in err and "--dir" in err and "signpost init" not in err


def test_password_names_the_local_address_to_sign_in_at(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    cfg = node.directory / "signpost.toml"
    cfg.write_text(cfg.read_text().replace(f'url = "{node.url}"', 'url = "https://signpost.example.org"'))
    out = signpost("password", "--password-stdin", "--dir", str(node.directory), input="correct horse battery\n")
    assert f"Sign in at http://127.0.0.1:{node.port}/admin" in out.stdout


def test_delete_with_a_wrong_id_suggests_close_ids_and_how_to_list_them(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    node.publish([group(1), group(2, name="Hearing Voices Leeds")])
    err = _one_sentence_error(signpost("delete", "group-00001", "--dir", str(node.directory), check=False))
    assert "'group-000001'" in err and "signpost listings" in err
    err = _one_sentence_error(signpost("delete", "hearing voices leeds", "--dir", str(node.directory), check=False))
    assert "'group-000002'" in err
    shown = signpost("listings", "--dir", str(node.directory)).stdout
    assert "group-000001\tPeer group 1" in shown and "group-000002\tHearing Voices Leeds" in shown


def test_a_deleted_row_does_not_come_back_on_the_next_import_unless_asked(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    sheet = tmp_path / "listings.csv"
    sheet.write_text(
        "Name,Summary,Postcode\nHearing Voices Leeds,A peer group,LS1 4AP\nWalk and Talk,A walking group,LS6 3QR\n"
    )
    d = str(node.directory)
    signpost("import", str(sheet), "--dir", d)
    [rid] = [line.split("\t")[0] for line in signpost("listings", "--dir", d).stdout.splitlines() if "Walk" in line]
    signpost("delete", rid, "--dir", d)
    again = signpost("import", str(sheet), "--dir", d, check=False)
    assert "was deleted on" in again.stdout and "--undelete" in again.stdout, again.stdout
    assert "Walk and Talk" not in signpost("listings", "--dir", d).stdout
    signpost("import", str(sheet), "--undelete", "--dir", d)
    assert "Walk and Talk" in signpost("listings", "--dir", d).stdout


@pytest.mark.slow
def test_follow_from_a_script_needs_yes_and_the_error_names_it(tmp_path: Path) -> None:
    leeds = make_node(tmp_path / "leeds", "Leeds")
    national = make_node(tmp_path / "national", "National")
    with ServeProcess(leeds):
        err = _one_sentence_error(signpost("follow", leeds.url, "--dir", str(national.directory), check=False))
        assert "--yes" in err
        signpost("follow", leeds.url, "--yes", "--dir", str(national.directory))
    assert national.query("SELECT count(*) FROM peers") == [(1,)]


@pytest.mark.slow
def test_check_feed_on_ones_own_node_follows_the_address_given_and_says_which_node_it_is(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    node.publish([group(1), group(2)])
    cfg = node.directory / "signpost.toml"
    cfg.write_text(cfg.read_text().replace(f'url = "{node.url}"', 'url = "https://signpost.invalid"'))
    with ServeProcess(node):
        done = signpost("check-feed", node.url, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "public address is https://signpost.invalid" in done.stdout and node.publisher in done.stdout
    assert "2 record(s) verified, 0 failure(s)" in done.stdout
