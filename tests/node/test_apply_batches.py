"""Applying a page as one batch holds exactly what applying it version by version holds."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from node.storage.ledger import apply_version, apply_versions
from node.storage.store import connect, init_schema, transaction
from protocol import envelope as dsse
from protocol.keylog import make_genesis, verify_keylog
from protocol.keys import keyid_for
from protocol.publish import rfc3339, seal_version, tombstone_for
from protocol.records import Record
from protocol.verify import Opened

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
LOG = verify_keylog([make_genesis([keyid_for(KEY.public_key())], KEY, created="2026-01-01T00:00:00Z")])


def version(rid: str, rev: int, name: str, tomb: bool) -> tuple[Opened, bytes]:
    v = (
        tombstone_for(LOG.publisher, rid, "group", rev)
        if tomb
        else Record(publisher=LOG.publisher, id=rid, rev=rev, updated=rfc3339(rev), kind="group", name=name)
    )
    env, body = seal_version(v, KEY)
    return Opened(
        version=v, body=body, digest=dsse.pae_digest(dsse.RECORD_TYPE, body), keyid=keyid_for(KEY.public_key())
    ), dsse.encode_envelope(env)


versions = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(1, 4), st.sampled_from(["x", "y"]), st.booleans()),
    min_size=1,
    max_size=12,
)


def state(conn: sqlite3.Connection) -> tuple[object, ...]:
    held = conn.execute("SELECT id, rev, digest, deleted FROM versions ORDER BY change").fetchall()
    listed = conn.execute("SELECT id, name FROM listings ORDER BY id").fetchall()
    return held, listed


@settings(max_examples=80, deadline=None)
@given(script=versions, cut=st.integers(0, 12))
def test_batched_and_one_by_one_application_agree(script: list[tuple[str, int, str, bool]], cut: int) -> None:
    made = [version(rid, rev, name, tomb) for rid, rev, name, tomb in script]
    with tempfile.TemporaryDirectory() as tmp:
        one = connect(Path(tmp) / "one.db")
        batched = connect(Path(tmp) / "batched.db")
        for conn in (one, batched):
            init_schema(conn)
        with transaction(one):
            singles = [apply_version(one, o, e, via=None, now_us=1).outcome for o, e in made]
        with transaction(batched):
            pages = apply_versions(batched, made[:cut], via=None, now_us=1) + apply_versions(
                batched, made[cut:], via=None, now_us=1
            )
        assert [d.outcome for d in pages] == singles
        assert state(one) == state(batched)
        one.close()
        batched.close()
