"""Spreadsheet import: a CSV, XLSX or JSON Lines file → listings, problems, and private places.

Pure of storage: this package reads a file and says what it holds; the store
and the CLI decide what changes.  ``read_listings`` never raises for a bad
row (each becomes a :class:`Problem` naming the row and column, and every
other row still imports); it raises :class:`UnreadableFile` only when the
file is not a spreadsheet at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Final

from node.directory.geo import Geo
from node.importer.aliases import COLUMNS, match_header
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
) -> ImportBatch:
    """Read every listing in ``path`` (CSV, XLSX or ``.jsonl``).

    ``progress(done, total)`` is called as rows are read (``total`` is an
    estimate for XLSX).  Two rows with the same id: the second is an error
    naming both rows.
    """
    if default_kind not in KINDS:
        raise ValueError(f"default_kind must be one of {', '.join(KINDS)}, not {default_kind!r}")
    path = Path(path)
    batch = ImportBatch(source=str(path))
    if sniff_format(path) == "jsonl":
        total, results = read_jsonl(path)
        id_column: str | None = "$.id"
    else:
        total, results, id_column = _sheet_rows(path, batch, geo=geo, default_kind=default_kind)

    first_row: dict[str, int | None] = {}
    done = 0
    for listing, problems in results:
        batch.problems.extend(problems)
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, max(total, done))
        if listing is None:
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
        batch.listings.append(listing)
    if progress is not None:
        progress(done, done)
    return batch


def _sheet_rows(
    path: Path, batch: ImportBatch, *, geo: Geo, default_kind: str
) -> tuple[int, Iterator[tuple[Listing | None, list[Problem]]], str | None]:
    sheet = read_sheet(path)
    mapping: dict[str, tuple[int, str]] = {}
    for index, header in enumerate(sheet.headers):
        if not header:
            continue
        field = match_header(header)
        if field is None:
            batch.unknown_columns.append(header)
            batch.problems.append(
                Problem(
                    None,
                    header,
                    "column not recognised, so its values are not imported; rename it to a column from the template if it matters",
                    "warning",
                )
            )
        elif field in mapping:
            batch.problems.append(
                Problem(
                    None,
                    header,
                    f"means the same as column {mapping[field][1]!r}, which is the one read; remove or rename one of them",
                    "warning",
                )
            )
        else:
            mapping[field] = (index, header)
            batch.columns[header] = field
    if "name" not in mapping:
        raise UnreadableFile(
            f"{path.name} has no column for the listing's name (row {sheet.header_row} was read as the header); "
            'add a column headed "Group name" or start from the template.'
        )
    reader = RowReader(mapping, geo=geo, default_kind=default_kind)
    results = (reader.read(rownum, row) for rownum, row in sheet.rows)
    id_column = mapping["id"][1] if "id" in mapping else mapping["name"][1]
    return sheet.total or 0, results, id_column
