"""The one import pipeline: read → rows → plan → preview → apply.

Every way a listing reaches this node's feed goes through these stages, so
each gets the same record check and the same privacy rules
(:mod:`node.importer.privacy`):

- ``signpost import FILE`` (:func:`import_file`, :func:`render_plan`);
- the published sheet on a schedule (:mod:`node.importer.sheet`);
- the console upload (:func:`read`, :func:`plan_batch`, :func:`preview`, :func:`publish_previewed`);
- the console's listing edit form, one listing at a time
  (:func:`node.importer.listing_form.listing_from_form`, then :func:`save_listing`).

The stages:

1. **read**: a file → :class:`ImportBatch` (:func:`read`).
2. **rows**: each row → a checked :class:`Listing` or problems
   (:class:`node.importer.rows.RowReader`, inside :func:`read`; the console
   form's equivalent is :func:`node.importer.listing_form.listing_from_form`).
3. **plan**: the listings against this node's live ones → :class:`ImportPlan`
   (:func:`plan`), nothing written.
4. **preview**: what the plan will do, for a person (:func:`preview`, and
   :func:`render_plan` for the CLI's dry run).
5. **apply**: sign and store, inside the caller's write transaction (:func:`apply`).

See docs/architecture.md (a spreadsheet row → plan → sign → feed) and spec §5.1
for the revs each signed version gets.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from node.core.config import load_config
from node.core.context import now_us as clock_now_us
from node.importer import Listing, Problem, read_listings
from node.importer.model import ImportBatch
from node.publishing.publisher import ImportPlan, ListingIn, Planned, apply_plan, load_identity, plan_import
from node.storage.store import connect, get_meta, transaction

__all__ = [
    "ImportResult",
    "Preview",
    "read",
    "plan",
    "plan_batch",
    "preview",
    "apply",
    "import_file",
    "render_plan",
    "same_plan",
    "publish_previewed",
    "save_listing",
]

Progress = Callable[[int, int], None]


# -- read (and rows) ---------------------------------------------------------------


def read(
    path: Path,
    *,
    progress: Progress | None = None,
    venues: Literal["public", "private"] | None = None,
) -> ImportBatch:
    """Stage 1 and 2: read ``path`` (CSV, XLSX or JSON Lines) into checked listings and problems.

    ``venues`` is the coordinator's choice for a sheet that does not say which places are public
    (``--venues``, the console's choice, a published sheet's setting): ``None`` shows only their
    area (:attr:`ImportBatch.venue_notice` says so), ``"public"`` publishes them, ``"private"``
    holds back every place.  Rows without a "last checked" date count as checked today.
    Raises :class:`node.importer.UnreadableFile` only when the file is not a spreadsheet at all.
    """
    from node.directory.geo import Geo

    today = dt.datetime.fromtimestamp(clock_now_us() / 1_000_000, tz=dt.UTC).date()
    return read_listings(path, geo=Geo.load(), progress=progress, venues=venues, today=today)


# -- plan --------------------------------------------------------------------------


def _listing_in(listing: Listing) -> ListingIn:
    place = listing.private_place
    return ListingIn(
        id=listing.id,
        fields=listing.fields,
        private_place=None if place is None else (place.venue, place.address, place.postcode),
    )


def plan(
    conn: sqlite3.Connection, publisher: str, listings: Sequence[Listing], *, replace: bool, undelete: bool = False
) -> ImportPlan:
    """Stage 3: what publishing ``listings`` would do to this node's live listings, writing nothing.

    ``replace`` plans a delete for every live listing not among ``listings``.
    """
    return plan_import(
        conn,
        publisher,
        [(listing.row, _listing_in(listing)) for listing in listings],
        replace=replace,
        undelete=undelete,
    )


def plan_batch(
    conn: sqlite3.Connection, publisher: str, batch: ImportBatch, *, replace: bool, undelete: bool = False
) -> ImportPlan:
    """Stage 3 for a whole file: :func:`plan` over the batch's listings (a row for a deleted listing is rejected)."""
    planned = plan(conn, publisher, batch.listings, replace=replace, undelete=undelete)
    for held in planned.held_back:
        problem = Problem(held.row, None, held.message, "error")
        if problem not in batch.problems:
            batch.problems.append(problem)
    return planned


def same_plan(a: ImportPlan, b: ImportPlan) -> bool:
    """Whether two plans would do the same things (ids, actions, changed fields): a preview still holds."""

    def shape(p: ImportPlan) -> list[tuple[str, str, tuple[str, ...]]]:
        return [(item.id, item.action, tuple(item.changed_fields)) for item in p.items]

    return shape(a) == shape(b)


# -- preview -----------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """Stage 4: what a plan will do, grouped as a person reads it (the CLI dry run and the console preview)."""

    added: list[Planned]
    changed: list[Planned]
    deleted: list[Planned]
    unchanged: int
    rejected: list[Problem]
    warnings: list[Problem]
    unknown_columns: list[str]
    unit: str

    @property
    def publishable(self) -> bool:
        """Whether publishing would change anything at all."""
        return bool(self.added or self.changed or self.deleted)


def preview(batch: ImportBatch, planned: ImportPlan) -> Preview:
    """Stage 4: the plan and the file's problems, grouped for reading."""
    return Preview(
        added=planned.of("add"),
        changed=planned.of("change"),
        deleted=planned.of("delete"),
        unchanged=len(planned.of("unchanged")),
        rejected=batch.errors,
        warnings=batch.warnings,
        unknown_columns=batch.unknown_columns,
        unit="line" if str(batch.source).lower().endswith(".jsonl") else "row",
    )


