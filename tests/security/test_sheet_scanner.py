"""The XLSX used-range guard reads every cell calamine will read, however the sheet XML is written.

The guard (``node.importer.readers._check_xlsx_extent``) measures a plain
sheet by scanning its bytes and any other sheet with the XML parser.  A hostile
file tries to make the guard see fewer rows or columns than calamine then
builds: namespace prefixes, quotes, whitespace, cells without ``r``, tags split
across the scan's chunks, sheets stored where the guard does not look.  Where
it is cheap, each case also asks calamine itself what it reads, so the test
proves the hidden cell is real, not imagined.
"""

from __future__ import annotations

import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineError, CalamineWorkbook
from sparse_sheets import raw_xlsx, sheet_xml, sparse_xlsx

from node.importer import UnreadableFile, readers

FAR = readers._column_letters(1_500)  # past MAX_SHEET_COLUMNS, cheap for calamine to build
V = "<v>1</v>"
FIRST_ROW = f'<row r="1"><c r="A1">{V}</c></row>'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _refusal(path: Path) -> str:
    with pytest.raises(UnreadableFile) as caught:
        readers._check_xlsx_extent(path)
    return str(caught.value)


def _calamine_reads(path: Path) -> tuple[int, int]:
    """(rows, columns) of the grid calamine builds for the first sheet."""
    wb = CalamineWorkbook.from_path(str(path))
    table = wb.get_sheet_by_name(wb.sheet_names[0]).to_python(skip_empty_area=False)
    return len(table), max((len(r) for r in table), default=0)


def _xlsx(tmp_path: Path, body: str, **kw: object) -> Path:
    return raw_xlsx(tmp_path / "sheet.xlsx", sheet_xml(body), **kw)  # type: ignore[arg-type]


def _parts(path: Path) -> list[tuple[readers._Extent, readers._Extent]]:
    """Each sheet part measured both ways: (byte scan, XML parser)."""
    with zipfile.ZipFile(path) as z:
        return [
            (readers._scan_sheet_part(path, z, info), readers._parse_sheet_part(path, z, info))
            for info in z.infolist()
            if info.filename.startswith("xl/worksheets/")
        ]


@pytest.mark.parametrize(
    "cell",
    [
        f'<c r="{FAR}2">{V}</c>',
        f"<c r='{FAR}2'>{V}</c>",
        f'<c\n  r = "{FAR}2"\n\t>{V}</c>',
        f'<c r="{FAR}2" t="n" s="0">{V}</c>',
        f'<c t="n" r="{FAR}2">{V}</c>',
        f"<c s=\"0\"\nr='{FAR}2'>{V}</c>",
        f'<x:c xmlns:x="{MAIN}" r="{FAR}2">{V}</x:c>',
        f'<x:c xmlns:x="urn:another" r="{FAR}2">{V}</x:c>',
        f'<c r="{FAR.lower()}2">{V}</c>',
    ],
)
def test_a_far_cell_is_measured_however_its_tag_is_written(tmp_path: Path, cell: str) -> None:
    path = _xlsx(tmp_path, f'{FIRST_ROW}<row r="2">{cell}</row>')
    assert _calamine_reads(path) == (2, 1_500)
    assert "1,500 columns" in _refusal(path)


def test_a_self_closing_far_cell_is_refused_though_calamine_would_skip_it(tmp_path: Path) -> None:
    """An empty cell adds nothing to calamine's grid; counting it anyway fails closed."""
    assert "1,500 columns" in _refusal(_xlsx(tmp_path, f'{FIRST_ROW}<row r="2"><c r="{FAR}2"/></row>'))


def test_cells_without_r_are_the_next_columns_after_a_far_one(tmp_path: Path) -> None:
    near = readers._column_letters(999)
    path = _xlsx(tmp_path, f'<row r="1"><c r="{near}1">{V}</c>' + f"<c>{V}</c>" * 3 + "</row>")
    assert _calamine_reads(path) == (1, 1_002)
    assert "1,001 columns (up to cell ALM1)" in _refusal(path)


def test_a_row_number_written_with_letters_is_read_as_calamine_reads_it(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, f'{FIRST_ROW}<row r="A60000"><c>{V}</c></row>')
    assert _calamine_reads(path) == (60_000, 1)
    assert "60,000 rows" in _refusal(path)


