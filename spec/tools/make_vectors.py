"""Generate the test vectors in ``spec/vectors/`` (spec §9).

Deterministic: every key comes from a fixed seed (RFC 8032 test key 1 among
them), every timestamp is written out, and Ed25519 signing is deterministic,
so running this twice writes the same bytes.  ``tests/protocol`` regenerates
the files in memory and fails when the committed ones drift.

The expected verdicts are declared here by hand, next to each case, from the
spec; they are never computed by calling the code under test.  While it
generates, this script also runs every case through ``protocol/`` and stops
with a message if the library disagrees with what the case declares, so a
vector file cannot be committed that the reference library fails.

Run: ``python spec/tools/make_vectors.py`` (writes the files) or
``python spec/tools/make_vectors.py --check`` (exit 1 on drift).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol import envelope as dsse
from protocol.errors import SignpostError
from protocol.feed import check_walk_step, decode_page
from protocol.keylog import KeyLog, make_genesis, make_rotation, publisher_id, verify_keylog
from protocol.keys import keyid_for, private_key_from_seed
from protocol.merge import Held, decide, winners
from protocol.records import decode_version
from protocol.verify import MAX_SKEW_US, open_record

__all__ = ["VECTOR_DIR", "render_vectors", "main"]

VECTOR_DIR = Path(__file__).resolve().parent.parent / "vectors"

RFC8032_KEY1_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_KEY1_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
L = 2**252 + 27742317777372353535851937790883648493
IDENTITY = bytes.fromhex("01" + "00" * 31)  # the neutral point: order 1

REV = 1_717_200_000_000_000  # 2024-06-01T00:00:00Z in microseconds
UPDATED = "2024-06-01T00:00:00Z"
FAR_FUTURE_US = 4_102_444_800_000_000  # 2100-01-01: no case trips the clock by accident


class VectorMismatch(Exception):
    """The library disagrees with what a vector declares."""


def seed_key(label: str) -> Ed25519PrivateKey:
    return private_key_from_seed(hashlib.sha256(b"signpost-v1 test vector key: " + label.encode()).digest())


def kid(key: Ed25519PrivateKey) -> str:
    return keyid_for(key.public_key())


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def env_json(env: dsse.Envelope) -> dict[str, Any]:
    out: dict[str, Any] = msgspec.to_builtins(env)
    return out


def compact(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def raw_envelope(payload: bytes, payload_type: str, keyid: str, sig: bytes) -> dsse.Envelope:
    return dsse.Envelope(
        payloadType=payload_type, payload=b64(payload), signatures=[dsse.Signature(keyid=keyid, sig=b64(sig))]
    )


def reason_of(run: Callable[[], object]) -> str:
    try:
        run()
    except SignpostError as e:
        return e.reason
    return ""


def expect(name: str, got: object, want: object) -> None:
    if got != want:
        raise VectorMismatch(f"vector {name!r}: protocol/ gives {got!r}, the vector declares {want!r}")


# --- The cast: keys and key logs -------------------------------------------------

K1 = private_key_from_seed(RFC8032_KEY1_SEED)
assert K1.public_key().public_bytes_raw() == RFC8032_KEY1_PUBLIC
R1 = seed_key("recovery 1")
R2 = seed_key("recovery 2")
R3 = seed_key("recovery 3")
K2 = seed_key("signing 2")
K3 = seed_key("signing 3")
STRANGER = seed_key("stranger")
B_SIGN = seed_key("publisher b signing")
B_REC = seed_key("publisher b recovery")
SMALL_ORDER_KEYID = keyid_for(IDENTITY)


@dataclass
class Cast:
    """Key logs the cases share; built once so ids and hashes are stable."""

    log_a: list[dsse.Envelope]  # genesis: signing [K1], recovery [R1]
    log_b: list[dsse.Envelope]  # another publisher
    log_rotated: list[dsse.Envelope]  # genesis [K2]/[R1, R2], then rotate to [K3], K2 retired
    log_revoked: list[dsse.Envelope]  # genesis [K2]/[R1, R2], then rotate to [K3] revoking K2
    log_small: list[dsse.Envelope]  # genesis naming the small-order point as a signing key

    @property
    def pub_a(self) -> str:
        return publisher_id(dsse.payload_bytes(self.log_a[0]))

    @property
    def pub_b(self) -> str:
        return publisher_id(dsse.payload_bytes(self.log_b[0]))

    @property
    def pub_rotated(self) -> str:
        return publisher_id(dsse.payload_bytes(self.log_rotated[0]))

    @property
    def pub_revoked(self) -> str:
        return publisher_id(dsse.payload_bytes(self.log_revoked[0]))

    @property
    def pub_small(self) -> str:
        return publisher_id(dsse.payload_bytes(self.log_small[0]))


def build_cast() -> Cast:
    log_a = [make_genesis([kid(K1)], R1, created="2024-01-01T00:00:00Z")]
    log_b = [make_genesis([kid(B_SIGN)], B_REC, created="2024-01-02T00:00:00Z")]
    g2 = make_genesis([kid(K2)], R1, created="2024-02-01T00:00:00Z", extra_recovery=[kid(R2)])
    state = verify_keylog([g2])
    rotated = [g2, make_rotation(state, R1, signing=[kid(K3)], created="2024-03-01T00:00:00Z")]
    g3 = make_genesis([kid(K2)], R1, created="2024-02-02T00:00:00Z", extra_recovery=[kid(R2)])
    revoked = [
        g3,
        make_rotation(verify_keylog([g3]), R1, signing=[kid(K3)], revoked=[kid(K2)], created="2024-03-02T00:00:00Z"),
    ]
    small = [make_genesis([SMALL_ORDER_KEYID], R1, created="2024-01-03T00:00:00Z")]
    return Cast(log_a, log_b, rotated, revoked, small)


def record(publisher: str, rid: str = "tuesday-hearing-voices", **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "publisher": publisher,
        "id": rid,
        "rev": REV,
        "updated": UPDATED,
        "kind": "group",
        "name": "Hearing Voices Group",
        "summary": "A peer support group for people who hear voices.",
        "topics": ["hearing-voices"],
        "delivery": "in_person",
        "schedule": {"rules": [{"freq": "weekly", "byday": ["TU"], "opens": "10:30", "closes": "12:30"}]},
        "location": {"type": "public", "name": "Community Hub", "address": "1 Example Street, Leeds",
                     "postcode": "LS6 1AA", "lat": "53.81940", "lon": "-1.57560"},
        "join": {"method": "drop_in"},
        "cost": {"free": True},
        "status": "active",
        "reviewed": "2024-05-20",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def tombstone(publisher: str, rid: str = "tuesday-hearing-voices", rev: int = REV) -> dict[str, Any]:
    return {"publisher": publisher, "id": rid, "rev": rev, "updated": UPDATED, "kind": "group", "deleted": True}


def sealed(body: bytes, key: Ed25519PrivateKey, payload_type: str = dsse.RECORD_TYPE) -> dsse.Envelope:
    return dsse.seal(body, payload_type, key)


# --- envelopes.json ---------------------------------------------------------------


def envelope_cases(c: Cast) -> list[dict[str, Any]]:
    a = c.pub_a
    good = compact(record(a))
    good_env = sealed(good, K1)
    cases: list[tuple[str, list[dsse.Envelope], dsse.Envelope, bool, str, int]] = []

    def add(name: str, log: list[dsse.Envelope], env: dsse.Envelope, reason: str, now: int = FAR_FUTURE_US) -> None:
        cases.append((name, log, env, reason == "", reason, now))

    add("rfc8032-test-key-1-signs-a-record", c.log_a, good_env, "")
    add("non-ascii-payload-lengths-in-bytes", c.log_a, sealed(compact(record(
        a, name="Café Côte — “Voices” 🌈", summary="Grŵp cymorth i bobl sy’n clywed lleisiau.")), K1), "")
    add("private-group-with-area-location", c.log_a, sealed(compact(record(
        a, private=True, location={"type": "area", "area": "Headingley", "postcode_area": "LS6 3",
                                  "lat": "53.8200", "lon": "-1.5800"})), K1), "")
    add("valid-tombstone", c.log_a, sealed(compact(tombstone(a)), K1), "")
    add("unknown-top-level-field-is-accepted", c.log_a, sealed(compact(record(a, x_future_field={"note": "kept"})), K1), "")
    add("contact-with-consent", c.log_a, sealed(compact(record(
        a, contact={"consent": True, "name": "Sam", "email": "sam@example.org"})), K1), "")
    rot = c.pub_rotated
    add("key-rotated-out-stays-valid", c.log_rotated, sealed(compact(record(rot)), K2), "")
    add("new-key-after-rotation", c.log_rotated, sealed(compact(record(rot)), K3), "")
    second = dsse.Envelope(payloadType=good_env.payloadType, payload=good_env.payload, signatures=[
        dsse.Signature(keyid=kid(STRANGER), sig=b64(STRANGER.sign(dsse.pae(dsse.RECORD_TYPE, good)))),
        *good_env.signatures])
    add("unknown-extra-signature-is-ignored", c.log_a, second, "")
    add("rev-within-ten-minutes-of-now", c.log_a, good_env, "", now=REV - MAX_SKEW_US)

    tampered = dsse.Envelope(payloadType=good_env.payloadType, payload=b64(good.replace(b"Hearing Voices", b"Hearing Choices")),
                             signatures=good_env.signatures)
    add("tampered-payload", c.log_a, tampered, "bad-signature")
    add("signed-by-unauthorised-key", c.log_a, sealed(good, STRANGER), "unknown-key")
    add("signed-by-recovery-key-not-signing-key", c.log_a, sealed(good, R1), "unknown-key")
    add("signed-by-revoked-key", c.log_revoked, sealed(compact(record(c.pub_revoked)), K2), "revoked-key")
    sig = K1.sign(dsse.pae(dsse.RECORD_TYPE, good))
    s_plus_l = (int.from_bytes(sig[32:], "little") + L).to_bytes(32, "little")
    add("non-canonical-s-plus-l", c.log_a, raw_envelope(good, dsse.RECORD_TYPE, kid(K1), sig[:32] + s_plus_l), "bad-signature")
    # R = identity, S = 0 verifies for any message under a small-order key in a
    # lax verifier (OpenSSL accepts it); the key log naming that key is refused.
    add("small-order-public-key", c.log_small, raw_envelope(compact(record(c.pub_small)), dsse.RECORD_TYPE,
                                                             SMALL_ORDER_KEYID, IDENTITY + bytes(32)), "bad-key")
    add("wrong-payload-type", c.log_a, sealed(good, K1, dsse.KEYLOG_TYPE), "invalid-envelope")
    as_keylog = sealed(good, K1, dsse.KEYLOG_TYPE)
    replayed = dsse.Envelope(payloadType=dsse.RECORD_TYPE, payload=as_keylog.payload, signatures=as_keylog.signatures)
    add("signature-replayed-across-payload-types", c.log_a, replayed, "bad-signature")
    add("duplicate-keys", c.log_a, sealed(good[:-1] + b',"name":"Another name"}', K1), "duplicate-key")
    add("float-number", c.log_a, sealed(good.replace(b'"lat":"53.81940"', b'"lat":53.8194'), K1), "non-integer-number")
    add("lone-surrogate", c.log_a, sealed(good.replace(b'"Hearing Voices Group"', b'"Hearing Voices \\ud800 Group"'), K1), "lone-surrogate")
    add("invalid-utf8", c.log_a, sealed(good.replace(b"Hearing Voices", b"Hearing \xff Voices"), K1), "invalid-utf8")
    add("unicode-noncharacter", c.log_a, sealed(good.replace(b"Hearing Voices", b"Hearing \\uffff Voices"), K1), "noncharacter")
    add("record-naming-another-publisher", c.log_a, sealed(compact(record(c.pub_b)), K1), "wrong-publisher")
    add("private-group-with-address", c.log_a, sealed(compact(record(a, private=True)), K1), "private-with-address")
    add("area-location-with-extra-address", c.log_a, sealed(compact(record(
        a, private=True, location={"type": "area", "area": "Headingley", "address": "1 Example Street"})), K1), "forbidden-field")
    add("area-location-with-full-postcode", c.log_a, sealed(compact(record(
        a, private=True, location={"type": "area", "area": "Headingley", "postcode_area": "LS6 3AB"})), K1), "invalid-record")
    add("contact-without-consent", c.log_a, sealed(compact(record(
        a, contact={"name": "Sam", "phone": "0113 000 0000"})), K1), "contact-without-consent")
    add("tombstone-with-content", c.log_a, sealed(compact({**tombstone(a), "name": "Hearing Voices Group"}), K1),
        "tombstone-with-content")
    add("payload-not-base64", c.log_a, dsse.Envelope(payloadType=dsse.RECORD_TYPE, payload="not base64!",
                                                     signatures=good_env.signatures), "invalid-envelope")
    add("from-the-future", c.log_a, good_env, "from-the-future", now=REV - MAX_SKEW_US - 1)

    out = []
    for name, log, env, valid, reason, now in cases:
        def run() -> None:
            open_record(env, verify_keylog(log), now_us=now)
        expect(name, reason_of(run), reason)
        out.append({"name": name, "keylog": [env_json(e) for e in log], "envelope": env_json(env),
                    "valid": valid, "reason": reason, "now_us": now})
    return out


# --- pae.json ---------------------------------------------------------------------


def pae_cases() -> list[dict[str, Any]]:
    table = [
        ("record-ascii", dsse.RECORD_TYPE, b'{"id":"a"}'),
        ("record-non-ascii", dsse.RECORD_TYPE, "{\"name\":\"Caf\u00e9 \U0001f308\"}".encode()),
        ("keylog-type", dsse.KEYLOG_TYPE, b'{"op":"genesis"}'),
        ("empty-payload", dsse.RECORD_TYPE, b""),
        ("payload-with-spaces-and-newline", dsse.RECORD_TYPE, b'{ "a" : 1 }\n'),
        ("dsse-spec-example", "http://example.com/HelloWorld", b"hello world"),
    ]
    out = []
    for name, ptype, payload in table:
        t = ptype.encode()
        want = b"DSSEv1 " + str(len(t)).encode() + b" " + t + b" " + str(len(payload)).encode() + b" " + payload
        expect(name, dsse.pae(ptype, payload), want)
        out.append({"name": name, "payloadType": ptype, "payload": b64(payload), "pae_hex": want.hex(),
                    "sha256_hex": hashlib.sha256(want).hexdigest()})
    return out


# --- keylogs.json -----------------------------------------------------------------


def keylog_cases(c: Cast) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = []

    def add(name: str, log: list[dsse.Envelope], reason: str, *, authorised: list[str] | None = None,
            signing: list[str] | None = None, recovery: list[str] | None = None, revoked: list[str] | None = None,
            forks: list[dict[str, Any]] | None = None) -> None:
        got_reason = reason_of(lambda: verify_keylog(log))
        expect(name, got_reason, reason)
        case: dict[str, Any] = {"name": name, "keylog": [env_json(e) for e in log], "valid": reason == "", "reason": reason}
        if reason == "":
            state = verify_keylog(log)
            genesis_body = next(b for b in map(dsse.payload_bytes, log) if json.loads(b)["op"] == "genesis")
            want_pub = "sp1:" + base64.b32encode(hashlib.sha256(genesis_body).digest()).decode().lower()[:26]
            want = {"publisher": want_pub, "authorised": sorted(authorised or []), "signing": sorted(signing or []),
                    "recovery": sorted(recovery or []), "revoked": sorted(revoked or []), "forks": forks or []}
            got = {"publisher": state.publisher, "authorised": sorted(state.authorised), "signing": sorted(state.signing),
                   "recovery": sorted(state.recovery), "revoked": sorted(state.revoked),
                   "forks": [{"prev": f.prev, "kept": f.kept, "dropped": list(f.dropped)} for f in state.forks]}
            expect(name, got, want)
            case.update(want)
            case["head"] = state.head
        cases.append(case)

    add("genesis", c.log_a, "", authorised=[kid(K1)], signing=[kid(K1)], recovery=[kid(R1)])
    add("genesis-served-twice", c.log_a * 2, "", authorised=[kid(K1)], signing=[kid(K1)], recovery=[kid(R1)])
    add("rotation-retires-a-key", c.log_rotated, "", authorised=[kid(K2), kid(K3)], signing=[kid(K3)],
        recovery=[kid(R1), kid(R2)])
    add("rotation-entries-in-any-order", list(reversed(c.log_rotated)), "", authorised=[kid(K2), kid(K3)],
        signing=[kid(K3)], recovery=[kid(R1), kid(R2)])
    add("revocation", c.log_revoked, "", authorised=[kid(K3)], signing=[kid(K3)], recovery=[kid(R1), kid(R2)],
        revoked=[kid(K2)])

    # Recovery-key rotation: R2 (still in force) replaces a lost R1 and revokes it.
    g = c.log_rotated[0]
    st = verify_keylog([g])
    rec = make_rotation(st, R2, signing=[kid(K3)], recovery=[kid(R2), kid(R3)], revoked=[kid(R1)],
                        created="2024-04-01T00:00:00Z")
    recovered = [g, rec]
    add("recover-with-second-recovery-key", recovered, "", authorised=[kid(K2), kid(K3)], signing=[kid(K3)],
        recovery=[kid(R2), kid(R3)], revoked=[kid(R1)])
    st2 = verify_keylog(recovered)
    after_revoked = make_rotation(
        KeyLog(publisher=st2.publisher, chain=st2.chain, entries=st2.entries, signing=st2.signing,
               recovery=frozenset({kid(R1)}), revoked=frozenset(), ever_signing=st2.ever_signing, head=st2.head),
        R1, signing=[kid(K1)], created="2024-04-02T00:00:00Z")
    add("entry-signed-by-revoked-recovery-key", [*recovered, after_revoked], "revoked-key")

    # A fork: two valid entries name the genesis as prev; the lower payload hash wins,
    # and the losing branch (with its child) is discarded and reported.
    fa = make_rotation(st, R1, signing=[kid(K3)], created="2024-05-01T00:00:00Z")
    fb = make_rotation(st, R2, signing=[kid(K1)], created="2024-05-01T00:00:01Z")
    ha, hb = (hashlib.sha256(dsse.payload_bytes(e)).hexdigest() for e in (fa, fb))
    win, lose = (fa, fb) if ha < hb else (fb, fa)
    win_key, lose_key = (kid(K3), kid(K1)) if win is fa else (kid(K1), kid(K3))
    lose_state = verify_keylog([g, lose])
    lose_child = make_rotation(lose_state, R1, signing=[kid(STRANGER)], created="2024-05-02T00:00:00Z")
    h_win, h_lose = (hashlib.sha256(dsse.payload_bytes(e)).hexdigest() for e in (win, lose))
    add("fork-lower-payload-hash-wins", [g, lose, lose_child, win], "", authorised=sorted([kid(K2), win_key]),
        signing=[win_key], recovery=[kid(R1), kid(R2)],
        forks=[{"prev": hashlib.sha256(dsse.payload_bytes(g)).hexdigest(), "kept": h_win, "dropped": [h_lose]}])
    assert lose_key not in (kid(K2), win_key)

    orphan_parent = make_rotation(st, R1, signing=[kid(K3)], created="2024-06-01T00:00:00Z")
    orphan = make_rotation(verify_keylog([g, orphan_parent]), R1, signing=[kid(K1)], created="2024-06-02T00:00:00Z")
    add("broken-chain", [g, orphan], "broken-chain")
    add("genesis-signed-by-non-recovery-key",
        [sealed(dsse.payload_bytes(c.log_a[0]), K1, dsse.KEYLOG_TYPE)], "not-recovery-key")
    add("rotation-signed-by-a-signing-key", [g, sealed(dsse.payload_bytes(c.log_rotated[1]), K2, dsse.KEYLOG_TYPE)],
        "not-recovery-key")
    r = c.log_rotated[1]
    add("tampered-entry", [g, dsse.Envelope(payloadType=r.payloadType, payload=b64(dsse.payload_bytes(r).replace(b"2024-03", b"2024-09")),
                                             signatures=r.signatures)], "bad-signature")
    add("two-geneses", [c.log_a[0], c.log_b[0]], "genesis-count")
    add("empty", [], "empty")
    add("wrong-payload-type", [sealed(dsse.payload_bytes(c.log_a[0]), R1, dsse.RECORD_TYPE)], "wrong-payload-type")
    add("genesis-names-small-order-key", c.log_small, "bad-key")
    add("revoking-every-recovery-key", [g, make_rotation(st, R1, signing=[kid(K2)], recovery=[kid(R1)],
                                                        revoked=[kid(R1)], created="2024-07-01T00:00:00Z")], "no-recovery")
    add("genesis-with-prev", [sealed(compact({"op": "genesis", "signing": [kid(K1)], "recovery": [kid(R1)],
                                               "prev": "0" * 64, "created": "2024-01-01T00:00:00Z"}), R1, dsse.KEYLOG_TYPE)],
        "malformed-entry")
    return cases


# --- payloads.json ----------------------------------------------------------------


def payload_cases(c: Cast) -> list[dict[str, Any]]:
    a = c.pub_a
    good = compact(record(a))
    minimal = compact({"publisher": a, "id": "x", "rev": 0, "updated": "2024-06-01T00:00:00.123456+01:00",
                       "kind": "resource", "name": "Evaluation form"})
    full = compact(record(
        a, rid="monthly.carers_cafe-2", kind="event", description="Long text\nwith lines.", audience="Carers",
        topics=["carers", "a-topic-from-the-future"], delivery="hybrid", private=False,
        schedule={"rules": [{"freq": "monthly", "interval": 1, "byday": ["1MO", "-1FR"], "opens": "18:00",
                             "closes": "01:00", "starts": "2024-01-01", "until": "2024-12-31"},
                            {"freq": "weekly", "interval": 2, "byday": ["WE"]}],
                  "dates": [{"date": "2024-07-04", "opens": "10:00", "closes": "12:00"}],
                  "exceptions": [{"date": "2024-12-25", "cancelled": True, "note": "Christmas"},
                                 {"date": "2024-08-05", "cancelled": False, "moved_to": {"date": "2024-08-06"}}],
                  "not_on_bank_holidays": True, "text": "First Monday and last Friday of the month"},
        join={"method": "booking", "details": "Book online", "url": "https://example.org/book"},
        cost={"free": False, "details": "£2 donation"}, accessibility=["Step-free access", "Hearing loop"],
        languages=["en", "cy", "pa-Guru"], contact={"consent": True, "name": "Sam", "email": "sam@example.org",
                                                   "phone": "+44 113 000 0000"},
        website="https://example.org", organisation={"name": "Example Mind", "ref": "charity-123", "url": "https://example.org"},
        role={"paid": True, "hours": "7.5 a week", "closes": "2024-09-01"}, status="paused"))
    deep = b'{"publisher":"' + a.encode() + b'","x":' + b"[" * 20 + b"]" * 20 + b"}"
    big = b'{"description":"' + b"x" * (64 * 1024) + b'"}'

    table: list[tuple[str, bytes, str, str]] = [
        ("minimal-record", minimal, "", ""),
        ("full-record", full, "", ""),
        ("tombstone", compact(tombstone(a)), "", ""),
        ("whitespace-around-json", b" \n\t" + good + b"\r\n ", "", ""),
        ("escaped-ascii-key", good.replace(b'"summary"', b'"\\u0073ummary"'), "", ""),
        ("service-area", compact(record(a, delivery="phone", service_area=["Lambeth", "SW9"])), "", ""),
        ("service-area-empty-name", compact(record(a, service_area=[""])), "invalid-record", "$.service_area[0]"),
        ("unknown-field-kept-for-forward-compatibility", compact(record(a, x_new={"deep": [1, 2, 3]})), "", ""),
        ("largest-safe-integer", compact(record(a, x_count=2**53 - 1)), "", ""),
        ("non-ascii-values", compact(record(a, name="Grŵp Lleisiau 👂")), "", ""),
        ("duplicate-key-top-level", good[:-1] + b',"id":"other"}', "duplicate-key", "$.id"),
        ("duplicate-key-nested", good.replace(b'"join":{"method":"drop_in"}', b'"join":{"method":"drop_in","method":"booking"}'),
         "duplicate-key", "$.join.method"),
        ("float", good.replace(b'"lat":"53.81940"', b'"lat":53.8194'), "non-integer-number", "$.location.lat"),
        ("exponent", good.replace(b'"rev":' + str(REV).encode(), b'"rev":1.7172e15'), "non-integer-number", "$.rev"),
        ("integer-written-with-fraction", good.replace(b'"rev":' + str(REV).encode(), b'"rev":' + str(REV).encode() + b".0"),
         "non-integer-number", "$.rev"),
        ("nan", good[:-1] + b',"x":NaN}', "non-integer-number", "$.x"),
        ("integer-beyond-2-53", compact(record(a, x_count=2**53)), "integer-range", "$.x_count"),
        ("non-ascii-key", good[:-1] + ',"café":1}'.encode(), "non-ascii-key", '$["caf\\u00e9"]'),
        ("lone-surrogate", good.replace(b'"Hearing Voices Group"', b'"\\udc00"'), "lone-surrogate", "$.name"),
        ("noncharacter", good.replace(b'"Hearing Voices Group"', "\"\ufdd0\"".encode()), "noncharacter", "$.name"),
        ("invalid-utf8-byte", good.replace(b"Hearing Voices", b"\xc3\x28"), "invalid-utf8", "$"),
        ("overlong-utf8", good.replace(b"Hearing Voices", b"\xc0\xaf"), "invalid-utf8", "$"),
        ("utf8-encoded-surrogate", good.replace(b"Hearing Voices", b"\xed\xa0\x80"), "invalid-utf8", "$"),
        ("byte-order-mark", b"\xef\xbb\xbf" + good, "bom", "$"),
        ("top-level-array", b"[" + good + b"]", "not-object", "$"),
        ("trailing-data", good + b"{}", "not-json", "$"),
        ("not-json", b"{publisher: 1}", "not-json", "$"),
        ("too-deep", deep, "too-deep", "$.x" + "[0]" * 16),
        ("too-large", big, "too-large", "$"),
        ("private-with-address", compact(record(a, private=True)), "private-with-address", "$.location"),
        ("area-with-address", compact(record(a, location={"type": "area", "area": "Headingley", "address": "1 Street"})),
         "forbidden-field", "$.location"),
        ("contact-without-consent", compact(record(a, contact={"email": "sam@example.org"})), "contact-without-consent", "$.contact"),
        ("contact-consent-false", compact(record(a, contact={"consent": False, "email": "sam@example.org"})),
         "contact-without-consent", "$.contact.consent"),
        ("contact-with-extra-field", compact(record(a, contact={"consent": True, "address": "1 Street"})),
         "forbidden-field", "$.contact"),
        ("tombstone-with-content", compact({**tombstone(a), "summary": "gone"}), "tombstone-with-content", "$"),
        ("not-a-calendar-date", compact(record(a, reviewed="2024-02-30")), "bad-date", "$.reviewed"),
        ("ordinal-weekday-in-weekly-rule", compact(record(a, schedule={"rules": [{"freq": "weekly", "byday": ["1MO"]}]})),
         "bad-schedule", "$.schedule.rules[0].byday"),
        ("bad-record-id", compact(record(a, rid="Has Spaces")), "invalid-record", "$.id"),
        ("unknown-kind", compact(record(a, kind="meetup")), "invalid-record", "$.kind"),
        ("coordinate-too-precise", compact(record(a, location={"type": "public", "lat": "53.1234567"})), "invalid-record",
         "$.location.lat"),
        ("missing-name", compact({k: v for k, v in record(a).items() if k != "name"}), "invalid-record", "$"),
    ]
    out = []
    for name, body, reason, path in table:
        got_path = ""
        try:
            decode_version(body)
            got_reason = ""
        except SignpostError as e:
            got_reason = e.reason
            got_path = getattr(e, "path", "")
        expect(name, (got_reason, got_path), (reason, path))
        out.append({"name": name, "payload": b64(body), "valid": reason == "", "reason": reason, "path": path})
    return out


# --- merge.json -------------------------------------------------------------------


def merge_cases(c: Cast) -> list[dict[str, Any]]:
    a, b = c.pub_a, c.pub_b

    def v(rev: int, rid: str = "tuesday-hearing-voices", *, dead: bool = False, name: str = "Hearing Voices Group",
          key: Ed25519PrivateKey = K1, pub: str | None = None) -> dsse.Envelope:
        p = pub or a
        body = compact(tombstone(p, rid, rev) if dead else record(p, rid, rev=rev, name=name))
        return sealed(body, key)

    t0 = REV
    x1, x1b = v(t0 + 1), v(t0 + 1, name="Hearing Voices Group (new room)")
    dig = {id(e): hashlib.sha256(dsse.pae(e.payloadType, dsse.payload_bytes(e))).hexdigest() for e in (x1, x1b)}
    lo, hi = (x1, x1b) if dig[id(x1)] < dig[id(x1b)] else (x1b, x1)
    other_pub = v(t0, "walking-group", key=B_SIGN, pub=b)

    # Each step: (envelope, declared outcome). Outcomes: new, replaces, same, loses, or the
    # reason the envelope was refused before merging (it then changes nothing).
    scripts: list[tuple[str, list[tuple[dsse.Envelope, str, bool]]]] = [
        ("higher-rev-wins", [(v(t0), "new", False), (v(t0 + 5), "replaces", False)]),
        ("older-version-replayed-is-a-no-op", [(v(t0 + 5), "new", False), (v(t0), "loses", False)]),
        ("same-bytes-twice-is-idempotent", [(v(t0), "new", False), (v(t0), "same", False)]),
        ("equal-rev-lower-pae-digest-wins", [(hi, "new", False), (lo, "replaces", True)]),
        ("equal-rev-higher-pae-digest-loses", [(lo, "new", False), (hi, "loses", True)]),
        ("tombstone-wins-like-a-newer-version", [(v(t0), "new", False), (v(t0 + 1, dead=True), "replaces", False),
                                                  (v(t0), "loses", False)]),
        ("tombstone-for-unseen-record-is-stored", [(v(t0 + 9, dead=True), "new", False), (v(t0 + 3), "loses", False)]),
        ("republish-after-tombstone-with-higher-rev", [(v(t0 + 1, dead=True), "new", False), (v(t0 + 2), "replaces", False)]),
        ("records-are-keyed-by-publisher-and-id", [(v(t0, "a-group"), "new", False), (v(t0, "b-group"), "new", False),
                                                    (other_pub, "new", False), (v(t0 - 1, "a-group"), "loses", False)]),
        ("refused-versions-change-nothing", [(v(t0), "new", False), (v(t0 + 1, key=STRANGER), "unknown-key", False),
                                              (v(t0 + MAX_SKEW_US + 1), "from-the-future", False)]),
    ]
    logs = {a: [env_json(e) for e in c.log_a], b: [env_json(e) for e in c.log_b]}
    states = {a: verify_keylog(c.log_a), b: verify_keylog(c.log_b)}
    now = t0  # the receiver's clock: a rev more than 10 minutes past it is from the future
    out = []
    for name, steps in scripts:
        held: dict[tuple[str, str], Held] = {}
        winner_env: dict[tuple[str, str], tuple[dsse.Envelope, Any]] = {}
        rendered = []
        for env, outcome, equivocation in steps:
            body = dsse.payload_bytes(env)
            pub = json.loads(body)["publisher"]
            try:
                opened = open_record(env, states[pub], now_us=now)
            except SignpostError as e:
                expect(f"{name}: step {len(rendered)}", (e.reason, False), (outcome, equivocation))
                rendered.append({"envelope": env_json(env), "outcome": outcome, "equivocation": False})
                continue
            key = (opened.version.publisher, opened.version.id)
            incoming = Held(opened.version.rev, opened.digest)
            d = decide(held.get(key), incoming)
            expect(f"{name}: step {len(rendered)}", (d.outcome.value, d.equivocation), (outcome, equivocation))
            if d.store:
                held[key] = incoming
                winner_env[key] = (env, opened.version)
            rendered.append({"envelope": env_json(env), "outcome": outcome, "equivocation": equivocation})
        # Every order gives the same winners: check the fold against the declared final state.
        accepted = [(k, h) for k, h in held.items()]
        expect(name, winners(accepted), held)
        final = [{"publisher": k[0], "id": k[1], "rev": h.rev, "digest": h.digest.hex(),
                  "deleted": bool(getattr(winner_env[k][1], "deleted", False))}
                 for k, h in sorted(held.items())]
        out.append({"name": name, "now_us": now, "steps": rendered, "winners": final})
    return [{"keylogs": logs}, *out]


# --- feed-walks.json --------------------------------------------------------------


def feed_cases(c: Cast) -> list[dict[str, Any]]:
    a = c.pub_a
    base = "https://leeds.example/feed"
    data = env_json(sealed(compact(record(a)), K1))
    tomb = env_json(sealed(compact(tombstone(a)), K1))

    def item(n: int, state: str = "updated", *, with_data: bool | None = None, with_tomb: bool = False) -> dict[str, Any]:
        it: dict[str, Any] = {"state": state, "kind": "group", "id": f"{a}/tuesday-hearing-voices", "modified": n}
        if with_data if with_data is not None else state == "updated":
            it["data"] = data
        if with_tomb:
            it["tombstone"] = tomb
        return it

    def page(after: int | None, items: list[dict[str, Any]], next_after: int | str) -> dict[str, Any]:
        return {"next": f"{base}?afterChangeNumber={next_after}", "items": items,
                "license": "https://creativecommons.org/licenses/by/4.0/", "epoch": "2024-06-01T00:00:00Z"}

    walks: list[tuple[str, list[tuple[int | None, dict[str, Any], bool, str]]]] = [
        ("a-complete-walk", [
            (None, page(None, [item(1), item(2), item(4)], 4), True, "items ascend; next names the last item"),
            (4, page(4, [item(7), item(9, "deleted", with_tomb=True)], 9), True, "a deletion carries its tombstone"),
            (9, page(9, [], 9), True, "the last page is empty and its next repeats the cursor"),
        ]),
        ("slice-leave-without-tombstone", [
            (3, page(3, [item(5, "deleted")], 5), True, "in a filtered slice, deleted without a tombstone means 'left this slice'"),
        ]),
        ("first-page-empty", [(None, page(None, [], 0), True, "an empty feed")]),
        ("items-go-backwards", [(None, page(None, [item(3), item(2)], 2), False, "modified must strictly increase")]),
        ("equal-change-numbers", [(None, page(None, [item(3), item(3)], 3), False, "two items share a change number")]),
        ("item-at-the-cursor", [(5, page(5, [item(5), item(6)], 6), False,
                                 "an item equal to afterChangeNumber: the server used >= where > belongs")]),
        ("next-not-from-last-item", [(None, page(None, [item(1), item(2)], 1), False, "next must name the last item")]),
        ("last-page-next-moves", [(9, page(9, [], 10), False, "an empty page's next must equal the request")]),
        ("updated-without-data", [(None, page(None, [item(1, with_data=False)], 1), False, "an updated item needs data")]),
        ("deleted-with-data", [(None, page(None, [item(1, "deleted", with_data=True, with_tomb=True)], 1), False,
                                "RPDE forbids data on deleted items")]),
        ("updated-with-tombstone", [(None, page(None, [item(1, with_tomb=True)], 1), False,
                                     "a tombstone only travels on a deleted item")]),
        ("next-not-an-integer", [(None, page(None, [item(1)], "one"), False, "afterChangeNumber must be an integer")]),
        ("too-many-items", [(None, page(None, [item(n, "deleted") for n in range(1, 502)], 501), False, "at most 500 items a page")]),
    ]
    out = []
    for name, steps in walks:
        rendered = []
        for after, pg, ok, why in steps:
            def run() -> None:
                check_walk_step(after, decode_page(json.dumps(pg).encode()))
            got = reason_of(run)
            expect(f"{name}: step {len(rendered)}", got, "" if ok else "invalid-feed")
            rendered.append({"after": after, "page": pg, "ok": ok, "reason": "" if ok else "invalid-feed", "why": why})
        out.append({"name": name, "steps": rendered})
    return out


def render_vectors() -> dict[str, str]:
    """Return ``{file name: JSON text}`` exactly as the committed files should read."""
    c = build_cast()
    merge = merge_cases(c)
    files: dict[str, Any] = {
        "envelopes.json": {"cases": envelope_cases(c)},
        "pae.json": {"cases": pae_cases()},
        "keylogs.json": {"cases": keylog_cases(c)},
        "payloads.json": {"cases": payload_cases(c)},
        "merge.json": {"keylogs": merge[0]["keylogs"], "cases": merge[1:]},
        "feed-walks.json": {"cases": feed_cases(c)},
    }
    return {name: json.dumps(doc, indent=1, ensure_ascii=True) + "\n" for name, doc in files.items()}


def main(argv: list[str]) -> int:
    try:
        rendered = render_vectors()
    except VectorMismatch as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if "--check" in argv:
        drift = [n for n, t in rendered.items() if not (VECTOR_DIR / n).is_file() or (VECTOR_DIR / n).read_text() != t]
        for n in drift:
            print(f"drift: spec/vectors/{n} differs from the generator's output", file=sys.stderr)
        return 1 if drift else 0
    VECTOR_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (VECTOR_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote spec/vectors/{name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
