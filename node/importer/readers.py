"""Files → rows of cells.  One reader per format; everything after this is shared.

The readers refuse what is not a spreadsheet with one sentence
(:class:`UnreadableFile`), check an XLSX's zip directory before opening it so
a zip bomb is refused without being inflated, and cap the number of rows so a
runaway sheet cannot exhaust memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from node.importer.aliases import match_header
from node.importer.cells import CellValue

__all__ = [
    "UnreadableFile",
    "Sheet",
    "read_sheet",
    "sniff_format",
    "MAX_FILE_BYTES",
    "MAX_UNCOMPRESSED_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_ROWS",
    "MAX_COLUMNS",
    "HEADER_SEARCH_ROWS",
]

MAX_FILE_BYTES: Final = 64 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES: Final = 256 * 1024 * 1024
# Real XLSX parts compress 5-30x; a part inflating more than this is refused.
MAX_COMPRESSION_RATIO: Final = 200
MAX_ROWS: Final = 50_000
MAX_COLUMNS: Final = 200
# A title or notes above the header row is common; look this far down for it.
HEADER_SEARCH_ROWS: Final = 10

Format = Literal["csv", "xlsx", "ods", "xls", "jsonl"]
_SAVE_AS: Final = "export it from your spreadsheet as CSV or XLSX and try again."


class UnreadableFile(Exception):
    """The file is not a spreadsheet we can read; ``str()`` is one sentence for the person."""


@dataclass
class Sheet:
    """A table: its header row (as the person numbers rows), headers, and the data rows after it."""

    format: Format
    header_row: int
    headers: list[str]
    rows: Iterator[tuple[int, list[CellValue]]]
    total: int | None


def _refuse(path: Path, what: str) -> UnreadableFile:
    return UnreadableFile(f"{path.name} {what}; {_SAVE_AS}")


def sniff_format(path: Path) -> Format:
    """What the file really is, from its first bytes (and its name for JSON Lines)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            head = f.read(8192)
    except OSError as e:
        raise UnreadableFile(f"{path.name} could not be opened ({e.strerror or e}).") from e
    if size == 0:
        raise UnreadableFile(f"{path.name} is empty.")
    if size > MAX_FILE_BYTES:
        raise _refuse(
            path,
            f"is {size // (1024 * 1024)} MB, more than the {MAX_FILE_BYTES // (1024 * 1024)} MB an import accepts; split it",
        )
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"  # or ODS: _check_zip tells them apart by what the zip holds
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"%PDF"):
        raise _refuse(path, "is a PDF, not a spreadsheet")
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return "jsonl"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "csv"
    if b"\x00" in head:
        raise _refuse(path, "is not a spreadsheet: it holds binary data, not text")
    return "csv"


def _pick_header(rows: list[tuple[int, list[CellValue]]]) -> int:
    """Index in ``rows`` of the header: the first row naming two known columns, else the first row."""
    for i, (_, cells) in enumerate(rows):
        known = sum(1 for c in cells if isinstance(c, str) and match_header(c))
        if known >= 2:
            return i
    return 0


def _headers(cells: list[CellValue]) -> list[str]:
    out = []
    for c in cells[:MAX_COLUMNS]:
        out.append("" if c is None else str(c).strip())
    while out and not out[-1]:
        out.pop()
    return out


