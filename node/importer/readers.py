"""Files → rows of cells.  One reader per format; everything after this is shared.

The readers refuse what is not a spreadsheet with one sentence
(:class:`UnreadableFile`), check an XLSX's zip directory before opening it so
a zip bomb is refused without being inflated, and cap the number of rows so a
runaway sheet cannot exhaust memory.

A workbook reader (calamine) builds the whole cell grid of a sheet, so a
4 KB file with one cell at ``XFD1048576`` would ask for half a terabyte.
Before calamine sees a workbook, its used range is measured by streaming the
sheet XML (``<dimension ref>`` and every cell's position for XLSX, which can
disagree; the repeat counts for ODS) and checked against a cell budget; and
calamine itself runs in a child process with an address-space limit and a
timeout, so whatever slips past the check (an XLS, a huge string table) ends
as one sentence for the coordinator, never as a dead node.  See
docs/security.md ("Sheet bombs").
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import pickle
import re
import subprocess
import sys
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, Literal
from xml.etree import ElementTree
from xml.parsers import expat

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
    "MAX_SHEET_ROWS",
    "MAX_SHEET_COLUMNS",
    "MAX_CELLS",
    "READER_MEMORY_BYTES",
    "READER_TIMEOUT_S",
]

MAX_FILE_BYTES: Final = 64 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES: Final = 256 * 1024 * 1024
# Real XLSX parts compress 5-30x; a part inflating more than this is refused.
MAX_COMPRESSION_RATIO: Final = 200
MAX_ROWS: Final = 50_000
MAX_COLUMNS: Final = 200
# A title or notes above the header row is common; look this far down for it.
HEADER_SEARCH_ROWS: Final = 10
# The used range a workbook may have before any of it is read: rows (room for
# title rows and blank rows above the header), columns, and rows x columns.
MAX_SHEET_ROWS: Final = MAX_ROWS + 1_000
MAX_SHEET_COLUMNS: Final = 1_000
MAX_CELLS: Final = 4_000_000
# The workbook reader's child process: address space and wall-clock limits.
READER_MEMORY_BYTES: Final = 512 * 1024 * 1024
READER_TIMEOUT_S: Final = 120.0

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
    except FileNotFoundError as e:
        raise UnreadableFile(f"{path} does not exist; check the file name and the folder you are in.") from e
    except IsADirectoryError as e:
        raise UnreadableFile(f"{path} is a folder; give the spreadsheet file inside it.") from e
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


_REF = re.compile(r"([A-Za-z]{1,4})([0-9]{1,9})")
_XLSX_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_TABLE_NS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE_NS = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


class _Extent:
    """The used range seen so far while streaming a sheet; raises once it is over budget."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self.columns = 0

    def see(self, row: int, column: int, *, claimed: bool = False) -> None:
        self.rows = max(self.rows, row)
        self.columns = max(self.columns, column)
        if self.rows > MAX_SHEET_ROWS or self.columns > MAX_SHEET_COLUMNS or self.rows * self.columns > MAX_CELLS:
            says = "says it has" if claimed else "has cells reaching"
            raise UnreadableFile(
                f"{self.path.name} {says} {row:,} rows and {column:,} columns (up to cell "
                f"{_column_letters(column)}{row}), more than an import reads ({MAX_ROWS:,} rows, "
                f"{MAX_CELLS:,} cells); delete the empty rows and columns around your listings, "
                "or save the sheet as CSV, and try again."
            )


def _stream(z: zipfile.ZipFile, name: str) -> Iterator[tuple[str, ElementTree.Element]]:
    """(event, element) pairs of one zip member, read in chunks so memory stays flat."""
    # Only "start" and "end" events are asked for, so each is an (event, element) pair.
    parser: Any = ElementTree.XMLPullParser(events=("start", "end"))
    with z.open(name) as f:
        while chunk := f.read(64 * 1024):
            parser.feed(chunk)
            yield from parser.read_events()
    parser.close()
    yield from parser.read_events()


