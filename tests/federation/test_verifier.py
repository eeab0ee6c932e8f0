"""Checking on worker processes reaches exactly the verdicts checking in-process does."""

from __future__ import annotations

import msgspec
from hostile import HostilePeer

from node.federation.verifier import ItemIn, Verifier, check_batch
from node.storage.ledger import Landing, landing
from protocol.keylog import verify_keylog


def hostile_items() -> tuple[list[ItemIn], dict[str, object]]:
    peer = HostilePeer()
    items = [
        ItemIn(i, raw["id"], raw["kind"], raw["state"], msgspec.json.encode(raw["data"]))
        for i, raw in enumerate(peer.items * 8)  # enough items to use the workers
    ]
    items.append(ItemIn(len(items), f"{peer.me.publisher}/no-data", "group", "deleted", b""))
    return items, {
        peer.me.publisher: verify_keylog([peer.me.genesis]),
        peer.other.publisher: verify_keylog([peer.other.genesis]),
    }


def comparable(outcomes: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    out = []
    for o in sorted(outcomes, key=lambda o: o[1]):
        if o[0] == "ok":
            out.append(("ok", o[1], o[2] if isinstance(o[2], Landing) else landing(o[2])))
        else:
            out.append(tuple(o))
    return out


async def test_worker_processes_and_in_process_checks_agree_item_by_item() -> None:
    items, keylogs = hostile_items()
    now = 1_795_000_000_000_000
    verifier = Verifier(workers=2)
    try:
        pooled = await verifier.check(items, keylogs, now_us=now)  # type: ignore[arg-type]
    finally:
        verifier.close()
    local = check_batch(items, keylogs, now_us=now)  # type: ignore[arg-type]
    assert comparable(pooled) == comparable(local)
    # What a worker verified comes back ready to merge: the pulling process decodes no payload again.
    assert all(isinstance(o[2], Landing) for o in pooled if o[0] == "ok")
    kinds = {o[0] for o in local}
    assert kinds == {"ok", "rejected", "unknown", "future"}
