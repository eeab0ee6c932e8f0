"""The one import pipeline on a real node: plan → apply for a file, a previewed upload, and a console edit."""

from __future__ import annotations

from pathlib import Path

from node.directory.geo import Geo
from node.importer.listing_form import listing_from_form
from node.importer.model import ImportBatch, Listing
from node.importer.pipeline import (
    import_file,
    plan,
    plan_batch,
    preview,
    publish_previewed,
    read,
    render_plan,
    save_listing,
)
from node.storage.store import connect, transaction
from nodeutil import NodeHandle

CSV = (
    "Group name,Postcode,Private,Contact email,Consent\n"
    "Survivors Circle,LS6 3QR,Yes,,\n"
    "Walk and Talk,LS8 2HH,No,jo@example.org,No\n"
)


def _form(**values: str) -> dict[str, str]:
    return {"name": "Survivors Circle", "kind": "group", "delivery": "in_person", "status": "active", **values}


def _save(node: NodeHandle, listing: Listing) -> str:
    conn = connect(node.directory / "signpost.db")
    try:
        with transaction(conn):
            return save_listing(conn, node.directory, node.publisher, listing).items[0].action
    finally:
        conn.close()


def _published(node: NodeHandle) -> str:
    return " ".join(
        bytes(row[0]).decode() if isinstance(row[0], bytes) else str(row[0])
        for row in node.query("SELECT payload FROM listings")
    )


def test_a_file_is_read_planned_previewed_and_applied(test_node: NodeHandle, tmp_path: Path) -> None:
    path = tmp_path / "groups.csv"
    path.write_text(CSV, "utf-8")
    batch = read(path)
    conn = connect(test_node.directory / "signpost.db")
    try:
        shown = preview(batch, plan_batch(conn, test_node.publisher, batch, replace=False))
    finally:
        conn.close()
    assert [p.id for p in shown.added] == ["survivors-circle", "walk-and-talk"] and shown.publishable
    assert shown.unit == "row" and not shown.rejected and len(shown.warnings) == 1
    result = import_file(test_node.directory, path, dry_run=False, replace=False, batch=batch)
    assert result.published and "Will add 2 listing(s)" in render_plan(result, dry_run=False)
    published = _published(test_node)
    assert "LS6 3QR" not in published and "jo@example.org" not in published
    assert test_node.query("SELECT id, postcode FROM private_places") == [("survivors-circle", "LS6 3QR")]


def test_an_upload_is_published_only_if_nothing_changed_since_its_preview(test_node: NodeHandle) -> None:
    batch = ImportBatch("upload.csv", [Listing("walk", 2, {"kind": "group", "name": "Walk"})])
    conn = connect(test_node.directory / "signpost.db")
    try:
        previewed = plan_batch(conn, test_node.publisher, batch, replace=False)
        test_node.publish([("walk", {"kind": "group", "name": "Walk, published meanwhile"})])
        with transaction(conn):
            fresh = publish_previewed(
                conn, test_node.directory, test_node.publisher, batch, replace=False, previewed=previewed
            )
        assert fresh is not None and [p.action for p in fresh.items] == ["change"]
        assert "meanwhile" in _published(test_node), "nothing was published from the stale preview"
        with transaction(conn):
            assert (
                publish_previewed(conn, test_node.directory, test_node.publisher, batch, replace=False, previewed=fresh)
                is None
            )
    finally:
        conn.close()
    assert "meanwhile" not in _published(test_node)


def test_a_console_save_goes_through_plan_and_apply_and_keeps_the_place(test_node: NodeHandle) -> None:
    base = {"kind": "group", "name": "Survivors Circle"}
    test_node.publish([("circle", base)])
    private = listing_from_form(
        _form(private="yes", venue="Back room", postcode="LS6 3QR"), geo=Geo.load(), base=base, record_id="circle"
    )
    assert _save(test_node, private) == "change"
    assert "LS6 3QR" not in _published(test_node) and "Back room" not in _published(test_node)
    rev_before = test_node.query("SELECT rev FROM versions WHERE id = 'circle'")[0][0]
    # Only the private place changes: nothing published differs, yet the save is kept and published.
    moved = listing_from_form(
        _form(private="yes", venue="Upstairs", postcode="LS6 3QR"), geo=Geo.load(), base=base, record_id="circle"
    )
    assert _save(test_node, moved) == "change"
    assert test_node.query("SELECT venue, postcode FROM private_places WHERE id = 'circle'") == [
        ("Upstairs", "LS6 3QR")
    ]
    assert test_node.query("SELECT rev FROM versions WHERE id = 'circle'")[0][0] > rev_before


def test_planning_one_listing_writes_nothing(test_node: NodeHandle) -> None:
    conn = connect(test_node.directory / "signpost.db")
    try:
        planned = plan(
            conn, test_node.publisher, [Listing("new", None, {"kind": "group", "name": "New"})], replace=False
        )
    finally:
        conn.close()
    assert [p.action for p in planned.items] == ["add"] and test_node.query("SELECT id FROM listings") == []


def test_the_dry_run_and_the_summary_open_with_the_venue_notice(test_node: NodeHandle, tmp_path: Path) -> None:
    path = tmp_path / "no-privacy.csv"
    path.write_text("Group name,Venue,Postcode\nA,12 Oak Road,LS6 3QR\nB,Library,LS8 2HH\n", "utf-8")
    result = import_file(test_node.directory, path, dry_run=True, replace=False)
    assert result.batch.undeclared_venues == 2
    for dry_run in (True, False):
        first = render_plan(result, dry_run=dry_run).splitlines()[0]
        assert first.startswith("2 meeting places will show only their area because the sheet does not say")
    assert "LS6 3QR" not in str([x.fields for x in result.batch.listings])
    public = read(path, venues="public")
    assert public.venue_notice is None and public.listings[0].fields["location"]["postcode"] == "LS6 3QR"