def test_a_cell_between_rows_is_on_the_row_after(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, f'<row r="51000"><c r="A51000">{V}</c></row><c>{V}</c>')
    assert _calamine_reads(path) == (51_001, 1)
    assert "51,001 rows" in _refusal(path)


def test_a_reference_of_five_letters_is_far_away_not_the_next_column(tmp_path: Path) -> None:
    """Calamine reads AAAAA1 as column 12,356,631 (no grid is built here to show it: it would be huge)."""
    assert "columns" in _refusal(_xlsx(tmp_path, f'{FIRST_ROW}<row r="2"><c r="AAAAA2">{V}</c></row>'))


def test_a_row_inside_a_cell_does_not_start_the_columns_again(tmp_path: Path) -> None:
    near = readers._column_letters(999)
    path = _xlsx(tmp_path, f'<row r="1"><c r="{near}1">{V}</c>' + f'<c><row r="1"/>{V}</c>' * 3 + "</row>")
    assert "columns" in _refusal(path)


@pytest.mark.parametrize(
    ("member", "target"),
    [
        ("xl/Worksheets/Sheet1.xml", "worksheets/sheet1.xml"),
        ("XL/WORKSHEETS/SHEET1.XML", "worksheets/sheet1.xml"),
        ("xl/worksheets/sub/sheet1.xml", "worksheets/sub/sheet1.xml"),
        ("xl/worksheets/sheet1", "worksheets/sheet1"),
    ],
)
def test_a_sheet_stored_under_another_case_or_folder_is_measured(tmp_path: Path, member: str, target: str) -> None:
    path = _xlsx(tmp_path, f'{FIRST_ROW}<row r="2"><c r="{FAR}2">{V}</c></row>', member=member, target=target)
    assert _calamine_reads(path) == (2, 1_500)
    assert "1,500 columns" in _refusal(path)


@pytest.mark.parametrize("far_first", [True, False])
def test_every_copy_of_a_repeated_member_name_is_measured(tmp_path: Path, far_first: bool) -> None:
    far = sheet_xml(f'{FIRST_ROW}<row r="2"><c r="{FAR}2">{V}</c></row>')
    near = sheet_xml(FIRST_ROW)
    first, second = (far, near) if far_first else (near, far)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name, as it should
        path = raw_xlsx(tmp_path / "twice.xlsx", first, extra={"xl/worksheets/sheet1.xml": second})
    assert "1,500 columns" in _refusal(path)


def test_a_document_type_declaration_is_refused(tmp_path: Path) -> None:
    """A DTD can declare entities and default attributes; no spreadsheet writes one."""
    sheet = (
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "a>><sheetData><row r=\'1\'>'
        f"<c r='{FAR}1'><v>1</v></c></row></sheetData>\">]>"
        f'<worksheet xmlns="{MAIN}"><sheetData>{FIRST_ROW}</sheetData></worksheet>'
    )
    assert "document type declaration" in _refusal(raw_xlsx(tmp_path / "dtd.xlsx", sheet))


def test_a_comment_or_cdata_neither_hides_a_cell_nor_invents_one(tmp_path: Path) -> None:
    fake = f'<row r="2"><c r="{FAR}2">{V}</c></row>'
    in_comment = _xlsx(tmp_path, f"{FIRST_ROW}<!-- {fake} -->", member="xl/worksheets/sheet1.xml")
    assert _calamine_reads(in_comment) == (1, 1)
    readers._check_xlsx_extent(in_comment)  # what calamine does not read is not counted
    in_text = raw_xlsx(
        tmp_path / "cdata.xlsx",
        sheet_xml(f'<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[{fake}]]></t></is></c></row>'),
    )
    assert _calamine_reads(in_text) == (1, 1)
    readers._check_xlsx_extent(in_text)
    after = raw_xlsx(tmp_path / "after.xlsx", sheet_xml(f"{FIRST_ROW}<!-- a note --><?pi x?>{fake}"))
    assert "1,500 columns" in _refusal(after)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "iso-8859-1"])
