"""This node retires its own ended listings with a signed tombstone after the grace period; the console
shows them and brings one back as a new version."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from admin_helpers import PASSWORD, sign_in
from aiohttp.test_utils import TestClient

from node.core.config import load_config
from node.core.errors import ConfigError, NotFound
from node.directory.schedule import LONDON
from node.publishing.retirement import restore, retire_due
from node.storage.store import connect, transaction
from node.web.app import create_app
from node.web.auth import write_password_hash
from node.web.passwords import hash_password
from node.web.views.admin.shared import ADMIN
from node.web.views.shared import CLOCK
from nodeutil import NodeHandle, make_node

FAIR = (
    "winter-fair",
    {
        "kind": "event",
        "name": "Winter Wellbeing Fair",
        "summary": "Stalls, tea and talks.",
        "schedule": {"dates": [{"date": "2026-12-05", "opens": "10:00", "closes": "15:00"}]},
    },
)
CIRCLE = (
    "december-circle",
    {
        "kind": "group",
        "name": "December Circle",
        "private": True,
        "location": {"type": "area", "area": "Headingley, Leeds", "postcode_area": "LS6 3"},
        "schedule": {"rules": [{"freq": "weekly", "byday": ["TU"], "until": "2026-12-15"}]},
    },
)
WEEKLY = ("weekly-group", {"kind": "group", "name": "Weekly Group", "schedule": {"rules": [{"freq": "weekly"}]}})


def at(day: str, hour: int = 9) -> dt.datetime:
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=LONDON)


def run_retire(node: NodeHandle, now: dt.datetime, days: int = 30) -> list[str]:
    conn = connect(node.directory / "signpost.db")
    try:
        with transaction(conn):
            return [r.id for r in retire_due(conn, node.directory, node.publisher, now=now, retire_after_days=days)]
    finally:
        conn.close()


def state(node: NodeHandle, rid: str) -> tuple[int, int]:
    deleted, rev = node.query("SELECT deleted, rev FROM versions WHERE id = ?", rid)[0]
    return int(deleted), int(rev)


@pytest.fixture
def node(tmp_path: Path) -> NodeHandle:
    handle = make_node(tmp_path / "leeds", "Leeds")
    handle.publish([FAIR, CIRCLE, WEEKLY])
    conn = connect(handle.directory / "signpost.db")
    with transaction(conn):
        conn.execute(
            "INSERT INTO private_places (id, venue, address, postcode) VALUES (?, ?, ?, ?)",
            ("december-circle", "Room 2", "1 Back Lane", "LS6 3AA"),
        )
    conn.close()
    return handle


def test_an_ended_event_is_tombstoned_only_after_the_grace_period(node: NodeHandle) -> None:
    assert run_retire(node, at("2026-12-06")) == []
    assert run_retire(node, at("2027-01-04")) == []  # 30 whole days after 5 December ends on 4 January
    assert run_retire(node, at("2027-01-05")) == ["winter-fair"]
    assert state(node, "winter-fair")[0] == 1
    assert node.query("SELECT count(*) FROM listings WHERE id = 'winter-fair'") == [(0,)]
    assert run_retire(node, at("2027-01-05")) == []  # once
    # A recurring listing with an end date goes the same way after its last occurrence.
    assert run_retire(node, at("2027-01-14")) == []
    assert run_retire(node, at("2027-01-15")) == ["december-circle"]
    assert state(node, "weekly-group")[0] == 0  # open-ended: never


def test_the_grace_period_comes_from_the_config(node: NodeHandle) -> None:
    assert run_retire(node, at("2026-12-09"), days=3) == ["winter-fair"]
    cfg = node.directory / "signpost.toml"
    assert load_config(node.directory).publishing.retire_after_days == 30
    cfg.write_text(cfg.read_text() + "\n[publishing]\nretire_after_days = 7\n")
    assert load_config(node.directory).publishing.retire_after_days == 7
    cfg.write_text(cfg.read_text().replace("retire_after_days = 7", "retire_after_day = 7"))
    with pytest.raises(ConfigError, match="retire_after_day"):
        load_config(node.directory)


def test_a_retired_private_group_keeps_its_place_on_this_node_only(node: NodeHandle) -> None:
    assert run_retire(node, at("2027-02-01")) == ["winter-fair", "december-circle"]
    assert node.query("SELECT count(*) FROM private_places WHERE id = 'december-circle'") == [(0,)]
    (place,) = node.query("SELECT place FROM retired WHERE id = 'december-circle'")[0]
    assert json.loads(place) == ["Room 2", "1 Back Lane", "LS6 3AA"]
    envelope = node.query("SELECT envelope FROM versions WHERE id = 'december-circle'")[0][0]
    assert b"Back Lane" not in bytes(envelope)


def test_a_restored_listing_is_published_again_with_a_new_rev_and_stays(node: NodeHandle) -> None:
    run_retire(node, at("2027-02-01"))
    _, tomb_rev = state(node, "december-circle")
    conn = connect(node.directory / "signpost.db")
    try:
        with transaction(conn):
            assert restore(conn, node.directory, node.publisher, "december-circle", now=at("2027-02-01")) == (
                "December Circle"
            )
        with transaction(conn), pytest.raises(NotFound):
            restore(conn, node.directory, node.publisher, "december-circle", now=at("2027-02-01"))
    finally:
        conn.close()
    deleted, rev = state(node, "december-circle")
    assert deleted == 0 and rev > tomb_rev
    assert node.query("SELECT venue FROM private_places WHERE id = 'december-circle'") == [("Room 2",)]
    assert run_retire(node, at("2027-03-01")) == []  # brought back on purpose: not retired again for the same dates
    node.publish([("december-circle", {**CIRCLE[1], "schedule": {"dates": [{"date": "2027-03-02"}]}})])
    assert run_retire(node, at("2027-04-02")) == ["december-circle"]  # new dates, and they passed too


async def test_console_lists_what_retired_and_brings_one_back(node: NodeHandle, aiohttp_client: Any) -> None:
    write_password_hash(node.directory, hash_password(PASSWORD))
    run_retire(node, at("2027-01-05"))
    app = create_app(load_config(node.directory), sync=False)
    app[ADMIN].clock = lambda: at("2027-01-05")
    app[CLOCK] = lambda: at("2027-01-05")
    client: TestClient = await aiohttp_client(app)
    csrf = await sign_in(client)
    page = await client.get("/admin/retired")
    text = await page.text()
    assert page.status == 200 and "Winter Wellbeing Fair" in text and "5 December 2026" in text
    assert (await client.get("/listing/" + node.publisher + "/winter-fair")).status == 404
    resp = await client.post("/admin/retired/winter-fair/restore", data={"csrf": csrf}, allow_redirects=False)
    assert resp.status == 303
    assert state(node, "winter-fair")[0] == 0
    text = await (await client.get("/admin/retired")).text()
    assert "Brought back" in text
    assert (await client.post("/admin/retired/no-such/restore", data={"csrf": csrf})).status == 404
    assert (await client.post("/admin/retired/winter-fair/restore", data={"csrf": "wrong"})).status in (400, 403)
