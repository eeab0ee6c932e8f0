"""One rule names a network, on results pages and on ``/networks`` alike.

A publisher may sign several organisation records (the Leeds example signs its own and Leeds
Mind's hub).  The one its listings name most often as who runs them speaks for it, and an
edit to a record's text must not hand the name to another one (node.directory.networks.speakers).
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import msgspec
import pytest
from aiohttp.test_utils import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pages"))  # example_network

from example_network import NOW, Network, build_network, example_records

from node.core.config import load_config
from node.directory.networks import networks
from node.directory.search import network_names
from node.publishing.lifecycle import init_node
from node.publishing.publisher import ListingIn, delete, load_identity, publish
from node.storage.ledger import apply_version, load_keylog
from node.storage.migrations import upgrade
from node.storage.store import connect, get_meta, transaction
from node.web.app import create_app
from node.web.views.shared import CLOCK
from protocol import envelope as dsse
from protocol.verify import open_record

NOW_US = int(NOW.timestamp() * 1e6)
OLD_DB = Path(__file__).resolve().parents[1] / "storage" / "data" / "v1-node.db"


def _edit(directory: Path, record_id: str, example: str, *, now_us: int, **changes: object) -> None:
    """Publish a new version of one example record from the node that signs it."""
    conn = connect(directory / "signpost.db")
    try:
        publisher = get_meta(conn, "publisher")
        assert publisher is not None
        fields = next(r for r in example_records(example) if r["id"] == record_id)
        fields = {k: v for k, v in fields.items() if k != "id"} | changes
        with transaction(conn):
            publish(conn, load_identity(directory, conn, publisher), [ListingIn(record_id, fields)], now_us=now_us)
    finally:
        conn.close()


def _carry_news(peer: Path, national: Path, *, after_us: int) -> None:
    """Merge into ``national`` what ``peer`` published after ``after_us``, as a sync would."""
    src = sqlite3.connect(peer / "signpost.db")
    conn = connect(national / "signpost.db")
    try:
        publisher = str(src.execute("SELECT value FROM meta WHERE key = 'publisher'").fetchone()[0])
        log = load_keylog(src, publisher)
        assert log is not None
        with transaction(conn):
            for (env,) in src.execute("SELECT envelope FROM versions WHERE rev > ? ORDER BY change", (after_us,)):
                opened = open_record(dsse.decode_envelope(bytes(env)), log, now_us=NOW_US + 10**10)
                apply_version(conn, opened, bytes(env), via="http://127.0.0.1:8080", now_us=NOW_US + 10**9)
    finally:
        src.close()
        conn.close()


def _agree(conn: sqlite3.Connection, own_publisher: str, own_name: str) -> dict[str, str]:
    """The names ``/networks`` gives, after checking that results pages give the same ones."""
    listed = {n.publisher: n.name for n in networks(conn, own_publisher=own_publisher, own_name=own_name, now=NOW)}
    assert network_names(conn, list(listed), own_publisher=own_publisher, own_name=own_name) == listed
    return listed


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Network:
    return build_network(tmp_path_factory.mktemp("names"))


def test_results_pages_and_networks_name_every_example_publisher_alike(examples: Network) -> None:
    conn = connect(examples.national / "signpost.db")
    try:
        names = _agree(conn, examples.publishers["national"], "Peer Support Together UK directory")
    finally:
        conn.close()
    assert names == {
        examples.publishers["leeds"]: "Leeds Peer Support Network",
        examples.publishers["lambeth"]: "Lambeth Living Well Collaborative",
        examples.publishers["national"]: "Peer Support Together UK",
    }


def test_an_edit_to_a_networks_own_record_keeps_its_name_on_an_aggregator(examples: Network) -> None:
    root = examples.national.parent
    later = NOW_US + 3_600_000_000
    _edit(root / "leeds", "leeds-peer-support-network", "leeds", now_us=later, summary="Peer groups across Leeds.")
    _carry_news(root / "leeds", examples.national, after_us=later - 1)
    conn = connect(examples.national / "signpost.db")
    try:
        names = _agree(conn, examples.publishers["national"], "Peer Support Together UK directory")
    finally:
        conn.close()
    assert names[examples.publishers["leeds"]] == "Leeds Peer Support Network"


@pytest.fixture
def leeds(tmp_path: Path) -> tuple[Path, str]:
    """The Leeds example published on its own node, then Leeds' own organisation record edited."""
    directory = tmp_path / "leeds"
    init_node(directory, name="Leeds peer support node", url="http://127.0.0.1:8080", port=8080)
    conn = connect(directory / "signpost.db")
    try:
        publisher = get_meta(conn, "publisher")
        assert publisher is not None
        with transaction(conn):
            listings = [ListingIn(str(r.pop("id")), r) for r in example_records("leeds")]
            publish(conn, load_identity(directory, conn, publisher), listings, now_us=NOW_US)
    finally:
        conn.close()
    _edit(
        directory,
        "leeds-peer-support-network",
        "leeds",
        now_us=NOW_US + 60_000_000,
        summary="Peer-led groups, drop-ins and a warmline across Leeds, run with the people who use them.",
    )
    return directory, publisher


