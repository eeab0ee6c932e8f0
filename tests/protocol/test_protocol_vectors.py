"""Every vector file in spec/vectors/ run through protocol/ (spec §9)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from signpost_spec_support import load_vectors, to_envelope, to_envelopes

from protocol import envelope as dsse
from protocol.errors import SignpostError
from protocol.feed import check_walk_step, decode_page
from protocol.keylog import verify_keylog
from protocol.merge import Held, decide, winners
from protocol.records import decode_version
from protocol.verify import open_record

ENVELOPES = load_vectors("envelopes.json")["cases"]
PAE = load_vectors("pae.json")["cases"]
KEYLOGS = load_vectors("keylogs.json")["cases"]
PAYLOADS = load_vectors("payloads.json")["cases"]
MERGE = load_vectors("merge.json")
FEED_WALKS = load_vectors("feed-walks.json")["cases"]


def _names(cases: list[dict[str, Any]]) -> list[str]:
    return [c["name"] for c in cases]


def test_envelope_vectors_have_exactly_the_published_shape() -> None:
    doc = load_vectors("envelopes.json")
    assert list(doc) == ["cases"]
    for case in doc["cases"]:
        assert set(case) == {"name", "keylog", "envelope", "valid", "reason", "now_us"}
        assert isinstance(case["valid"], bool) and case["valid"] == (case["reason"] == "")


@pytest.mark.parametrize("case", ENVELOPES, ids=_names(ENVELOPES))
def test_envelope_vector(case: dict[str, Any]) -> None:
    def run() -> None:
        log = verify_keylog(to_envelopes(case["keylog"]))
        open_record(to_envelope(case["envelope"]), log, now_us=case["now_us"])

    if case["valid"]:
        run()
    else:
        with pytest.raises(SignpostError) as info:
            run()
        assert info.value.reason == case["reason"]


def test_envelope_vectors_cover_the_required_cases() -> None:
    reasons = {c["reason"] for c in ENVELOPES}
    for needed in (
        "bad-signature",
        "unknown-key",
        "revoked-key",
        "duplicate-key",
        "non-integer-number",
        "lone-surrogate",
        "invalid-utf8",
        "wrong-publisher",
        "private-with-address",
        "forbidden-field",
        "contact-without-consent",
        "tombstone-with-content",
        "invalid-envelope",
        "bad-key",
        "from-the-future",
    ):
        assert needed in reasons
    names = set(_names(ENVELOPES))
    assert {
        "rfc8032-test-key-1-signs-a-record",
        "non-canonical-s-plus-l",
        "small-order-public-key",
        "wrong-payload-type",
        "valid-tombstone",
        "non-ascii-payload-lengths-in-bytes",
    } <= names


def test_rfc8032_test_key_1_is_the_signer_of_the_first_vector() -> None:
    case = next(c for c in ENVELOPES if c["name"] == "rfc8032-test-key-1-signs-a-record")
    raw = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    assert (
        case["envelope"]["signatures"][0]["keyid"] == "ed25519:" + base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    )


def test_non_ascii_vector_has_more_bytes_than_characters() -> None:
    case = next(c for c in ENVELOPES if c["name"] == "non-ascii-payload-lengths-in-bytes")
    body = base64.b64decode(case["envelope"]["payload"])
    assert len(body) > len(body.decode("utf-8"))


@pytest.mark.parametrize("case", PAE, ids=_names(PAE))
def test_pae_vector(case: dict[str, Any]) -> None:
    body = base64.b64decode(case["payload"])
    assert dsse.pae(case["payloadType"], body).hex() == case["pae_hex"]
    assert dsse.pae_digest(case["payloadType"], body).hex() == case["sha256_hex"]


@pytest.mark.parametrize("case", KEYLOGS, ids=_names(KEYLOGS))
def test_keylog_vector(case: dict[str, Any]) -> None:
    envs = to_envelopes(case["keylog"])
    if not case["valid"]:
        with pytest.raises(SignpostError) as info:
            verify_keylog(envs)
        assert info.value.reason == case["reason"]
        return
    log = verify_keylog(envs)
    assert log.publisher == case["publisher"]
    assert sorted(log.authorised) == case["authorised"]
    assert sorted(log.signing) == case["signing"]
    assert sorted(log.recovery) == case["recovery"]
    assert sorted(log.revoked) == case["revoked"]
    assert log.head == case["head"]
    assert [{"prev": f.prev, "kept": f.kept, "dropped": list(f.dropped)} for f in log.forks] == case["forks"]
    # The publisher id is checkable from the genesis alone, and passing it in selects that genesis.
    assert verify_keylog(envs, publisher=case["publisher"]).publisher == case["publisher"]


@pytest.mark.parametrize("case", PAYLOADS, ids=_names(PAYLOADS))
def test_payload_vector(case: dict[str, Any]) -> None:
    body = base64.b64decode(case["payload"])
    if case["valid"]:
        decode_version(body)
        return
    with pytest.raises(SignpostError) as info:
        decode_version(body)
    assert (info.value.reason, getattr(info.value, "path", None)) == (case["reason"], case["path"])


MERGE_OUTCOMES = {"new", "replaces", "same", "loses"}


@pytest.mark.parametrize("case", MERGE["cases"], ids=_names(MERGE["cases"]))
def test_merge_script(case: dict[str, Any]) -> None:
    logs = {pub: verify_keylog(to_envelopes(envs)) for pub, envs in MERGE["keylogs"].items()}
    held: dict[tuple[str, str], Held] = {}
    accepted: list[tuple[tuple[str, str], Held]] = []
    for step in case["steps"]:
        env = to_envelope(step["envelope"])
        publisher = json.loads(base64.b64decode(env.payload))["publisher"]
        if step["outcome"] not in MERGE_OUTCOMES:
            with pytest.raises(SignpostError) as info:
                open_record(env, logs[publisher], now_us=case["now_us"])
            assert info.value.reason == step["outcome"]
            continue
        opened = open_record(env, logs[publisher], now_us=case["now_us"])
        key = (opened.version.publisher, opened.version.id)
        incoming = Held(opened.version.rev, opened.digest)
        decision = decide(held.get(key), incoming)
        assert (decision.outcome.value, decision.equivocation) == (step["outcome"], step["equivocation"])
        if decision.store:
            held[key] = incoming
        accepted.append((key, incoming))
    want = {(w["publisher"], w["id"]): (w["rev"], w["digest"]) for w in case["winners"]}
    assert {k: (h.rev, h.digest.hex()) for k, h in held.items()} == want
    # The same versions in reverse order merge to the same winners.
    assert {k: (h.rev, h.digest.hex()) for k, h in winners(reversed(accepted)).items()} == want


@pytest.mark.parametrize("case", FEED_WALKS, ids=_names(FEED_WALKS))
def test_feed_walk(case: dict[str, Any]) -> None:
    for step in case["steps"]:
        page = decode_page(json.dumps(step["page"]).encode())
        if step["ok"]:
            check_walk_step(step["after"], page)
        else:
            with pytest.raises(SignpostError) as info:
                check_walk_step(step["after"], page)
            assert info.value.reason == step["reason"], step["why"]
