"""Property tests: the merge is commutative, associative and idempotent (spec §5.2),
and the decoders only ever raise SignpostError on hostile bytes (spec §3.3)."""

from __future__ import annotations

import contextlib
import hashlib
import json
from functools import lru_cache
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import envelope as dsse
from protocol.envelope import decode_envelope
from protocol.errors import SignpostError
from protocol.feed import decode_node_document, decode_page
from protocol.keylog import make_genesis, verify_keylog
from protocol.keys import keyid_for, private_key_from_seed
from protocol.merge import Held, winners
from protocol.payload import parse_payload
from protocol.records import decode_version
from protocol.verify import open_record

Key = tuple[str, str]


@lru_cache(maxsize=1)
def pool() -> list[tuple[Key, Held]]:
    """Real signed versions: 3 records x 4 revs x (2 record variants + a tombstone).

    Few revs and two variants per rev make equal-rev collisions (equivocation) common.
    """
    signer = private_key_from_seed(hashlib.sha256(b"merge property signer").digest())
    recovery = private_key_from_seed(hashlib.sha256(b"merge property recovery").digest())
    log = verify_keylog([make_genesis([keyid_for(signer.public_key())], recovery, created="2024-01-01T00:00:00Z")])
    out = []
    for rid in ("a", "b", "c"):
        for rev in (1, 2, 3, 4):
            bodies: list[dict[str, Any]] = [
                {
                    "publisher": log.publisher,
                    "id": rid,
                    "rev": rev,
                    "updated": "2024-01-01T00:00:00Z",
                    "kind": "group",
                    "name": f"variant {variant}",
                }
                for variant in ("x", "y")
            ]
            bodies.append(
                {
                    "publisher": log.publisher,
                    "id": rid,
                    "rev": rev,
                    "updated": "2024-01-01T00:00:00Z",
                    "kind": "group",
                    "deleted": True,
                }
            )
            for body in bodies:
                env = dsse.seal(json.dumps(body).encode(), dsse.RECORD_TYPE, signer)
                opened = open_record(env, log, now_us=10**15)
                out.append(((opened.version.publisher, opened.version.id), Held(opened.version.rev, opened.digest)))
    return out


versions = st.lists(st.integers(min_value=0, max_value=35), max_size=40).map(lambda ix: [pool()[i] for i in ix])


@settings(max_examples=200, deadline=None)
@given(versions, st.randoms(use_true_random=False))
def test_merge_is_commutative(vs: list[tuple[Key, Held]], rnd: Any) -> None:
    shuffled = list(vs)
    rnd.shuffle(shuffled)
    assert winners(vs) == winners(shuffled)


@settings(max_examples=200, deadline=None)
@given(versions, versions, versions)
def test_merge_is_associative(a: list[tuple[Key, Held]], b: list[tuple[Key, Held]], c: list[tuple[Key, Held]]) -> None:
    left = winners([*winners([*winners(a).items(), *b]).items(), *c])
    right = winners([*a, *winners([*b, *c]).items()])
    assert left == right == winners([*a, *b, *c])


@settings(max_examples=200, deadline=None)
@given(versions, st.data())
def test_merge_is_idempotent_under_duplicates(vs: list[tuple[Key, Held]], data: st.DataObject) -> None:
    extra = data.draw(st.lists(st.sampled_from(vs), max_size=20)) if vs else []
    once = winners(vs)
    assert winners([*vs, *extra]) == once
    assert winners([*once.items(), *vs]) == once


@settings(max_examples=200, deadline=None)
@given(versions)
def test_merge_winner_is_highest_rev_then_lowest_digest(vs: list[tuple[Key, Held]]) -> None:
    for key, held in winners(vs).items():
        candidates = [h for k, h in vs if k == key]
        assert held == max(candidates, key=lambda h: (h.rev, [-b for b in h.digest]))


# --- fuzz: hostile bytes only ever raise SignpostError -----------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
json_bytes = json_values.map(lambda v: json.dumps(v).encode())
record_like = st.fixed_dictionaries(
    {
        "publisher": st.sampled_from(["sp1:" + "a" * 26, "x"]),
        "id": st.text(max_size=5),
        "rev": st.integers(),
        "updated": st.text(max_size=25),
        "kind": st.sampled_from(["group", "event", "nope"]),
        "name": st.text(),
    },
    optional={
        "deleted": st.booleans(),
        "private": st.booleans(),
        "location": json_values,
        "contact": json_values,
        "schedule": json_values,
        "topics": json_values,
    },
).map(lambda v: json.dumps(v).encode())
hostile = st.binary(max_size=300) | json_bytes | record_like


def only_signpost_errors(fn: Any, data: bytes) -> None:
    with contextlib.suppress(SignpostError):
        fn(data)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_parse_payload_only_raises_signpost_errors(data: bytes) -> None:
    only_signpost_errors(parse_payload, data)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_decode_version_only_raises_signpost_errors(data: bytes) -> None:
    only_signpost_errors(decode_version, data)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_decode_envelope_only_raises_signpost_errors(data: bytes) -> None:
    only_signpost_errors(decode_envelope, data)


@settings(max_examples=300, deadline=None)
@given(hostile)
def test_decode_page_and_node_document_only_raise_signpost_errors(data: bytes) -> None:
    only_signpost_errors(decode_page, data)
    only_signpost_errors(decode_node_document, data)