async def test_results_page_still_names_leeds_after_it_edits_its_own_organisation_record(
    leeds: tuple[Path, str], aiohttp_client: Callable[..., Awaitable[TestClient]]
) -> None:
    directory, publisher = leeds
    app = create_app(load_config(directory), sync=False)
    app[CLOCK] = lambda: NOW
    client = await aiohttp_client(app)
    page = await (await client.get("/search", params={"q": "peer support"})).text()
    assert page.count("Published by ") > 1
    assert page.count("Published by Leeds Peer Support Network") == page.count("Published by "), page
    body = await (await client.get(f"/api/v1/networks/{publisher}")).json()
    assert body["network"]["name"] == "Leeds Peer Support Network"
    assert body["network"]["organisation"]["summary"].startswith("Peer-led groups, drop-ins and a warmline")
    listing = await (await client.get(f"/listing/{publisher}/leeds-mind-peer-support-hub")).text()
    assert "Published by Leeds Peer Support Network" in listing


def _recount(conn: sqlite3.Connection) -> Counter[tuple[str, str]]:
    """How many open listings name each organisation record as who runs them, counted afresh."""
    out: Counter[tuple[str, str]] = Counter()
    for publisher, payload in conn.execute("SELECT publisher, payload FROM listings WHERE status != 'closed'"):
        ref = (msgspec.json.decode(payload).get("organisation") or {}).get("ref")
        if ref:
            out[(str(publisher), str(ref))] += 1
    return out


def _kept(conn: sqlite3.Connection) -> Counter[tuple[str, str]]:
    return Counter(
        {(str(p), str(o)): int(n) for p, o, n in conn.execute("SELECT publisher, org, n FROM organisation_refs")}
    )


def test_who_runs_what_is_kept_exact_through_moves_closures_and_deletions(leeds: tuple[Path, str]) -> None:
    directory, publisher = leeds
    conn = connect(directory / "signpost.db")
    try:
        assert _kept(conn) == _recount(conn)
        before = _kept(conn)
        assert before[(publisher, "leeds-peer-support-network")] > before[(publisher, "leeds-mind-peer-support-hub")]
        hub = [  # the hub's open listings
            r
            for r in example_records("leeds")
            if (r.get("organisation") or {}).get("ref") == "leeds-mind-peer-support-hub" and r.get("status") != "closed"
        ]
        ident = load_identity(directory, conn, publisher)
        changed = [ListingIn(str(r["id"]), {k: v for k, v in r.items() if k != "id"}) for r in hub[:7]]
        for c in changed[:6]:  # six of the hub's listings are now run by the network
            c.fields["organisation"] = {"name": "Leeds Peer Support Network", "ref": "leeds-peer-support-network"}
        changed[6].fields["status"] = "closed"  # and one closes
        with transaction(conn):
            publish(conn, ident, changed, now_us=NOW_US + 120_000_000)
        with transaction(conn):  # and one is deleted
            delete(conn, ident, str(hub[7]["id"]), now_us=NOW_US + 180_000_000)
        after = _kept(conn)
        assert after == _recount(conn)
        assert (
            after[(publisher, "leeds-mind-peer-support-hub")] == before[(publisher, "leeds-mind-peer-support-hub")] - 8
        )
        assert after[(publisher, "leeds-peer-support-network")] == before[(publisher, "leeds-peer-support-network")] + 6
    finally:
        conn.close()


def test_an_old_database_learns_who_runs_what_when_it_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "signpost.db"
    shutil.copy(OLD_DB, path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        upgrade(conn)
        assert _kept(conn) == _recount(conn) and sum(_recount(conn).values()) > 0
    finally:
        conn.close()


def test_naming_a_page_of_publishers_stays_one_statement(examples: Network) -> None:
    conn = connect(examples.national / "signpost.db")
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        network_names(conn, list(examples.publishers.values()), own_publisher="x", own_name="y")
    finally:
        conn.close()
    assert len(seen) == 1, seen
