"""A second Signpost verifier, written only from spec/signpost-v1.md.

It imports nothing from protocol/: only the standard library and the Ed25519
primitive from ``cryptography``.  It reaches the verdict (accept or reject) of
every case in spec/vectors/envelopes.json, which shows the spec can be
implemented alone.  Reasons are reported where the spec names them, but only
the verdict is asserted.
"""

from __future__ import annotations

import ast
import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

VECTORS = Path(__file__).resolve().parents[2] / "spec" / "vectors" / "envelopes.json"
RECORD_TYPE = "application/vnd.signpost.record+json"
KEYLOG_TYPE = "application/vnd.signpost.keylog+json"


class Reject(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- §1 encodings -------------------------------------------------------------------


def b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Reject("invalid-envelope") from None


def b64url(text: str) -> bytes:
    if "=" in text or not re.fullmatch(r"[A-Za-z0-9_-]*", text):
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- §3.2 PAE and §3.3 strict Ed25519 -------------------------------------------------


def pae(ptype: str, body: bytes) -> bytes:
    t = ptype.encode()
    return b"DSSEv1 " + str(len(t)).encode() + b" " + t + b" " + str(len(body)).encode() + b" " + body


L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19
SMALL = {
    bytes.fromhex(h)
    for h in [
        "01" + "00" * 31,
        "00" * 32,
        "00" * 31 + "80",
        "01" + "00" * 30 + "80",
        "ec" + "ff" * 30 + "7f",
        "ec" + "ff" * 31,
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ]
}


def public_key(keyid: str, reason: str) -> Ed25519PublicKey:
    if not keyid.startswith("ed25519:"):
        raise Reject(reason)
    try:
        raw = b64url(keyid[8:])
    except (ValueError, binascii.Error):
        raise Reject(reason) from None
    if len(raw) != 32 or raw in SMALL or int.from_bytes(raw, "little") & ((1 << 255) - 1) >= P:
        raise Reject(reason)
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise Reject(reason) from None


def verifies(keyid: str, message: bytes, sig_b64: str) -> bool:
    try:
        sig = base64.b64decode(sig_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    if len(sig) != 64 or int.from_bytes(sig[32:], "little") >= L:
        return False
    try:
        public_key(keyid, "unknown-key").verify(sig, message)
    except (InvalidSignature, Reject):
        return False
    return True


# --- §3.4 payload rules ---------------------------------------------------------------

NONCHAR = re.compile(
    "[\ufdd0-\ufdef" + "".join(chr(p * 0x10000 + 0xFFFE) + chr(p * 0x10000 + 0xFFFF) for p in range(17)) + "]"
)


class Obj(list[tuple[str, Any]]):
    """A JSON object kept as its member list, so duplicates stay visible."""


class NotInteger:
    pass


def strict_json(body: bytes) -> dict[str, Any]:
    if len(body) > 65536:
        raise Reject("too-large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Reject("invalid-utf8") from None
    if text.startswith("\ufeff"):
        raise Reject("bom")
    decoder = json.JSONDecoder(
        object_pairs_hook=Obj, parse_float=lambda _: NotInteger(), parse_constant=lambda _: NotInteger()
    )
    try:
        stripped = text.strip(" \t\r\n")
        value, end = decoder.raw_decode(stripped)
    except (ValueError, RecursionError):
        raise Reject("not-json") from None
    if end != len(stripped):
        raise Reject("not-json")
    if not isinstance(value, Obj):
        raise Reject("not-object")
    out: dict[str, Any] = walk(value, 0)
    return out


def walk(v: Any, depth: int) -> Any:
    if depth > 16:
        raise Reject("too-deep")
    if isinstance(v, Obj):
        names = [k for k, _ in v]
        if len(set(names)) != len(names):
            raise Reject("duplicate-key")
        out = {}
        for k, item in v:
            if not k.isascii():
                raise Reject("non-ascii-key")
            out[k] = walk(item, depth + 1)
        return out
    if isinstance(v, list):
        return [walk(x, depth + 1) for x in v]
    if isinstance(v, NotInteger):
        raise Reject("non-integer-number")
    if isinstance(v, str):
        try:
            v.encode("utf-8")
        except UnicodeEncodeError:
            raise Reject("lone-surrogate") from None
        if NONCHAR.search(v):
            raise Reject("noncharacter")
    if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53 - 1:
        raise Reject("integer-range")
    return v


# --- §2 records, §5.4 tombstones, §8 privacy ------------------------------------------

KINDS = {"group", "service", "event", "role", "training", "resource", "organisation"}
PUBLISHER = r"sp1:[a-z2-7]{26}"
RECORD_ID = r"[a-z0-9][a-z0-9._-]{0,79}"
TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})"
LAT, LON = r"-?\d{1,2}\.\d{1,6}", r"-?\d{1,3}\.\d{1,6}"
TIME = r"([01]\d|2[0-3]):[0-5]\d"


def need(ok: bool, reason: str = "invalid-record") -> None:
    if not ok:
        raise Reject(reason)


def is_str(v: Any, pattern: str | None = None, max_len: int | None = None) -> bool:
    return (
        isinstance(v, str)
        and (pattern is None or re.fullmatch(pattern, v) is not None)
        and (max_len is None or len(v) <= max_len)
    )


def optional(obj: dict[str, Any], key: str, check: Any) -> None:
    if obj.get(key) is not None:
        need(check(obj[key]))


def date_ok(v: Any) -> None:
    need(is_str(v, r"\d{4}-\d{2}-\d{2}"))
    try:
        dt.date.fromisoformat(v)
    except ValueError:
        raise Reject("bad-date") from None


def check_identity(p: dict[str, Any]) -> None:
    for k in ("publisher", "id", "rev", "updated", "kind"):
        need(k in p)
    need(is_str(p["publisher"], PUBLISHER) and is_str(p["id"], RECORD_ID) and is_str(p["updated"], TIMESTAMP))
    need(isinstance(p["rev"], int) and not isinstance(p["rev"], bool) and 0 <= p["rev"] <= 2**53 - 1)
    need(p["kind"] in KINDS)


def check_location(loc: Any) -> None:
    need(isinstance(loc, dict) and loc.get("type") in ("public", "area"))
    if loc["type"] == "area":
        need(set(loc) <= {"type", "area", "postcode_area", "lat", "lon"}, "forbidden-field")
        need(is_str(loc.get("area"), None, 200))
        optional(loc, "postcode_area", lambda v: is_str(v, r"[A-Z]{1,2}\d[A-Z\d]?( \d)?"))
    else:
        optional(loc, "postcode", lambda v: is_str(v, r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}"))
    optional(loc, "lat", lambda v: is_str(v, LAT))
    optional(loc, "lon", lambda v: is_str(v, LON))


def check_contact(c: Any) -> None:
    need(isinstance(c, dict))
    need(c.get("consent") is True, "contact-without-consent")
    need(set(c) <= {"consent", "name", "email", "phone"}, "forbidden-field")
    optional(c, "email", lambda v: is_str(v, r"[^@\s]{1,64}@[^@\s]{1,190}"))
    optional(c, "phone", lambda v: is_str(v, r"\+?[0-9 ()-]{3,30}"))


def check_schedule(s: Any) -> None:
    need(isinstance(s, dict))
    for rule in s.get("rules", []):
        need(isinstance(rule, dict) and rule.get("freq") in ("weekly", "monthly"))
        for day in rule.get("byday", []):
            need(is_str(day, r"(-?[1-5])?(MO|TU|WE|TH|FR|SA|SU)"))
            need(rule["freq"] == "monthly" or len(day) == 2, "bad-schedule")
        for k in ("opens", "closes"):
            optional(rule, k, lambda v: is_str(v, TIME))
        for k in ("starts", "until"):
            if rule.get(k) is not None:
                date_ok(rule[k])
    for one in [*s.get("dates", []), *s.get("exceptions", [])]:
        need(isinstance(one, dict))
        date_ok(one.get("date"))


def check_payload(p: dict[str, Any]) -> None:
    """§2 and §5.4, enough of the field table for every rule the vectors exercise and more."""
    if p.get("deleted") is True:
        need(set(p) == {"publisher", "id", "rev", "updated", "kind", "deleted"}, "tombstone-with-content")
        check_identity(p)
        return
    check_identity(p)
    need(p.get("deleted", False) is False)
    need(is_str(p.get("name"), None, 200) and len(p["name"]) >= 1)
    optional(p, "summary", lambda v: is_str(v, None, 500))
    need(isinstance(p.get("private", False), bool))
    need(p.get("delivery", "in_person") in ("in_person", "online", "phone", "hybrid"))
    need(p.get("status", "active") in ("active", "paused", "closed"))
    need(
        isinstance(p.get("topics", []), list)
        and all(is_str(t, r"[a-z0-9][a-z0-9-]{0,39}") for t in p.get("topics", []))
    )
    if p.get("location") is not None:
        check_location(p["location"])
    if p.get("contact") is not None:
        check_contact(p["contact"])
    if p.get("schedule") is not None:
        check_schedule(p["schedule"])
    if p.get("reviewed") is not None:
        date_ok(p["reviewed"])
    if p.get("private") is True and isinstance(p.get("location"), dict):
        need(p["location"].get("type") != "public", "private-with-address")


# --- §4.3 key logs -------------------------------------------------------------------


def signed_by(env: dict[str, Any], body: bytes, keys: set[str], revoked: set[str]) -> None:
    ids = [s["keyid"] for s in env["signatures"]]
    if not any(k in keys for k in ids):
        raise Reject("revoked-key" if any(k in revoked for k in ids) else "not-recovery-key")
    message = pae(env["payloadType"], body)
    if not any(s["keyid"] in keys and verifies(s["keyid"], message, s["sig"]) for s in env["signatures"]):
        raise Reject("bad-signature")


def verify_keylog(envs: list[dict[str, Any]]) -> tuple[str, set[str], set[str]]:
    """Return (publisher id, authorised keys, revoked keys)."""
    need(bool(envs), "empty")
    entries: dict[str, tuple[dict[str, Any], bytes, dict[str, Any]]] = {}
    for env in envs:
        need(env.get("payloadType") == KEYLOG_TYPE, "wrong-payload-type")
        body = b64(env["payload"])
        try:
            e = strict_json(body)
        except Reject:
            raise Reject("malformed-entry") from None
        need(
            e.get("op") in ("genesis", "rotate")
            and isinstance(e.get("recovery"), list)
            and len(e["recovery"]) >= 1
            and isinstance(e.get("signing"), list)
            and is_str(e.get("created"), TIMESTAMP),
            "malformed-entry",
        )
        entries[hashlib.sha256(body).hexdigest()] = (env, body, e)
    geneses = [h for h, (_, _, e) in entries.items() if e["op"] == "genesis"]
    need(len(geneses) == 1, "genesis-count")
    head = geneses[0]
    env, body, g = entries[head]
    need("prev" not in g and not g.get("revoked"), "malformed-entry")
    signed_by(env, body, set(g["recovery"]), set())
    for k in [*g["signing"], *g["recovery"]]:
        public_key(k, "bad-key")
    children: dict[str, list[str]] = {}
    for h, (_, _, e) in entries.items():
        if h != head:
            need(e["op"] == "rotate" and isinstance(e.get("prev"), str), "malformed-entry")
            children.setdefault(e["prev"], []).append(h)
    recovery, revoked, ever = set(g["recovery"]), set(), set(g["signing"])
    while head in children:
        candidates = sorted(children.pop(head))
        for h in candidates:
            env, body, _ = entries[h]
            signed_by(env, body, recovery, revoked)
        lost = candidates[1:]
        while lost:  # the fork rule: discard the losing branches whole
            lost.extend(children.pop(lost.pop(), []))
        head = candidates[0]
        e = entries[head][2]
        for k in [*e["signing"], *e["recovery"]]:
            public_key(k, "bad-key")
        revoked |= set(e.get("revoked", []))
        recovery = set(e["recovery"]) - revoked
        ever |= set(e["signing"])
        need(bool(recovery), "no-recovery")
    need(not children, "broken-chain")
    genesis_body = entries[geneses[0]][1]
    publisher = "sp1:" + base64.b32encode(hashlib.sha256(genesis_body).digest()).decode().lower()[:26]
    return publisher, ever - revoked, revoked


# --- §3.5 opening a record version -----------------------------------------------------


def open_record(keylog: list[dict[str, Any]], env: dict[str, Any], now_us: int) -> dict[str, Any]:
    publisher, authorised, revoked = verify_keylog(keylog)
    need(env.get("payloadType") == RECORD_TYPE, "invalid-envelope")
    ids = [s["keyid"] for s in env["signatures"]]
    if not any(k in authorised for k in ids):
        raise Reject("revoked-key" if any(k in revoked for k in ids) else "unknown-key")
    body = b64(env["payload"])
    message = pae(RECORD_TYPE, body)
    need(
        any(s["keyid"] in authorised and verifies(s["keyid"], message, s["sig"]) for s in env["signatures"]),
        "bad-signature",
    )
    payload = strict_json(body)
    check_payload(payload)
    need(payload["publisher"] == publisher, "wrong-publisher")
    need(payload["rev"] <= now_us + 600_000_000, "from-the-future")
    return payload


CASES = json.loads(VECTORS.read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_independent_verifier_reaches_the_vector_verdict(case: dict[str, Any]) -> None:
    try:
        open_record(case["keylog"], case["envelope"], case["now_us"])
        verdict, reason = True, ""
    except Reject as e:
        verdict, reason = False, e.reason
    assert verdict == case["valid"], (
        f"independent verifier said {reason or 'valid'}; the vector says {case['reason'] or 'valid'}"
    )


def test_independent_verifier_names_the_same_reasons_for_most_cases() -> None:
    """Not required by the spec (§9.2), but a sign the reason table is clear enough to follow."""
    agree = 0
    for case in CASES:
        try:
            open_record(case["keylog"], case["envelope"], case["now_us"])
            reason = ""
        except Reject as e:
            reason = e.reason
        agree += reason == case["reason"]
    assert agree >= len(CASES) - 2


def test_independent_verifier_imports_nothing_from_protocol() -> None:
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert {m.split(".")[0] for m in imported} <= {
        "__future__",
        "ast",
        "base64",
        "binascii",
        "datetime",
        "hashlib",
        "json",
        "re",
        "pathlib",
        "typing",
        "pytest",
        "cryptography",
    }


KEYLOG_CASES = json.loads((VECTORS.parent / "keylogs.json").read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("case", KEYLOG_CASES, ids=[c["name"] for c in KEYLOG_CASES])
def test_independent_verifier_reaches_the_keylog_vector_verdict(case: dict[str, Any]) -> None:
    try:
        publisher, authorised, revoked = verify_keylog(case["keylog"])
    except Reject as e:
        assert not case["valid"], f"independent verifier said {e.reason}; the vector says valid"
        return
    assert case["valid"], f"independent verifier accepted; the vector says {case['reason']}"
    assert (publisher, sorted(authorised), sorted(revoked)) == (case["publisher"], case["authorised"], case["revoked"])