# -- apply -------------------------------------------------------------------------


def apply(conn: sqlite3.Connection, directory: Path, publisher: str, planned: ImportPlan, *, now_us: int) -> None:
    """Stage 5: sign and store what ``planned`` says, inside the caller's write transaction (all or nothing)."""
    apply_plan(conn, load_identity(directory, conn, publisher), planned, now_us=now_us)


def publish_previewed(
    conn: sqlite3.Connection,
    directory: Path,
    publisher: str,
    batch: ImportBatch,
    *,
    replace: bool,
    previewed: ImportPlan,
) -> ImportPlan | None:
    """Plan ``batch`` again and apply it only if it still matches what the person saw.

    Returns ``None`` when published; otherwise the new plan (nothing written),
    to be shown as a fresh preview.  Run inside a write transaction.
    """
    planned = plan_batch(conn, publisher, batch, replace=replace)
    if not same_plan(planned, previewed):
        return planned
    apply(conn, directory, publisher, planned, now_us=clock_now_us())
    return None


def save_listing(conn: sqlite3.Connection, directory: Path, publisher: str, listing: Listing) -> ImportPlan:
    """Plan and apply one listing from the console's edit form (inside a write transaction).

    A save always publishes a new version, even when no published field
    changed: the coordinator is told it was published, and a change to a
    private group's place alone changes nothing in the feed yet must be kept.
    """
    planned = plan(conn, publisher, [listing], replace=False)
    item = planned.items[0]
    if item.action == "unchanged":
        planned = ImportPlan([Planned(item.id, "change", item.row, item.name, [], listing=_listing_in(listing))])
    apply(conn, directory, publisher, planned, now_us=clock_now_us())
    return planned


# -- the CLI -----------------------------------------------------------------------


@dataclass
class ImportResult:
    batch: ImportBatch
    plan: ImportPlan
    published: bool

    @property
    def rejected_rows(self) -> list[Problem]:
        return self.batch.errors

    @property
    def warnings(self) -> list[Problem]:
        return self.batch.warnings

    def as_json(self) -> dict[str, Any]:
        return {
            "published": self.published,
            "counts": {**self.plan.counts(), "rejected": len(self.rejected_rows), "warnings": len(self.warnings)},
            "items": [
                {"id": p.id, "action": p.action, "row": p.row, "name": p.name, "changed_fields": p.changed_fields}
                for p in self.plan.items
            ],
            "problems": [
                {"row": p.row, "column": p.column, "severity": p.severity, "message": p.message}
                for p in self.batch.problems
            ],
            "unknown_columns": self.batch.unknown_columns,
            "undeclared_venues": self.batch.undeclared_venues,
            "venue_notice": self.batch.venue_notice,
            "stale": {"out_of_date": self.batch.stale, "hidden": self.batch.hidden, "notice": self.batch.stale_notice},
        }


def import_file(
    directory: Path,
    path: Path,
    *,
    dry_run: bool,
    replace: bool,
    progress: Progress | None = None,
    batch: ImportBatch | None = None,
    undelete: bool = False,
) -> ImportResult:
    """``signpost import``: read (unless ``batch`` is given), plan, and, unless ``dry_run``, apply."""
    config = load_config(directory)
    if batch is None:
        batch = read(path, progress=progress)
    conn = connect(config.db_path)
    try:
        publisher = get_meta(conn, "publisher") or ""
        if dry_run:
            return ImportResult(
                batch, plan_batch(conn, publisher, batch, replace=replace, undelete=undelete), published=False
            )
        with transaction(conn):
            planned = plan_batch(conn, publisher, batch, replace=replace, undelete=undelete)
            apply(conn, directory, publisher, planned, now_us=clock_now_us())
        return ImportResult(batch, planned, published=True)
    finally:
        conn.close()


def render_plan(result: ImportResult, *, dry_run: bool) -> str:
    """The dry-run report a coordinator reads: what will be added, changed, deleted, rejected."""
    lines = [n for n in (result.batch.venue_notice, result.batch.stale_notice) if n]
    shown = preview(result.batch, result.plan)
    unit = shown.unit
    if shown.unknown_columns:
        lines.append("Columns not recognised (ignored): " + ", ".join(shown.unknown_columns))
    verb = "Would" if dry_run else "Will"
    for label, items in (("add", shown.added), ("change", shown.changed), ("delete", shown.deleted)):
        if not items:
            continue
        lines.append(f"{verb} {label} {len(items)} listing(s):")
        for p in items:
            where = f"{unit} {p.row}: " if p.row else ""
            extra = f" ({', '.join(p.changed_fields)})" if p.changed_fields else ""
            lines.append(f"  {where}{p.name or p.id} [{p.id}]{extra}")
    if shown.unchanged:
        lines.append(f"{shown.unchanged} listing(s) unchanged.")
    for heading, problems in (
        (f"Rejected {len(shown.rejected)} {unit}(s); fix them and import again:", shown.rejected),
        (f"{len(shown.warnings)} warning(s):", shown.warnings),
    ):
        if not problems:
            continue
        lines.append(heading)
        for problem in problems:
            where = f"{unit} {problem.row}, column {problem.column!r}" if problem.column else f"{unit} {problem.row}"
            lines.append(f"  {where}: {problem.message}")
    if dry_run:
        c = result.plan.counts()
        lines.append(
            f"Dry run: nothing published. {c['add']} to add, {c['change']} to change, {c['unchanged']} unchanged, "
            f"{c['delete']} to delete, {len(shown.rejected)} rejected."
        )
    return "\n".join(lines)