def test_a_sheet_in_another_encoding_is_measured(tmp_path: Path, encoding: str) -> None:
    declared = "UTF-16" if encoding.startswith("utf-16") else encoding.upper()
    text = sheet_xml(
        f'{FIRST_ROW}<row r="2"><c r="{FAR}2" t="inlineStr"><is><t>caf\u00e9</t></is></c></row>',
        declaration=f'<?xml version="1.0" encoding="{declared}"?>',
    )
    data = text.encode(encoding)
    if encoding == "utf-16-le":
        data = b"\xff\xfe" + data
    assert "1,500 columns" in _refusal(raw_xlsx(tmp_path / "encoded.xlsx", data))


def test_a_cell_tag_split_across_the_scans_chunks_is_read(tmp_path: Path) -> None:
    head = sheet_xml("").split("<sheetData>")[0] + '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
    for offset in range(1, 24):
        tag = f'<c\n r = "{FAR}2">{V}</c>'
        padding = readers._XML_CHUNK - len(head.encode()) - len("</t></is></c></row><row r='2'>") - offset
        sheet = f"{head}{'x' * padding}</t></is></c></row><row r='2'>{tag}</row></sheetData></worksheet>"
        assert sheet.index(tag) < readers._XML_CHUNK < sheet.index(tag) + len(tag)
        assert "1,500 columns" in _refusal(raw_xlsx(tmp_path / f"split{offset}.xlsx", sheet)), offset


def test_a_tag_left_open_past_the_scans_bound_is_parsed_instead(tmp_path: Path) -> None:
    long = "y" * (readers._MAX_OPEN_TAG + readers._XML_CHUNK)
    path = _xlsx(
        tmp_path, f'<row r="1"><c r="A1" x="{long}">{V}</c></row><row r="2"><c>{V}</c><c r="{FAR}2">{V}</c></row>'
    )
    assert "1,500 columns" in _refusal(path)


def test_a_sheet_that_is_not_well_formed_is_refused_as_before(tmp_path: Path) -> None:
    path = raw_xlsx(tmp_path / "broken.xlsx", sheet_xml(f'<row r="1"><c r="A1">{V}</row></c>'))
    assert "could not be read (ParseError)" in _refusal(path)


@pytest.mark.parametrize(
    "dimension", ["<dimension ref='A1:XFD1048576'/>", '<x:dimension xmlns:x="urn:a" ref="A1:XFD1048576"/>']
)
def test_a_dimension_in_either_quote_style_or_namespace_is_checked(tmp_path: Path, dimension: str) -> None:
    sheet = sheet_xml(FIRST_ROW).replace("<sheetData>", f"{dimension}<sheetData>")
    assert "says it has 1,048,576 rows" in _refusal(raw_xlsx(tmp_path / "dim.xlsx", sheet))


def test_the_refusal_names_the_first_cell_past_the_budget(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, f'{FIRST_ROW}<row r="2"><c r="{FAR}2">{V}</c></row><row r="3"><c r="ZZZ3">{V}</c></row>')
    assert f"up to cell {FAR}2" in _refusal(path)


def _ordinary_sheets(tmp_path: Path) -> list[Path]:
    """Sheets as spreadsheet programs and libraries write them: every one is read by the byte scan."""
    from openpyxl import Workbook

    from node.importer import write_template

    write_template(tmp_path / "template.xlsx")
    paths = [tmp_path / "template.xlsx"]
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Name", "Postcode", "Website", "Cost"])
    for i in range(40):
        ws.append([f"Group {i}", "LS1 4AP", None if i % 3 else "https://example.org", 2.5 * i])
    ws["K70"] = "a note far down"
    wb.save(tmp_path / "shared.xlsx")
    streamed = Workbook(write_only=True)
    sheet = streamed.create_sheet("Listings")
    for i in range(30):
        sheet.append([f"Group {i}", None, i, "https://example.org/x?a=1&b=2 <3>"])
    streamed.save(tmp_path / "streamed.xlsx")
    paths += [tmp_path / "shared.xlsx", tmp_path / "streamed.xlsx"]
    paths.append(sparse_xlsx(tmp_path / "sparse.xlsx", "C40", rows=5))
    excel = '<row r="1" spans="1:2"><c r="A1" s="1" t="s"><v>0</v></c><c r="B1" t="str"><f>1+1</f><v>2</v></c></row><row r="7"><c r="D7" s="2"><v>45000</v></c></row>'
    paths.append(
        raw_xlsx(
            tmp_path / "excel.xlsx",
            sheet_xml(excel, declaration='\ufeff<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'),
        )
    )
    prefixed = '<x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c><x:c r="F1"><x:v>2</x:v></x:c></x:row>'
    paths.append(
        raw_xlsx(
            tmp_path / "prefixed.xlsx",
            f'<?xml version="1.0"?><x:worksheet xmlns:x="{MAIN}"><x:dimension ref="A1:F1"/>'
            f"<x:sheetData>{prefixed}</x:sheetData></x:worksheet>",
        )
    )
    return paths


