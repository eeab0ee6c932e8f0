"""A public listing made private is scrubbed from disk as thoroughly as a deletion.

When a new version stops publishing a meeting place's address or a contact detail,
the old version's text must not survive in signpost.db, its WAL or the FTS segments
(spec §5.4, §8; docs/architecture.md, storage).  Read as raw bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from node.storage.store import connect
from nodeutil import NodeHandle, make_node

PUBLIC: dict[str, Any] = {
    "kind": "group",
    "name": "Lindley Hearing Voices",
    "summary": "A peer group for people who hear voices.",
    "location": {
        "type": "public",
        "name": "The Orchard Room",
        "address": "14 Holly Bank Road, Lindley",
        "postcode": "HD3 3LZ",
        "area": "Huddersfield",
    },
    "contact": {"consent": True, "email": "orchard.voices@example.com", "phone": "07700 900412"},
}
SECRETS = [b"Orchard Room", b"14 Holly Bank Road", b"HD3 3LZ", b"orchard.voices@example.com", b"07700 900412"]


def raw_files(node: NodeHandle) -> bytes:
    out = b""
    for suffix in ("", "-wal", "-shm"):
        path = Path(str(node.directory / "signpost.db") + suffix)
        if path.exists():
            out += path.read_bytes()
    return out


def found(node: NodeHandle) -> list[bytes]:
    data = raw_files(node).lower()
    return [s for s in SECRETS if s.lower() in data]


def test_public_place_and_contact_made_private_leave_no_bytes_on_disk(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n")
    # A running node keeps connections open, so the WAL is not checkpointed away on close.
    keep = connect(node.directory / "signpost.db")
    node.publish([("orchard", PUBLIC)])
    assert found(node) == SECRETS  # the test can see them while they are public
    private = {k: v for k, v in PUBLIC.items() if k not in ("location", "contact")}
    private.update(private=True, location={"type": "area", "area": "Huddersfield", "postcode_area": "HD3"})
    node.publish([("orchard", private)])
    assert found(node) == []
    keep.close()
    assert node.query("SELECT value FROM meta WHERE key = 'scrub_pending'") == []


def test_contact_withdrawn_alone_is_scrubbed(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n")
    keep = connect(node.directory / "signpost.db")
    node.publish([("orchard", PUBLIC)])
    node.publish([("orchard", {k: v for k, v in PUBLIC.items() if k != "contact"})])
    data = raw_files(node).lower()
    keep.close()
    assert b"orchard.voices@example.com" not in data and b"07700 900412" not in data
    assert b"14 holly bank road" in data  # still public, so still there


def test_an_edit_that_withdraws_nothing_asks_for_no_scrub(tmp_path: Path) -> None:
    import json

    import msgspec

    from node.storage.ledger import withdrawn
    from protocol.records import Record

    full = {**PUBLIC, "publisher": node_publisher(), "id": "orchard", "rev": 1, "updated": "2026-11-28T00:00:00Z"}
    same = msgspec.convert({**full, "summary": "New words."}, type=Record)
    assert not withdrawn(json.dumps(full), same)
    moved = msgspec.convert({**full, "location": {**PUBLIC["location"], "address": "2 New Street"}}, type=Record)
    assert withdrawn(json.dumps(full), moved)


def node_publisher() -> str:
    return "sp1:" + "a" * 26
