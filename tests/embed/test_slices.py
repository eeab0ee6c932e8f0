"""Slice feeds (spec §6.5): a follower of a slice ends with exactly the records that match it now."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from node.directory.slices import parse_slice, slice_rows
from node.storage.store import connect
from nodeutil import NodeHandle, make_node
from protocol.feed import FeedPage

SLICE = {"kind": "group", "near": "LS6", "within": "5km"}
PLACES: dict[str, dict[str, Any]] = {
    "near": {
        "delivery": "in_person",
        "location": {
            "type": "public",
            "name": "Community hall",
            "postcode": "LS6 3HN",
            "area": "Headingley",
            "lat": "53.8200",
            "lon": "-1.5760",
        },
    },
    "far": {
        "delivery": "in_person",
        "location": {
            "type": "public",
            "name": "Town hall",
            "postcode": "SW2 1RW",
            "area": "Brixton",
            "lat": "51.4600",
            "lon": "-0.1160",
        },
    },
    "online": {"delivery": "online"},
}


def fields(kind: str, place: str, status: str, n: int) -> dict[str, Any]:
    return {"kind": kind, "name": f"Listing {n}", "status": status, **PLACES[place]}


def expected(model: dict[str, tuple[str, str, str] | None]) -> set[str]:
    """The oracle, written from the slice's meaning: live groups, not closed, near LS6 or joinable online."""
    return {
        rid
        for rid, v in model.items()
        if v is not None and v[0] == "group" and v[2] != "closed" and v[1] in ("near", "online")
    }


class Follower:
    """Applies slice pages the way a harvester does: updated stores, deleted removes."""

    def __init__(self) -> None:
        self.cursor = 0
        self.held: dict[str, bytes] = {}

    def walk(self, conn: sqlite3.Connection, pages: int | None, *, page_size: int = 3) -> None:
        sl = parse_slice(SLICE)
        n = 0
        while pages is None or n < pages:
            rows = slice_rows(conn, sl, self.cursor, page_size)
            if not rows:
                return
            for row in rows:
                rid = row.id
                if row.data is not None:
                    self.held[rid] = row.data
                else:
                    self.held.pop(rid, None)
                self.cursor = row.change
            n += 1


_edit = st.one_of(
    st.tuples(
        st.just("publish"),
        st.integers(0, 2),
        st.sampled_from(["group", "service"]),
        st.sampled_from(list(PLACES)),
        st.sampled_from(["active", "paused", "closed"]),
    ),
    st.tuples(st.just("delete"), st.integers(0, 2)),
)
# Each edit is followed by partial walks: (which follower, how many pages), and sometimes a new follower joins at 0.
ops = st.lists(
    st.tuples(_edit, st.lists(st.tuples(st.integers(0, 2), st.integers(0, 3)), min_size=1, max_size=2), st.booleans()),
    min_size=1,
    max_size=20,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=ops)
@example(
    script=[
        (("publish", 0, "group", "near", "active"), [(0, 1)], False),
        (("publish", 0, "service", "near", "active"), [], False),
    ]
)
@example(
    script=[
        (("publish", 0, "group", "online", "active"), [(0, 1)], False),
        (("publish", 0, "group", "online", "closed"), [], True),
    ]
)
def test_slice_follower_ends_with_exactly_the_matching_records(script: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        node = make_node(Path(tmp) / "n")
        conn = connect(node.directory / "signpost.db")
        try:
            model: dict[str, tuple[str, str, str] | None] = {}
            followers = [Follower()]
            for n, (edit, walks, join) in enumerate(script):
                if edit[0] == "publish":
                    _, i, kind, place, status = edit
                    node.publish([(f"r{i}", fields(kind, place, status, n))])
                    model[f"r{i}"] = (kind, place, status)
                elif model.get(f"r{edit[1]}") is not None:
                    node.delete(f"r{edit[1]}")
                    model[f"r{edit[1]}"] = None
                for which, pages in walks:
                    followers[which % len(followers)].walk(conn, pages)
                if join:
                    followers.append(Follower())
            for f in followers:
                f.walk(conn, None)
                assert set(f.held) == expected(model)
        finally:
            conn.close()


def test_every_change_appears_in_the_slice_with_the_right_state(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n")
    node.publish(
        [
            ("a", fields("group", "near", "active", 1)),
            ("b", fields("service", "near", "active", 2)),
            ("c", fields("group", "far", "active", 3)),
        ]
    )
    node.delete("a")
    node.publish([("c", fields("group", "near", "active", 4))])
    conn = connect(node.directory / "signpost.db")
    try:
        rows = slice_rows(conn, parse_slice(SLICE), 0, 500)
        full = conn.execute("SELECT change FROM versions ORDER BY change").fetchall()
    finally:
        conn.close()
    assert [r.change for r in rows] == [c for (c,) in full]
    by_id = {r.id: r for r in rows}
    assert by_id["a"].tombstone is not None and by_id["a"].data is None  # deleted: with its tombstone
    assert by_id["b"].tombstone is None and by_id["b"].data is None  # not in the slice: bare deleted
    assert by_id["c"].data is not None  # moved into the slice


async def test_slice_feed_keeps_its_parameters_in_next_and_matches_the_page_schema(
    client: Any, leeds: NodeHandle
) -> None:
    url = "/feed?kind=group&near=LS6&within=10&afterChangeNumber=0"
    resp = await client.get(url)
    assert resp.status == 200
    page = msgspec.json.decode(await resp.read(), type=FeedPage)
    assert "kind=group&near=LS6&within=10&afterChangeNumber=" in page.next
    states = {(i.state, i.data is not None, i.tombstone is not None) for i in page.items}
    assert states <= {("updated", True, False), ("deleted", False, False), ("deleted", False, True)}
    assert ("updated", True, False) in states and ("deleted", False, False) in states
    last = await client.get(page.next.split(str(client.server.port), 1)[1])
    body = await last.json()
    assert body["items"] == [] and body["next"] == page.next
    again = await client.get(
        page.next.split(str(client.server.port), 1)[1], headers={"If-None-Match": last.headers["ETag"]}
    )
    assert again.status == 304


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("when=today", "cannot be limited to a time"),
        ("kind=nonsense", "kind"),
        ("within=5km", "needs a place"),
        ("near=Nowhereville", "near"),
        ("colour=red", "unknown parameter"),
    ],
)
async def test_bad_slices_get_a_clear_400(client: Any, query: str, needle: str) -> None:
    resp = await client.get(f"/feed?{query}")
    assert resp.status == 400
    body = await resp.json()
    assert body["ok"] is False and needle in body["error"]


async def test_unfiltered_feed_is_unchanged(client: Any) -> None:
    """No filter: every deleted item still carries its tombstone, and next has no slice parameters."""
    body = await (await client.get("/feed")).json()
    assert body["next"].split("/feed?")[1].startswith("afterChangeNumber=")
    assert all(i["state"] == "updated" for i in body["items"])