# The sheet XML is read in chunks this big: memory stays flat however large it inflates.
_XML_CHUNK: Final = 1024 * 1024
# A tag still open after this many bytes is not in any sheet a spreadsheet wrote: parse that sheet instead.
_MAX_OPEN_TAG: Final = 1024 * 1024
# Where calamine finds a worksheet: the workbook's relationship target under xl/worksheets/, any case.
_SHEET_FOLDER: Final = "xl/worksheets/"
_MAIN_NS: Final = _XLSX_NS[1:-1]
# A cell position calamine reads has any number of letters and digits; past these it is far beyond the budget.
_FAR_REF = re.compile(r"([A-Za-z]+)([0-9]+)")
_ROW_REF = re.compile(r"[A-Za-z]*([0-9]+)")
_WS = rb"[ \t\r\n]"
# Start tags of cells and dimensions, with or without a namespace prefix.  (In well-formed XML every
# "<" outside comments, CDATA and processing instructions starts a tag; the scan leaves sheets holding
# any of those, or anything else it does not read exactly, to the parser.)
_PREFIX = rb"(?:[^<>/:!?=\"' \t\r\n]+:)"
_HAS_PREFIX = re.compile(rb":(?:c|dimension)" + _WS.replace(b"]", b"/>]"))
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml(" + _WS + rb"[^<>]*?)?\?>")
_ENCODING = re.compile(rb"encoding" + _WS + rb"*=" + _WS + rb"*[\"']([^\"']*)[\"']")
_ATTRIBUTE = re.compile(rb"([^ \t\r\n=]+)" + _WS + rb"*=" + _WS + rb"*(?:\"([^\"]*)\"|'([^']*)')")


def _tag_patterns(prefix: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes], re.Pattern[bytes]]:
    """(cell, dimension start, whole dimension tag): a cell's first attribute ``r`` in either quote style
    is captured when it is a plain reference; any other cell start tag matches with empty groups."""
    cell = re.compile(
        rb"<"
        + prefix
        + rb"c(?:"
        + _WS
        + rb"+r"
        + _WS
        + rb"*="
        + _WS
        + rb"*([\"'])([A-Za-z]{1,4})([0-9]{1,9})\1|[ \t\r\n/>])"
    )
    dimension = re.compile(rb"<" + prefix + rb"dimension[ \t\r\n/>]")
    whole = re.compile(
        rb"<"
        + prefix
        + rb"dimension((?:"
        + _WS
        + rb"+[^ \t\r\n=/>]+"
        + _WS
        + rb"*="
        + _WS
        + rb"*(?:\"[^\"]*\"|'[^']*'))*)"
        + _WS
        + rb"*/?>"
    )
    return cell, dimension, whole


_PLAIN_TAGS = _tag_patterns(b"")
_PREFIXED_TAGS = _tag_patterns(_PREFIX + b"?")


class _NotPlain(Exception):
    """The byte scan met something it does not read exactly (a comment, a cell without a plain ``r``...)."""


def _see_dimension(path: Path, ref: str) -> None:
    """Refuse a sheet whose ``<dimension ref>`` claims more than the budget (as it always has been read)."""
    m = _REF.fullmatch(ref.split(":")[-1].replace("$", ""))
    if m:
        _Extent(path).see(int(m.group(2)), _column_number(m.group(1)), claimed=True)


def _far_position(ref: str) -> tuple[int, int] | None:
    """(row, column) of a cell reference as calamine reads it, capped far beyond the budget; None if it is none."""
    m = _FAR_REF.fullmatch(ref)
    if not m:
        return None
    letters, digits = m.group(1), m.group(2).lstrip("0") or "0"
    column = _column_number(letters) if len(letters) <= 6 else 26**6
    return (int(digits) if len(digits) <= 12 else 10**12), column