def test_the_byte_scan_and_the_parser_measure_ordinary_sheets_alike(tmp_path: Path) -> None:
    for path in _ordinary_sheets(tmp_path):
        parts = _parts(path)
        assert parts, path
        for fast, exact in parts:
            assert (fast.rows, fast.columns) == (exact.rows, exact.columns), path
            assert fast.rows > 0 and fast.columns > 0, path
        readers._check_xlsx_extent(path)


def test_the_byte_scan_measures_what_calamine_reads(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, f'{FIRST_ROW}<row r="9"><c r="Q9">{V}</c><c r="C9">{V}</c></row>')
    [(fast, _)] = _parts(path)
    assert (fast.rows, fast.columns) == _calamine_reads(path) == (9, 17)


def _measured(path: Path) -> tuple[int, int]:
    """The largest (rows, columns) the guard measures over the sheet parts, by whichever path it takes."""
    rows = columns = 0
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            if not info.filename.startswith("xl/worksheets/"):
                continue
            try:
                extent = readers._scan_sheet_part(path, z, info)
            except readers._NotPlain:
                extent = readers._parse_sheet_part(path, z, info)
            rows, columns = max(rows, extent.rows), max(columns, extent.columns)
    return rows, columns


_SPACE = st.sampled_from([" ", "\n", "\t", "\r\n  "])


@st.composite
def _cell_tags(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["", "x:", "y:"]))
    attributes = []
    if draw(st.booleans()):
        column = readers._column_letters(draw(st.integers(1, 40)))
        if draw(st.booleans()):
            column = column.lower()
        quote = draw(st.sampled_from(['"', "'"]))
        ref = f"r{draw(_SPACE) if draw(st.booleans()) else ''}={quote}{column}{draw(st.integers(1, 40))}{quote}"
        attributes.append(ref)
    if draw(st.booleans()):
        attributes.insert(draw(st.integers(0, len(attributes))), 't="inlineStr"')
    head = "".join(draw(_SPACE) + a for a in attributes) + (draw(_SPACE) if draw(st.booleans()) else "")
    if draw(st.integers(0, 5)) == 0:
        return f"<{prefix}c{head}/>"
    text = draw(st.sampled_from(["v", "<![CDATA[<c r='ZZ99'>]]>", "a &lt;c r=&quot;ZZ99&quot;&gt;"]))
    return f"<{prefix}c{head}><{prefix}is><{prefix}t>{text}</{prefix}t></{prefix}is></{prefix}c>"


@st.composite
def _sheets(draw: st.DrawFn) -> str:
    body = []
    for _ in range(draw(st.integers(1, 6))):
        prefix = draw(st.sampled_from(["", "x:"]))
        r = draw(st.sampled_from(["", ' r="{n}"', " r='{n}'", ' r="A{n}"'])).format(n=draw(st.integers(1, 40)))
        cells = "".join(draw(st.lists(_cell_tags(), max_size=5)))
        if draw(st.integers(0, 4)) == 0:
            cells = f"<!-- <{prefix}row r='99'/> -->" + cells
        body.append(f"<{prefix}row{r}>{cells}</{prefix}row>")
        if draw(st.integers(0, 4)) == 0:
            body.append(draw(_cell_tags()))
    namespaces = f'xmlns:x="{MAIN}" xmlns:y="urn:another"'
    return sheet_xml("".join(body), head=f'<worksheet xmlns="{MAIN}" {namespaces}>')


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sheet=_sheets())
def test_the_guard_never_measures_less_than_calamine_reads(tmp_path: Path, sheet: str) -> None:
    path = raw_xlsx(tmp_path / "random.xlsx", sheet)
    try:
        grid = _calamine_reads(path)
    except CalamineError:
        return  # calamine refuses it: nothing is built
    rows, columns = _measured(path)
    assert rows >= grid[0] and columns >= grid[1], (sheet, (rows, columns), grid)
