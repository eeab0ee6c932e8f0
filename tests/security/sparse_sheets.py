"""Tiny spreadsheets that claim (or really hold) an enormous used range, built by hand with zipfile.

A header row plus one far-away cell is a few KB on disk; a reader that builds
the whole grid before looking at it needs hundreds of GB (docs/security.md,
"sheet bombs").
"""

from __future__ import annotations

import zipfile
from pathlib import Path

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="Listings" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
</Relationships>"""
_HEADERS = ("Name", "Postcode", "Website")


def _col(ref: str) -> str:
    return "".join(ch for ch in ref if ch.isalpha())


def _inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sparse_xlsx(path: Path, far_cell: str, *, dimension: str | None = None, rows: int = 1) -> Path:
    """An XLSX with a header row, ``rows`` real listings, and one cell at ``far_cell`` (e.g. XFD1048576).

    ``dimension`` is what the sheet's ``<dimension ref>`` claims (default: the truth).
    """
    far_row = int("".join(ch for ch in far_cell if ch.isdigit()))
    header = "".join(_inline(f"{c}1", h) for c, h in zip("ABC", _HEADERS, strict=True))
    body = [f'<row r="1">{header}</row>']
    for i in range(2, rows + 2):
        cells = _inline(f"A{i}", f"Group {i}") + _inline(f"B{i}", "LS1 4AP") + _inline(f"C{i}", "https://example.org")
        body.append(f'<row r="{i}">{cells}</row>')
    body.append(f'<row r="{far_row}">{_inline(far_cell, "x")}</row>')
    ref = dimension or f"A1:{far_cell}"
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{ref}"/><sheetData>{"".join(body)}</sheetData></worksheet>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


_ODS_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">
<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>"""


def repeated_ods(path: Path, *, rows_repeated: int, columns_repeated: int) -> Path:
    """An ODS whose second row is one non-empty cell repeated ``columns_repeated`` times, ``rows_repeated`` times."""
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    header = "".join(cell.format(h) for h in _HEADERS)
    repeated = (
        f'<table:table-row table:number-rows-repeated="{rows_repeated}">'
        f'<table:table-cell table:number-columns-repeated="{columns_repeated}" office:value-type="string">'
        "<text:p>x</text:p></table:table-cell></table:table-row>"
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="Listings">'
        f"<table:table-row>{header}</table:table-row>{repeated}"
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", _ODS_MANIFEST)
        z.writestr("content.xml", content)
    return path


_SHEET_HEAD = '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def sheet_xml(body: str, *, head: str = _SHEET_HEAD, declaration: str | None = None) -> str:
    """A worksheet whose ``<sheetData>`` holds ``body`` exactly as given (rows, cells, comments, anything)."""
    prolog = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' if declaration is None else declaration
    return f"{prolog}{head}<sheetData>{body}</sheetData></worksheet>"


def raw_xlsx(
    path: Path,
    sheet: str | bytes,
    *,
    member: str = "xl/worksheets/sheet1.xml",
    target: str = "worksheets/sheet1.xml",
    extra: dict[str, str | bytes] | None = None,
) -> Path:
    """An XLSX whose one worksheet is ``sheet`` byte for byte, stored as zip member ``member``.

    ``target`` is where the workbook's relationship says the sheet is (a reader
    finds it there, matching member names without regard to case); ``extra``
    adds more members (a second copy of a name, say).
    """
    rels = _WORKBOOK_RELS.replace("worksheets/sheet1.xml", target)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr(member, sheet)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path