def _scan_region(path: Path, data: bytes, extent: _Extent) -> None:
    """Measure the cells and dimensions in ``data``: whole tags of well-formed sheet XML, no comments or CDATA.

    Every cell must carry a plain ``r`` as its first attribute; otherwise
    :class:`_NotPlain` hands the sheet to :func:`_parse_sheet_part`.
    """
    cell, dimension, whole = _PREFIXED_TAGS if _HAS_PREFIX.search(data) else _PLAIN_TAGS
    cells = cell.findall(data)
    if (b"", b"", b"") in cells:
        raise _NotPlain
    if dimension.search(data):
        tags = whole.findall(data)
        if len(tags) != len(dimension.findall(data)):
            raise _NotPlain
        for attributes in tags:
            for name, double, single in _ATTRIBUTE.findall(attributes):
                value = double or single
                if b"&" in value:
                    raise _NotPlain
                if name == b"ref":
                    _see_dimension(path, value.decode("ascii", "replace"))
    if not cells:
        return
    rows = max(map(int, map(itemgetter(2), cells)))
    columns = max(_column_number(letters.decode()) for letters in set(map(itemgetter(1), cells)))
    if (
        rows > MAX_SHEET_ROWS
        or columns > MAX_SHEET_COLUMNS
        or max(rows, extent.rows) * max(columns, extent.columns) > MAX_CELLS
    ):
        for _, letters, digits in cells:  # name the first cell past the budget, in the sheet's order
            extent.see(int(digits), _column_number(letters.decode()))
    extent.see(rows, columns)


