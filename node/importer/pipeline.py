"""``signpost import``: read a file, plan against what is published, then publish.

The same path serves the CLI and the console upload: read the file with the
importer, compare with this node's live listings, show the plan, and only
then sign and store, all in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from node.core.config import load_config
from node.core.context import now_us
from node.importer import ImportBatch, read_listings
from node.publishing.publisher import ImportPlan, ListingIn, apply_plan, load_identity, plan_import
from node.storage.store import connect, get_meta, transaction

__all__ = ["ImportResult", "import_file", "render_plan", "plan_batch"]


@dataclass
class ImportResult:
    batch: ImportBatch
    plan: ImportPlan
    published: bool

    @property
    def rejected_rows(self) -> list[Any]:
        return [p for p in self.batch.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Any]:
        return [p for p in self.batch.problems if p.severity == "warning"]

    def as_json(self) -> dict[str, Any]:
        return {
            "published": self.published,
            "counts": {**self.plan.counts(), "rejected": len(self.rejected_rows), "warnings": len(self.warnings)},
            "items": [
                {"id": p.id, "action": p.action, "row": p.row, "name": p.name, "changed_fields": p.changed_fields}
                for p in self.plan.items
            ],
            "problems": [
                {"row": p.row, "column": p.column, "severity": p.severity, "message": p.message} for p in self.batch.problems
            ],
            "unknown_columns": self.batch.unknown_columns,
        }


def _listings(batch: ImportBatch) -> list[tuple[int | None, ListingIn]]:
    out = []
    for listing in batch.listings:
        place = listing.private_place
        out.append(
            (
                listing.row,
                ListingIn(
                    id=listing.id,
                    fields=listing.fields,
                    private_place=None if place is None else (place.venue, place.address, place.postcode),
                ),
            )
        )
    return out


def plan_batch(conn: Any, publisher: str, batch: ImportBatch, *, replace: bool) -> ImportPlan:
    return plan_import(conn, publisher, _listings(batch), replace=replace)


def import_file(
    directory: Path,
    path: Path,
    *,
    dry_run: bool,
    replace: bool,
    progress: Callable[[int, int], None] | None = None,
    batch: ImportBatch | None = None,
) -> ImportResult:
    from node.directory.geo import Geo

    config = load_config(directory)
    if batch is None:
        batch = read_listings(path, geo=Geo.load(), progress=progress)
    conn = connect(config.db_path)
    try:
        publisher = get_meta(conn, "publisher") or ""
        if dry_run:
            return ImportResult(batch, plan_batch(conn, publisher, batch, replace=replace), published=False)
        ident = load_identity(directory, conn, publisher)
        with transaction(conn):
            plan = plan_batch(conn, publisher, batch, replace=replace)
            apply_plan(conn, ident, plan, now_us=now_us())
        return ImportResult(batch, plan, published=True)
    finally:
        conn.close()


def render_plan(result: ImportResult, *, dry_run: bool) -> str:
    """The dry-run report a coordinator reads: what will be added, changed, deleted, rejected."""
    lines = []
    batch = result.batch
    unit = "line" if str(batch.source).lower().endswith(".jsonl") else "row"
    if batch.unknown_columns:
        lines.append("Columns not recognised (ignored): " + ", ".join(batch.unknown_columns))
    verb = "Would" if dry_run else "Will"
    labels = {"add": "add", "change": "change", "delete": "delete"}
    for action, label in labels.items():
        items = result.plan.of(action)
        if not items:
            continue
        lines.append(f"{verb} {label} {len(items)} listing(s):")
        for p in items:
            where = f"{unit} {p.row}: " if p.row else ""
            extra = f" ({', '.join(p.changed_fields)})" if p.changed_fields else ""
            lines.append(f"  {where}{p.name or p.id} [{p.id}]{extra}")
    unchanged = len(result.plan.of("unchanged"))
    if unchanged:
        lines.append(f"{unchanged} listing(s) unchanged.")
    if result.rejected_rows:
        lines.append(f"Rejected {len(result.rejected_rows)} {unit}(s); fix them and import again:")
        for p in result.rejected_rows:
            where = f"{unit} {p.row}, column {p.column!r}" if p.column else f"{unit} {p.row}"
            lines.append(f"  {where}: {p.message}")
    if result.warnings:
        lines.append(f"{len(result.warnings)} warning(s):")
        for p in result.warnings:
            where = f"{unit} {p.row}, column {p.column!r}" if p.column else f"{unit} {p.row}"
            lines.append(f"  {where}: {p.message}")
    if dry_run:
        c = result.plan.counts()
        lines.append(
            f"Dry run: nothing published. {c['add']} to add, {c['change']} to change, {c['unchanged']} unchanged, "
            f"{c['delete']} to delete, {len(result.rejected_rows)} rejected."
        )
    return "\n".join(lines)
