"""Real processes: a past event leaves national's search at once, and once the grace period has passed (clock
injected) Leeds tombstones it and the tombstone reaches national through its feed."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from node.directory.schedule import LONDON
from node.publishing.retirement import retire_due
from node.storage.store import connect, transaction
from nodeutil import ServeProcess, get_json, make_node, signpost, walk_feed

pytestmark = pytest.mark.slow


def fair(rid: str, day: dt.date) -> tuple[str, dict[str, object]]:
    return rid, {
        "kind": "event",
        "name": f"Wellbeing Fair {day.isoformat()}",
        "summary": "Stalls, tea and talks about peer support.",
        "schedule": {"dates": [{"date": day.isoformat(), "opens": "10:00", "closes": "15:00"}]},
    }


def test_a_past_event_is_hidden_then_retired_and_the_tombstone_reaches_a_follower(tmp_path: Path) -> None:
    today = dt.datetime.now(LONDON).date()
    leeds = make_node(tmp_path / "leeds", "Leeds")
    national = make_node(tmp_path / "national", "National")
    leeds.publish([fair("fair-last-week", today - dt.timedelta(days=7)), fair("fair-today", today)])
    with ServeProcess(leeds), ServeProcess(national):
        signpost("follow", leeds.url, "--publisher", leeds.publisher, "--dir", str(national.directory))
        signpost("sync", "--dir", str(national.directory))
        _, _, found = get_json(f"{national.url}/api/v1/search?q=wellbeing+fair")
        assert [i["record_id"] for i in found["items"]] == ["fair-today"]  # the past one is hidden already...
        items, _ = walk_feed(national.url)
        assert {i["id"].split("/")[1]: i["state"] for i in items} == {
            "fair-last-week": "updated",  # ...but filtering is not deletion: copies still hold it
            "fair-today": "updated",
        }
        past = f"{national.url}/listing/{leeds.publisher}/fair-last-week"
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(past, timeout=10)
        assert gone.value.code == 410

        # 30 days after it ended, Leeds (its publisher) retires it; the running node's own schedule would do
        # the same once that day comes: here the clock is injected.
        later = dt.datetime.now(LONDON) + dt.timedelta(days=24)
        conn = connect(leeds.directory / "signpost.db")
        try:
            with transaction(conn):
                done = retire_due(conn, leeds.directory, leeds.publisher, now=later, retire_after_days=30)
        finally:
            conn.close()
        assert [r.id for r in done] == ["fair-last-week"]
        signpost("sync", "--dir", str(national.directory))
        items, _ = walk_feed(national.url)
        states = {i["id"].split("/")[1]: i for i in items}
        assert states["fair-last-week"]["state"] == "deleted" and "tombstone" in states["fair-last-week"]
        assert states["fair-today"]["state"] == "updated"
        assert national.query("SELECT deleted FROM versions WHERE id = 'fair-last-week'") == [(1,)]
        assert national.query("SELECT count(*) FROM listings WHERE id = 'fair-last-week'") == [(0,)]
