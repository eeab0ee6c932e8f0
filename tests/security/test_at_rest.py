"""At rest: deleted listings leave no trace in the database files; keys and binding are guarded."""

from __future__ import annotations

from pathlib import Path

from nodeutil import NodeHandle, group, make_node, signpost

MARKER = "Zqxj7Private"


def file_bytes(node: NodeHandle) -> bytes:
    data = b""
    for name in ("signpost.db", "signpost.db-wal"):
        path = node.directory / name
        if path.exists():
            data += path.read_bytes()
    return data


def secret_listing(i: int) -> tuple[str, dict[str, object]]:
    return group(
        i,
        name=f"{MARKER} group {i}",
        description=f"Run by {MARKER}{i} from their front room.",
        contact={"consent": True, "name": f"{MARKER} Person", "email": f"{MARKER.lower()}{i}@example.org"},
    )


def test_a_deleted_listing_leaves_no_personal_data_in_the_database_files(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n", "Leeds")
    node.publish([secret_listing(1)] + [group(i) for i in range(2, 200)])
    assert MARKER.encode() in file_bytes(node)
    node.delete("group-000001")
    leftover = file_bytes(node)
    assert MARKER.encode() not in leftover and MARKER.lower().encode() not in leftover
    # The search index still works after the scrub.
    assert node.query("SELECT count(*) FROM listings_fts WHERE listings_fts MATCH 'peer'")[0][0] == 198


def test_a_tombstone_from_a_peer_scrubs_the_follower_too(tmp_path: Path) -> None:

    from node.storage.ledger import apply_version, load_keylog, store_keylog
    from node.storage.store import connect, transaction
    from protocol import envelope as dsse
    from protocol.verify import open_record

    origin = make_node(tmp_path / "origin", "Leeds")
    origin.publish([secret_listing(1), group(2)])
    follower = make_node(tmp_path / "follower", "National")
    src = connect(origin.directory / "signpost.db")
    log = load_keylog(src, origin.publisher)
    assert log is not None
    dst = connect(follower.directory / "signpost.db")

    def copy_all() -> None:
        rows = src.execute("SELECT envelope FROM versions ORDER BY change").fetchall()
        with transaction(dst):
            store_keylog(dst, log, now_us=1)
            for (env,) in rows:
                opened = open_record(dsse.decode_envelope(bytes(env)), log, now_us=2**60)
                apply_version(dst, opened, bytes(env), via=origin.url, now_us=1)

    copy_all()
    assert MARKER.encode() in file_bytes(follower)
    origin.delete("group-000001")
    copy_all()
    src.close()
    dst.close()
    assert MARKER.encode() not in file_bytes(follower)


def test_serve_refuses_a_non_loopback_address_unless_told(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n", "Leeds")
    proc = signpost("serve", "--dir", str(node.directory), "--host", "192.0.2.10", check=False, timeout=30)
    assert proc.returncode == 1
    assert "not a loopback address" in proc.stderr and "--public" in proc.stderr


def test_secure_delete_is_on_for_every_connection(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n", "Leeds")
    assert node.query("PRAGMA secure_delete") == [(1,)]
