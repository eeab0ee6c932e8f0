"""Spreadsheet import: a CSV, XLSX or JSON Lines file → listings, problems, and private places.

Pure of storage: this package reads a file and says what it holds; the store
and the CLI decide what changes.  ``read_listings`` never raises for a bad
row (each becomes a :class:`Problem` naming the row and column, and every
other row still imports); it raises :class:`UnreadableFile` only when the
file is not a spreadsheet at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Final, Literal

from node.directory.freshness import HIDDEN_DAYS, STALE_DAYS
from node.directory.geo import Geo
from node.importer import cells
from node.importer.aliases import COLUMNS
from node.importer.headings import classify, hint_for_unused, is_forms_export
from node.importer.jsonl import read_jsonl
from node.importer.model import ImportBatch, Listing, PrivatePlace, Problem
from node.importer.readers import UnreadableFile, read_sheet, sniff_format
from node.importer.rows import RowReader
from node.importer.template import write_template
from protocol.records import KINDS

__all__ = [
    "PrivatePlace",
    "Listing",
    "Problem",
    "ImportBatch",
    "UnreadableFile",
    "read_listings",
    "write_template",
    "COLUMNS",
]

PROGRESS_EVERY: Final = 250
Progress = Callable[[int, int], None]


def read_listings(
    path: Path,
    *,
    geo: Geo,
    default_kind: str = "group",
    progress: Progress | None = None,
    venues: Literal["public", "private"] | None = None,
    today: dt.date | None = None,
) -> ImportBatch:
    """Read every listing in ``path`` (CSV, XLSX or ``.jsonl``).

    ``progress(done, total)`` is called as rows are read (``total`` is an
    estimate for XLSX).  Two rows with the same id: the second is an error
    naming both rows, except in a Google or Microsoft Forms export, where the
    later submission (by its Timestamp) replaces the earlier one.

    ``venues`` is the caller's choice for a sheet with no privacy column:
    ``None`` holds every place back to its area (fails closed), ``"public"``
    publishes them, ``"private"`` holds back every place even where the sheet
    says public.  ``today`` is the import day, the checked date of a row with no
    "last checked" column (``None``: leave ``reviewed`` out).
    """
    if default_kind not in KINDS:
        raise ValueError(f"default_kind must be one of {', '.join(KINDS)}, not {default_kind!r}")
    path = Path(path)
    batch = ImportBatch(source=str(path))
    reader: RowReader | None = None
    stamps: dict[int, dt.datetime] = {}
    if sniff_format(path) == "jsonl":
        total, results = read_jsonl(path)
        id_column: str | None = "$.id"
    else:
        total, results, id_column, reader, stamps = _sheet_rows(
            path, batch, geo=geo, default_kind=default_kind, venues=venues, today=today
        )

    first_row: dict[str, int | None] = {}
    index: dict[str, int] = {}
    done = 0
    for listing, problems in results:
        batch.problems.extend(problems)
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, max(total, done))
        if listing is None:
            continue
        if listing.id in first_row and _resubmission(stamps, first_row[listing.id], listing.row):
            _resubmitted(batch, index, listing, first_row, stamps)
            continue
        if listing.id in first_row:
            batch.problems.append(
                Problem(
                    listing.row,
                    id_column,
                    f"this row has the same id {listing.id!r} as row {first_row[listing.id]}, so it was not imported; "
                    "remove the duplicate or give one of them a different name or ID",
                    "error",
                )
            )
            continue
        first_row[listing.id] = listing.row
        index[listing.id] = len(batch.listings)
        batch.listings.append(listing)
    if progress is not None:
        progress(done, done)
    if reader is not None:
        batch.undeclared_venues = reader.undeclared_venues
        batch.venue_notice = _venue_notice(reader.undeclared_venues)
    _count_stale(batch, today)
    # Headings not read come first, so a coordinator sees a misread sheet before its rows.
    batch.problems.sort(key=lambda p: 0 if p.row is None else 1)
    return batch


def _resubmission(stamps: dict[int, dt.datetime], earlier: int | None, later: int | None) -> bool:
    """Two rows of a Forms export for one group submitted at different times (the same time is a duplicate)."""
    old, new = stamps.get(earlier or 0), stamps.get(later or 0)
    return old is not None and new is not None and old != new


def _resubmitted(
    batch: ImportBatch,
    index: dict[str, int],
    listing: Listing,
    first_row: dict[str, int | None],
    stamps: dict[int, dt.datetime],
) -> None:
    """A Forms export with a second submission for the same group: the later one (by Timestamp) is kept."""
    at = index[listing.id]
    earlier = batch.listings[at]
    old, new = stamps.get(earlier.row or 0), stamps.get(listing.row or 0)
    keep, drop = (listing, earlier) if old is None or (new is not None and new > old) else (earlier, listing)
    batch.listings[at] = keep
    first_row[listing.id] = keep.row
    batch.problems.append(
        Problem(
            listing.row,
            None,
            f"rows {earlier.row} and {listing.row} are submissions for the same group; "
            f"row {keep.row} was submitted later, so it is the one imported and row {drop.row} is ignored",
            "warning",
        )
    )


def _venue_notice(undeclared: int) -> str | None:
    if not undeclared:
        return None
    places = "1 meeting place" if undeclared == 1 else f"{undeclared} meeting places"
    return (
        f"{places} will show only their area because the sheet does not say which are public: "
        "add a column 'Private group?' with Yes/No, or choose 'all venues are public' for this import"
    )


def _count_stale(batch: ImportBatch, today: dt.date | None) -> None:
    """How many listings will show as out of date, or be hidden, because of their "last checked" date."""
    if today is None:
        return
    for listing in batch.listings:
        reviewed = listing.fields.get("reviewed")
        if not isinstance(reviewed, str):
            continue
        age = (today - dt.date.fromisoformat(reviewed[:10])).days
        if age > HIDDEN_DAYS:
            batch.hidden += 1
        elif age > STALE_DAYS:
            batch.stale += 1
    parts = []
    if batch.hidden:
        parts.append(
            f"{batch.hidden} listing(s) will be hidden from search as their details were last checked over {HIDDEN_DAYS} days ago"
        )
    if batch.stale:
        parts.append(
            f"{batch.stale} listing(s) will be marked 'may be out of date' as they were last checked over {STALE_DAYS} days ago"
        )
    if parts:
        batch.stale_notice = "; ".join(parts) + ": update the 'last checked' column once the details are confirmed"


def _sheet_rows(
    path: Path,
    batch: ImportBatch,
    *,
    geo: Geo,
    default_kind: str,
    venues: Literal["public", "private"] | None,
    today: dt.date | None,
) -> tuple[int, Iterator[tuple[Listing | None, list[Problem]]], str | None, RowReader, dict[int, dt.datetime]]:
    """Read the headings by meaning (:mod:`node.importer.headings`) and set up the rows' reader."""
    sheet = read_sheet(path)
    forms = is_forms_export(sheet.headers)
    mapping: dict[str, tuple[int, str]] = {}
    strength: dict[str, int] = {}
    sense: Literal["private", "public"] = "private"
    unused: list[Problem] = []
    for index, header in enumerate(sheet.headers):
        if not header:
            continue
        heading = classify(header, forms=forms)
        if heading.field is None:
            batch.unknown_columns.append(header)
            unused.append(Problem(None, header, _unused_message(header, heading.role), "warning"))
            continue
        field = heading.field
        if field in mapping and strength[field] >= heading.strength:
            batch.problems.append(
                Problem(
                    None,
                    header,
                    f"means the same as column {mapping[field][1]!r}, which is the one read; remove or rename one of them",
                    "warning",
                )
            )
            continue
        if field in mapping:
            batch.problems.append(
                Problem(
                    None,
                    mapping[field][1],
                    f"means the same as column {header!r}, which names the group's own contact and is the one read",
                    "warning",
                )
            )
            del batch.columns[mapping[field][1]]
        mapping[field] = (index, header)
        strength[field] = heading.strength
        batch.columns[header] = field
        if field == "private" and heading.sense is not None:
            sense = heading.sense
    batch.problems[:0] = unused
    if "name" not in mapping:
        raise UnreadableFile(
            f"{path.name} has no column for the listing's name (row {sheet.header_row} was read as the header); "
            'add a column headed "Group name" or start from the template.'
        )
    reader = RowReader(mapping, geo=geo, default_kind=default_kind, privacy_sense=sense, venues=venues, today=today)
    rows: Iterable[tuple[int, list[cells.CellValue]]] = sheet.rows
    stamps: dict[int, dt.datetime] = {}
    if forms and "timestamp" in mapping:
        # A form's responses are few; they are read twice, once for the submission times.
        rows = list(sheet.rows)
        at = mapping["timestamp"][0]
        for rownum, row in rows:
            when = _timestamp(row[at] if at < len(row) else None)
            if when is not None:
                stamps[rownum] = when
    results = (reader.read(rownum, row) for rownum, row in rows)
    id_column = mapping["id"][1] if "id" in mapping else mapping["name"][1]
    return sheet.total or 0, results, id_column, reader, stamps


def _unused_message(header: str, role: str) -> str:
    if role == "never":
        return "says it is not for publication, so it is never read or published"
    if role == "respondent":
        return "is the form's record of who filled it in, so it is never read as the group's contact or published"
    return hint_for_unused(header)


_STAMP_FORMATS: Final = (
    "%Y/%m/%d %I:%M:%S %p",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
)


def _timestamp(value: cells.CellValue) -> dt.datetime | None:
    """A form's submission time (a date cell, or Google's "2026/01/12 10:04:51 AM GMT" / "22/02/2026 19:03:11")."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    raw = (cells.text(value) or "").replace(" GMT", "").replace(" BST", "").strip()
    for fmt in _STAMP_FORMATS:
        try:
            return dt.datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return None