def _blank(cells: list[CellValue]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _table(fmt: Format, path: Path, numbered: Iterator[tuple[int, list[CellValue]]], total: int | None) -> Sheet:
    top: list[tuple[int, list[CellValue]]] = []
    for rownum, cells in numbered:
        if not _blank(cells):
            top.append((rownum, cells))
            if len(top) >= HEADER_SEARCH_ROWS:
                break
    if not top:
        raise UnreadableFile(f"{path.name} has no rows.")
    h = _pick_header(top)
    header_row, header_cells = top[h]
    headers = _headers(header_cells)
    width = len(headers)

    def rows() -> Iterator[tuple[int, list[CellValue]]]:
        for rownum, cells in itertools.chain(top[h + 1 :], numbered):
            if rownum - header_row > MAX_ROWS:
                raise _refuse(path, f"has more than {MAX_ROWS:,} rows; split it into smaller files")
            if not _blank(cells):
                row = list(cells[:width])
                row.extend([None] * (width - len(row)))
                yield rownum, row

    remaining = None if total is None else max(0, total - header_row)
    return Sheet(fmt, header_row, headers, rows(), remaining)


# -- CSV --------------------------------------------------------------------


def _decode(data: bytes, path: Path) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel on Windows saves "CSV" in Windows-1252; its five undefined bytes fall back to Latin-1.
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    sample = text[:8192]
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > max(8, len(sample) // 100):
        raise _refuse(path, "is not a spreadsheet: it holds binary data, not text")
    return text


def _delimiter(text: str) -> str:
    """The separator used most over the first lines (a title row above the header may have none)."""
    lines = [line for line in text.splitlines()[:50] if line.strip()][:20]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(path: Path) -> Sheet:
    text = _decode(path.read_bytes(), path)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        records = list(reader)
    except csv.Error as e:
        raise _refuse(path, f"is not a CSV file I can read ({e})") from e
    # Row numbers count records, as a spreadsheet shows them (a quoted newline stays in its row).
    numbered: Iterator[tuple[int, list[CellValue]]] = (
        (i, [c if c.strip() else None for c in r[:MAX_COLUMNS]]) for i, r in enumerate(records, start=1)
    )
    return _table("csv", path, numbered, len(records))


# -- XLSX -------------------------------------------------------------------


def _check_zip(path: Path) -> Format:
    """Which workbook a zip holds (XLSX or ODS); refuse anything else, or one that would inflate beyond reason."""
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            mimetype = z.read("mimetype")[:200] if "mimetype" in names else b""
    except zipfile.BadZipFile as e:
        raise _refuse(path, "looks like an Excel file but is damaged") from e
    if "xl/workbook.xml" in names:
        fmt: Format = "xlsx"
    elif b"opendocument.spreadsheet" in mimetype and "content.xml" in names:
        fmt = "ods"
    elif "word/document.xml" in names:
        raise _refuse(path, "is a Word document, not a spreadsheet")
    elif b"opendocument.text" in mimetype:
        raise _refuse(path, "is an OpenDocument text document, not a spreadsheet")
    else:
        raise _refuse(path, "is a zip file, not an Excel or OpenDocument spreadsheet")
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise _refuse(
            path,
            f"would expand to {total // (1024 * 1024):,} MB, more than an import allows; it may be damaged or malicious",
        )
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > MAX_COMPRESSION_RATIO * max(1, i.compress_size):
            raise _refuse(path, "is compressed suspiciously tightly (a 'zip bomb') and was not opened")
    return fmt


def _cell(value: CellValue) -> CellValue:
    """A workbook cell as the cell parsers expect it: blanks as None, whole numbers as int."""
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _read_workbook(path: Path, fmt: Format) -> Sheet:
    """XLSX, ODS or XLS through calamine (Rust): about ten times faster than openpyxl.

    The zip directory of XLSX and ODS is checked first, so a zip bomb is
    refused before anything is inflated.  The first sheet whose top rows name
    two known columns is read (else the first sheet).
    """
    if fmt != "xls":
        fmt = _check_zip(path)
    from python_calamine import CalamineError, CalamineWorkbook

    kind = {"xlsx": "Excel", "ods": "OpenDocument", "xls": "Excel 97-2003"}[fmt]
    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = [wb.get_sheet_by_name(name) for name in wb.sheet_names]
        if not sheets:
            raise UnreadableFile(f"{path.name} has no worksheets.")
        chosen = sheets[0]
        for sheet in sheets:
            top = sheet.to_python(skip_empty_area=False, nrows=HEADER_SEARCH_ROWS)
            if any(sum(1 for c in r[:MAX_COLUMNS] if isinstance(c, str) and match_header(c)) >= 2 for r in top):
                chosen = sheet
                break
        table = chosen.to_python(skip_empty_area=False)
    except (CalamineError, ValueError, OSError) as e:
        raise _refuse(path, f"looks like an {kind} file but could not be read ({type(e).__name__})") from e
    numbered = ((i, [_cell(c) for c in r[:MAX_COLUMNS]]) for i, r in enumerate(table, start=1))
    return _table("xlsx", path, numbered, len(table))


def read_sheet(path: Path) -> Sheet:
    """The table in a CSV or XLSX file (JSON Lines is read by the caller)."""
    fmt = sniff_format(path)
    if fmt in ("xlsx", "xls"):
        return _read_workbook(path, fmt)
    if fmt == "csv":
        return _read_csv(path)
    raise ValueError("JSON Lines files are read line by line, not as a sheet")
