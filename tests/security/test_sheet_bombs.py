"""A few-KB spreadsheet claiming a huge used range is refused in one sentence; the node stays up.

The attack (docs/security.md, "Sheet bombs"): a header row plus one cell at
``XFD1048576`` made the workbook reader build a 1,048,576 x 16,384 grid and
abort the whole process, through ``signpost import``, the console upload and
a published sheet alike.
"""

from __future__ import annotations

import asyncio
import http.server
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sparse_sheets import repeated_ods, sparse_xlsx

from node.importer import UnreadableFile, read_sheet, readers
from nodeutil import NodeHandle, ServeProcess, make_node, signpost

PASSWORD = "correct horse battery"


def _refusal(path: Path) -> str:
    with pytest.raises(UnreadableFile) as caught:
        read_sheet(path)
    return str(caught.value)


def test_one_cell_at_the_last_column_and_row_is_refused_before_any_grid_is_built(tmp_path: Path) -> None:
    bomb = sparse_xlsx(tmp_path / "bomb.xlsx", "XFD1048576")
    assert bomb.stat().st_size < 8_000
    message = _refusal(bomb)
    assert "1,048,576 rows and 16,384 columns" in message and "XFD1048576" in message
    assert "CSV" in message and "\n" not in message


def test_one_cell_at_cv200000_is_refused_too(tmp_path: Path) -> None:
    assert "200,000 rows and 100 columns" in _refusal(sparse_xlsx(tmp_path / "tall.xlsx", "CV200000"))


def test_a_dimension_that_lies_small_does_not_hide_a_far_cell(tmp_path: Path) -> None:
    lying = sparse_xlsx(tmp_path / "lying.xlsx", "XFD1048576", dimension="A1:C2")
    assert "1,048,576 rows" in _refusal(lying)


def test_a_sheet_inside_the_budget_still_reads(tmp_path: Path) -> None:
    fine = sparse_xlsx(tmp_path / "fine.xlsx", "C40", rows=5)
    sheet = read_sheet(fine)
    assert sheet.headers == ["Name", "Postcode", "Website"]
    assert [n for n, _ in sheet.rows] == [2, 3, 4, 5, 6, 40]


def test_ods_repeat_counts_are_checked_before_they_are_expanded(tmp_path: Path) -> None:
    rows = repeated_ods(tmp_path / "rows.ods", rows_repeated=1_000_000, columns_repeated=3)
    assert "1,000,001 rows" in _refusal(rows)
    wide = repeated_ods(tmp_path / "wide.ods", rows_repeated=1, columns_repeated=16_384)
    assert "16,384 columns" in _refusal(wide)
    small = repeated_ods(tmp_path / "small.ods", rows_repeated=4, columns_repeated=3)
    assert len(list(read_sheet(small).rows)) == 4


def test_the_reader_process_is_limited_so_a_bomb_it_meets_is_a_sentence(tmp_path: Path) -> None:
    """What slips past the used-range check (an XLS, say) meets the child's memory limit, not the node's."""
    bomb = sparse_xlsx(tmp_path / "bomb.xlsx", "XFD1048576")
    with pytest.raises(UnreadableFile) as caught:
        readers._read_isolated(bomb, "xlsx")
    assert "more memory than an import may use" in str(caught.value)


def test_signpost_import_of_a_bomb_says_so_in_one_sentence(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    bomb = sparse_xlsx(tmp_path / "bomb.xlsx", "XFD1048576")
    done = signpost("import", str(bomb), "--dir", str(node.directory), check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "1,048,576 rows" in done.stderr


async def _console_session(base: str) -> tuple[aiohttp.ClientSession, str]:
    session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    page = await (await session.get(f"{base}/admin/login")).text()
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    resp = await session.post(
        f"{base}/admin/login",
        data={"csrf": token.group(1), "password": PASSWORD, "next": "/admin"},
        allow_redirects=False,
    )
    assert resp.status == 303, await resp.text()
    home = await (await session.get(f"{base}/admin")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', home)
    assert csrf
    return session, csrf.group(1)


def _node_with_password(tmp_path: Path) -> NodeHandle:
    node = make_node(tmp_path / "node")
    signpost("password", "--password-stdin", "--dir", str(node.directory), input=PASSWORD + "\n")
    return node


@pytest.mark.slow
def test_console_upload_of_a_bomb_leaves_the_real_server_up(tmp_path: Path) -> None:
    node = _node_with_password(tmp_path)
    bomb = sparse_xlsx(tmp_path / "bomb.xlsx", "XFD1048576").read_bytes()

    async def upload() -> tuple[int, str, int]:
        session, csrf = await _console_session(node.url)
        async with session:
            form = aiohttp.FormData()
            form.add_field("csrf", csrf)
            form.add_field("file", bomb, filename="bomb.xlsx", content_type="application/octet-stream")
            resp = await session.post(f"{node.url}/admin/upload", data=form)
            text = await resp.text()
            after = await session.get(f"{node.url}/.well-known/signpost")
            return resp.status, text, after.status

    with ServeProcess(node) as served:
        status, text, after = asyncio.run(upload())
        assert served.proc is not None and served.proc.poll() is None, "serve died"
    assert after == 200
    assert "1,048,576 rows and 16,384 columns" in text, (status, text[:2000])


@pytest.fixture
def bomb_server(tmp_path: Path) -> Iterator[str]:
    body = sparse_xlsx(tmp_path / "published.xlsx", "XFD1048576").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/pub"
    server.shutdown()


@pytest.mark.slow
def test_a_published_bomb_sheet_is_recorded_as_a_failure_and_the_node_keeps_serving(
    tmp_path: Path, bomb_server: str
) -> None:
    node = make_node(tmp_path / "node")
    cfg = node.directory / "signpost.toml"
    cfg.write_text(cfg.read_text() + f'\n[import]\nsheet_url = "{bomb_server}"\nsheet_interval = 3600\n')
    for _start in range(2):  # the sheet is fetched at every start: no crash loop
        with ServeProcess(node) as served:
            deadline = time.monotonic() + 30
            runs: list[tuple[str]] = []
            while time.monotonic() < deadline and not runs:
                time.sleep(0.2)
                with sqlite3.connect(node.directory / "signpost.db") as conn:
                    runs = conn.execute("SELECT * FROM sheet_runs").fetchall()
            assert served.proc is not None and served.proc.poll() is None, "serve died"
            assert runs, "the sheet fetch never ran"
            assert "1,048,576 rows" in repr(runs[-1])
