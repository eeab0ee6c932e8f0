"""Unit tests for the payload rules, record privacy rules, key log and merge table (spec §2–§5)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from protocol import envelope as dsse
from protocol.errors import FromTheFuture, InvalidKeyLog, InvalidPayload, InvalidRecord, SignpostError
from protocol.keylog import make_genesis, make_rotation, publisher_id, verify_keylog
from protocol.keys import keyid_for, private_key_from_seed
from protocol.merge import MERGE_TABLE, Decision, Held, Outcome, decide
from protocol.payload import parse_payload
from protocol.publish import next_rev, seal_version, tombstone_for
from protocol.records import AreaLocation, Record, Tombstone, decode_version
from protocol.verify import MAX_SKEW_US, check_clock, open_record

PUB = "sp1:" + "a" * 26


def key(label: str) -> Any:
    return private_key_from_seed(hashlib.sha256(label.encode()).digest())


def rec(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "publisher": PUB,
        "id": "g",
        "rev": 5,
        "updated": "2024-06-01T00:00:00Z",
        "kind": "group",
        "name": "A group",
    }
    base.update(fields)
    return json.dumps(base, separators=(",", ":")).encode()


PAYLOAD_RULES = [
    (b'{"a":1,"a":1}', "duplicate-key", "$.a"),
    (b'{"a":{"b":[1,{"c":1,"c":2}]}}', "duplicate-key", "$.a.b[1].c"),
    (b'{"a":0.5}', "non-integer-number", "$.a"),
    (b'{"a":[1E2]}', "non-integer-number", "$.a[0]"),
    (b'{"a":-Infinity}', "non-integer-number", "$.a"),
    (b'{"a":-9007199254740992}', "integer-range", "$.a"),
    (b'{"\\u00e9":1}', "non-ascii-key", '$["\\u00e9"]'),
    (b'{"a b":{"x":"\\ud83d"}}', "lone-surrogate", '$["a b"].x'),
    (b'{"a":"\\ufdef"}', "noncharacter", "$.a"),
    (b'{"a":"\xf4\x8f\xbf\xbf"}', "noncharacter", "$.a"),  # U+10FFFF
    (b'{"a":"\xff"}', "invalid-utf8", "$"),
    (b"\xef\xbb\xbf{}", "bom", "$"),
    (b"1", "not-object", "$"),
    (b'"text"', "not-object", "$"),
    (b"{} {}", "not-json", "$"),
    (b"", "not-json", "$"),
    (b'{"a":"\x01"}', "not-json", "$"),
    (b"[" * 100_000, "too-large", "$"),
    (b'{"a":' + b"[" * 17 + b"]" * 17 + b"}", "too-deep", "$.a" + "[0]" * 16),
]


@pytest.mark.parametrize(("body", "reason", "path"), PAYLOAD_RULES)
def test_payload_rule_rejects_with_reason_and_path(body: bytes, reason: str, path: str) -> None:
    with pytest.raises(InvalidPayload) as info:
        parse_payload(body)
    assert (info.value.reason, info.value.path) == (reason, path)


@pytest.mark.parametrize(
    "body",
    [
        b"{}",
        b' {"a": [1, -2, 9007199254740991, "x", true, false, null]} ',
        b'{"a":"\\ud83c\\udf08"}',
        '{"a":"Grŵp"}'.encode(),
        b'{"\\u0061":1}',
        b'{"a":-0}',
    ],
)
def test_payload_rule_accepts_strict_i_json(body: bytes) -> None:
    assert isinstance(parse_payload(body), dict)


def test_private_listing_with_area_location_is_accepted() -> None:
    v = decode_version(rec(private=True, location={"type": "area", "area": "Headingley", "postcode_area": "LS6"}))
    assert isinstance(v, Record) and isinstance(v.location, AreaLocation)


def test_private_listing_with_public_location_is_rejected() -> None:
    with pytest.raises(InvalidRecord) as info:
        decode_version(rec(private=True, location={"type": "public", "address": "1 Street"}))
    assert info.value.reason == "private-with-address"


@pytest.mark.parametrize("field", ["address", "postcode", "name", "venue", "street"])
def test_area_location_has_no_room_for_an_address(field: str) -> None:
    with pytest.raises(InvalidRecord) as info:
        decode_version(rec(location={"type": "area", "area": "Headingley", field: "1 Street, LS6 3AB"}))
    assert info.value.reason == "forbidden-field"


@pytest.mark.parametrize("postcode", ["LS6 3AB", "LS63AB", "ls6", "LS6 3A"])
def test_area_postcode_is_a_district_or_sector_never_a_full_postcode(postcode: str) -> None:
    with pytest.raises(InvalidRecord):
        decode_version(rec(location={"type": "area", "area": "Headingley", "postcode_area": postcode}))


@pytest.mark.parametrize("contact", [{"name": "Sam"}, {"consent": False, "name": "Sam"}, {"consent": "yes"}])
def test_contact_without_consent_is_rejected(contact: dict[str, Any]) -> None:
    with pytest.raises(InvalidRecord) as info:
        decode_version(rec(contact=contact))
    assert info.value.reason == "contact-without-consent"


def test_tombstone_carries_no_content() -> None:
    assert isinstance(decode_version(rec(deleted=True, name=None).replace(b',"name":null', b"")), Tombstone)
    with pytest.raises(InvalidRecord) as info:
        decode_version(rec(deleted=True))
    assert info.value.reason == "tombstone-with-content"


def test_record_with_deleted_false_is_a_record() -> None:
    assert isinstance(decode_version(rec(deleted=False)), Record)


def test_unknown_topic_slugs_are_accepted_for_growth() -> None:
    v = decode_version(rec(topics=["hearing-voices", "not-yet-in-the-list"]))
    assert isinstance(v, Record) and v.topics == ["hearing-voices", "not-yet-in-the-list"]


def test_publisher_id_is_sp1_and_26_chars_of_base32_sha256() -> None:
    body = b'{"op":"genesis"}'
    import base64

    want = "sp1:" + base64.b32encode(hashlib.sha256(body).digest()).decode().lower()[:26]
    assert publisher_id(body) == want and len(want) == 30


def test_keylog_publisher_id_survives_rotation() -> None:
    r, k1, k2 = key("r"), key("k1"), key("k2")
    g = make_genesis([keyid_for(k1.public_key())], r, created="2024-01-01T00:00:00Z")
    log = verify_keylog([g])
    rotated = verify_keylog(
        [g, make_rotation(log, r, signing=[keyid_for(k2.public_key())], created="2024-02-01T00:00:00Z")]
    )
    assert rotated.publisher == log.publisher
    assert keyid_for(k1.public_key()) in rotated.authorised  # retired, not revoked


def test_make_rotation_refuses_a_key_that_is_not_recovery() -> None:
    r, k1 = key("r"), key("k1")
    log = verify_keylog([make_genesis([keyid_for(k1.public_key())], r, created="2024-01-01T00:00:00Z")])
    with pytest.raises(InvalidKeyLog) as info:
        make_rotation(log, k1, signing=[], created="2024-02-01T00:00:00Z")
    assert info.value.reason == "not-recovery-key"


def test_revocation_voids_records_signed_before_it() -> None:
    r, k1, k2 = key("r"), key("k1"), key("k2")
    g = make_genesis([keyid_for(k1.public_key())], r, created="2024-01-01T00:00:00Z")
    before = verify_keylog([g])
    pub = before.publisher
    env, _ = seal_version(decode_version(rec(publisher=pub)), k1)  # type: ignore[arg-type]
    open_record(env, before, now_us=10**15)
    after = verify_keylog(
        [
            g,
            make_rotation(
                before,
                r,
                signing=[keyid_for(k2.public_key())],
                revoked=[keyid_for(k1.public_key())],
                created="2024-02-01T00:00:00Z",
            ),
        ]
    )
    with pytest.raises(SignpostError) as info:
        open_record(env, after, now_us=10**15)
    assert info.value.reason == "revoked-key"


def test_rev_is_never_reused_even_when_the_clock_steps_back() -> None:
    assert next_rev(100, 50) == 100
    assert next_rev(100, 200) == 201


def test_tombstone_for_is_a_valid_tombstone() -> None:
    t = tombstone_for(PUB, "g", "group", 1_717_200_000_000_000)
    assert decode_version(dsse.payload_bytes(seal_version(t, key("k"))[0])) == t


@pytest.mark.parametrize(
    ("rev", "now", "future"), [(MAX_SKEW_US, 0, False), (MAX_SKEW_US + 1, 0, True), (5, 10, False)]
)
def test_clock_skew_is_ten_minutes(rev: int, now: int, future: bool) -> None:
    if future:
        with pytest.raises(FromTheFuture):
            check_clock(rev, now)
    else:
        check_clock(rev, now)


# The merge table in words: (held, incoming) -> outcome, equivocation.
MERGE_CASES = [
    (None, Held(1, b"\x05"), Outcome.NEW, False),
    (Held(1, b"\x05"), Held(2, b"\x09"), Outcome.REPLACES, False),
    (Held(2, b"\x05"), Held(1, b"\x01"), Outcome.LOSES, False),
    (Held(2, b"\x05"), Held(2, b"\x05"), Outcome.SAME, False),
    (Held(2, b"\x05"), Held(2, b"\x01"), Outcome.REPLACES, True),
    (Held(2, b"\x05"), Held(2, b"\x09"), Outcome.LOSES, True),
]


@pytest.mark.parametrize(("held", "incoming", "outcome", "equivocation"), MERGE_CASES)
def test_merge_table(held: Held | None, incoming: Held, outcome: Outcome, equivocation: bool) -> None:
    assert decide(held, incoming) == Decision(outcome, equivocation)


def test_merge_table_covers_every_comparison() -> None:
    assert set(MERGE_TABLE) == {("gt", "*"), ("lt", "*"), ("eq", "eq"), ("eq", "lt"), ("eq", "gt")}