def _scan_sheet_part(path: Path, z: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Extent:
    """Measure one sheet part by scanning its bytes: the fast path of :func:`_check_xlsx_extent`.

    expat checks the XML is well formed (as the parser always did), without
    building anything; a compiled pattern reads each cell's ``r`` from its
    start tag.  Raises :class:`_NotPlain` for a sheet this cannot read exactly.
    """
    extent = _Extent(path)
    wellformed = expat.ParserCreate(None, "}")
    carry = b""
    first = True
    with z.open(info) as f:
        while chunk := f.read(_XML_CHUNK):
            data = carry + chunk
            if first:
                first = False
                declared = _DECLARATION.match(data)
                if declared:
                    encoding = _ENCODING.search(declared.group(0))
                    if encoding and encoding.group(1).lower() != b"utf-8":
                        raise _NotPlain
                    data = data[declared.end() :]
            # Comments, CDATA, processing instructions, a DTD (before expat expands any entity), or
            # an encoding other than UTF-8: the parser reads those.
            if b"<!" in data or b"<?" in data or b"\x00" in data:
                raise _NotPlain
            wellformed.Parse(chunk, False)
            # Everything before the last "<" is whole tags; so is the rest once that tag has closed.
            last = data.rfind(b"<")
            if last == -1 or data.find(b">", last) != -1:
                carry = b""
            else:
                data, carry = data[:last], data[last:]
                if len(carry) > _MAX_OPEN_TAG:
                    raise _NotPlain
            _scan_region(path, data, extent)
    wellformed.Parse(b"", True)
    _scan_region(path, carry, extent)
    return extent


def _parse_sheet_part(path: Path, z: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Extent:
    """Measure one sheet part with the XML parser: for sheets the byte scan does not read exactly.

    Each cell is measured twice and the larger counts: as the parser always
    did (main-namespace elements; a cell without ``r`` is the next column, a
    row without ``r`` the next row), and as calamine reads it (any namespace
    prefix; a row ends where ``</row>`` is, outside a cell; any length of
    reference).  A document type declaration is refused: entities and a
    parser that reads it differently are ways to hide cells.
    """
    extent = _Extent(path)
    row = column = 0  # as the parser always read the sheet
    calamine_row = calamine_column = 1  # where calamine puts the next cell without "r" (at least)
    inside_cell = 0

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal row, column, calamine_row, calamine_column, inside_cell
        ns, _, local = name.rpartition("}")
        main = ns == _MAIN_NS
        if local == "dimension":
            _see_dimension(path, attributes.get("ref") or "")
        elif local == "row":
            r = attributes.get("r")
            if main:
                row = int(r) if r and r.isdigit() else row + 1
                column = 0
            m = _ROW_REF.fullmatch(r or "")
            if m:
                calamine_row = max(calamine_row, int(m.group(1)) if len(m.group(1)) <= 12 else 10**12)
        elif local == "c":
            r = attributes.get("r") or ""
            if main:
                m = _REF.fullmatch(r)
                column = _column_number(m.group(1)) if m else column + 1
                extent.see(int(m.group(2)) if m else max(row, 1), column)
            at = _far_position(r)
            if at is None:
                at = (calamine_row, calamine_column)
            extent.see(*at)
            calamine_column = max(calamine_column, at[1] + 1)
            inside_cell += 1

    def end(name: str) -> None:
        nonlocal calamine_row, calamine_column, inside_cell
        local = name.rpartition("}")[2]
        if local == "row":
            calamine_row += 1
            if not inside_cell:
                calamine_column = 1
        elif local == "c":
            inside_cell = max(0, inside_cell - 1)

    def doctype(*_: object) -> None:
        raise _refuse(path, "holds a document type declaration, which a spreadsheet does not write")

    parser = expat.ParserCreate(None, "}")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = doctype
    with z.open(info) as f:
        while chunk := f.read(_XML_CHUNK):
            parser.Parse(chunk, False)
    parser.Parse(b"", True)
    return extent


def _check_xlsx_extent(path: Path) -> None:
    """Refuse an XLSX whose sheets claim or hold more cells than the budget, before calamine reads them.

    Every part calamine could read as a worksheet is measured (any member
    under ``xl/worksheets/``, in any case, each copy of a repeated name): the
    ``<dimension ref>`` is checked, then (because a file can lie about it) the
    position of every cell.  A plain sheet (every cell with its ``r``, no
    comments or CDATA) is measured by scanning its bytes; any other by the
    XML parser (:func:`_parse_sheet_part`).  Either way the XML must be well
    formed, as it always had to be.
    """
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.is_dir() or not info.filename.replace("\\", "/").lower().startswith(_SHEET_FOLDER):
                    continue
                try:
                    _scan_sheet_part(path, z, info)
                except _NotPlain:
                    _parse_sheet_part(path, z, info)
    except expat.ExpatError as e:
        raise _refuse(path, "looks like an Excel file but could not be read (ParseError)") from e
    except (zipfile.BadZipFile, zlib.error, KeyError, ValueError, EOFError) as e:
        raise _refuse(path, f"looks like an Excel file but could not be read ({type(e).__name__})") from e


def _check_ods_extent(path: Path) -> None:
    """Refuse an ODS whose repeated rows and columns reach beyond the budget, before calamine expands them.

    Empty cells and rows repeated to the sheet's edge (LibreOffice writes
    them for formatting) do not count; a repeated cell with content does.
    """
    repeat_rows = _TABLE_NS + "number-rows-repeated"
    repeat_columns = _TABLE_NS + "number-columns-repeated"
    cells = (_TABLE_NS + "table-cell", _TABLE_NS + "covered-table-cell")
    try:
        with zipfile.ZipFile(path) as z:
            extent = _Extent(path)
            row = 0
            column = 0
            used_columns = 0
            depth = 0
            for event, elem in _stream(z, "content.xml"):
                tag = elem.tag
                if tag == _TABLE_NS + "table":
                    if event == "start":
                        extent, row = _Extent(path), 0
                    else:
                        elem.clear()
                elif tag == _TABLE_NS + "table-row":
                    if event == "start":
                        depth += 1
                        column = used_columns = 0
                        continue
                    depth -= 1
                    repeated = int(elem.get(repeat_rows) or 1)
                    if used_columns:
                        extent.see(row + repeated, used_columns)
                    row += repeated
                    elem.clear()
                elif tag in cells and event == "end" and depth:
                    repeated = int(elem.get(repeat_columns) or 1)
                    column += repeated
                    if elem.get(_OFFICE_NS + "value-type") or len(elem):
                        used_columns = column
                        extent.see(row + 1, used_columns)
                    elem.clear()
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, ValueError, EOFError) as e:
        raise _refuse(path, f"looks like an OpenDocument file but could not be read ({type(e).__name__})") from e


def _calamine_table(path: Path, fmt: Format) -> list[list[CellValue]]:
    """The chosen sheet's cells, through calamine (Rust): about ten times faster than openpyxl.

    The first sheet whose top rows name two known columns is read (else the
    first sheet).  Runs in the reader's child process (:func:`_child_main`).
    """
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
    return [[_cell(c) for c in r[:MAX_COLUMNS]] for r in table]


def _child_main() -> None:
    """The reader's child process: limit its own memory, read one workbook, pickle the result to stdout."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (READER_MEMORY_BYTES, READER_MEMORY_BYTES))
    path, fmt = sys.stdin.read().split("\n", 1)
    try:
        result: tuple[str, object] = ("ok", _calamine_table(Path(path), fmt))  # type: ignore[arg-type]
    except UnreadableFile as e:
        result = ("unreadable", str(e))
    except MemoryError:
        result = ("memory", "")
    sys.stdout.buffer.write(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


def _too_big(path: Path) -> UnreadableFile:
    return UnreadableFile(
        f"{path.name} needs more memory than an import may use (it probably holds far more cells than "
        "it shows); delete the empty rows and columns around your listings, or save the sheet as CSV, and try again."
    )


def _read_isolated(path: Path, fmt: Format) -> list[list[CellValue]]:
    """Run :func:`_calamine_table` in a child process with a memory limit and a timeout."""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    try:
        done = subprocess.run(
            [sys.executable, "-c", "from node.importer.readers import _child_main; _child_main()"],
            input=f"{path.resolve()}\n{fmt}".encode(),
            capture_output=True,
            timeout=READER_TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired as e:
        raise UnreadableFile(
            f"{path.name} took more than {READER_TIMEOUT_S:.0f} seconds to read; save the sheet as CSV, "
            "or split it into smaller files, and try again."
        ) from e
    if done.returncode != 0 or not done.stdout:
        raise _too_big(path)
    status, value = pickle.loads(done.stdout)
    if status == "unreadable":
        raise UnreadableFile(str(value))
    if status != "ok":
        raise _too_big(path)
    return value  # type: ignore[no-any-return]


def _read_workbook(path: Path, fmt: Format) -> Sheet:
    """XLSX, ODS or XLS: the zip directory, then the used range, then calamine in a child process.

    The zip directory of XLSX and ODS is checked first, so a zip bomb is
    refused before anything is inflated; then the sheets' used range is
    measured by streaming their XML, so a sheet bomb is refused before any
    cell grid is built.  (XLS is a binary format: it relies on the child's
    memory limit alone.)
    """
    if fmt != "xls":
        fmt = _check_zip(path)
        if fmt == "xlsx":
            _check_xlsx_extent(path)
        else:
            _check_ods_extent(path)
    table = _read_isolated(path, fmt)
    numbered = ((i, r) for i, r in enumerate(table, start=1))
    return _table("xlsx", path, numbered, len(table))


def read_sheet(path: Path) -> Sheet:
    """The table in a CSV or XLSX file (JSON Lines is read by the caller)."""
    fmt = sniff_format(path)
    if fmt in ("xlsx", "xls"):
        return _read_workbook(path, fmt)
    if fmt == "csv":
        return _read_csv(path)
    raise ValueError("JSON Lines files are read line by line, not as a sheet")
