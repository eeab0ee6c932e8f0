"""The handout printed to PDF by headless Chromium and read back: text, A4 page count, and QR codes that decode
to each listing's page (poppler's pdftotext, pdfinfo and pdftoppm; zbar's zbarimg)."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from example_network import NOW, Network

from node.core.config import load_config
from node.web.app import create_app
from node.web.views.shared import CLOCK
from support.browser import CHROMIUM
from support.fixtures import require_tool

pytestmark = [pytest.mark.browser, pytest.mark.slow]

A4_POINTS = (595, 842)  # 210 x 297 mm


@pytest.fixture
async def base(network: Network, aiohttp_server: Callable[..., Awaitable[TestServer]]) -> str:
    for tool, package in [("pdftotext", "poppler-utils"), ("pdftoppm", "poppler-utils"), ("zbarimg", "zbar-tools")]:
        require_tool(shutil.which(tool) is not None, tool, f"apt-get install {package}")
    require_tool(CHROMIUM.exists(), "chromium", "apt-get install chromium")
    config = load_config(network.national)
    app = create_app(config, sync=False)
    app[CLOCK] = lambda: NOW
    server = await aiohttp_server(app, host="127.0.0.1", port=int(config.node.url.rsplit(":", 1)[1]))
    return f"http://127.0.0.1:{server.port}"


async def print_to_pdf(url: str, pdf: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-pdf-header-footer",
        f"--user-data-dir={pdf.parent / 'chromium-profile'}",
        f"--print-to-pdf={pdf}",
        url,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await asyncio.wait_for(proc.wait(), 90) == 0
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")


def pdf_pages(pdf: Path) -> tuple[int, tuple[float, float]]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    w, h = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+)", info, re.M).groups()  # type: ignore[union-attr]
    return pages, (float(w), float(h))


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def qr_codes(pdf: Path) -> list[str]:
    prefix = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(pdf), str(prefix)], check=True)
    found: list[str] = []
    for png in sorted(pdf.parent.glob(prefix.name + "-*.png")):
        out = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True)
        found += [line for line in out.stdout.splitlines() if line]
    return found


async def test_ten_listings_print_on_one_or_two_a4_pages_with_qr_codes_to_their_pages(
    base: str, network: Network, tmp_path: Path
) -> None:
    pdf = tmp_path / "handout.pdf"
    await print_to_pdf(f"{base}/search/print?near=LS6", pdf)
    pages, size = pdf_pages(pdf)
    assert 1 <= pages <= 2, f"{pages} pages"
    assert abs(size[0] - A4_POINTS[0]) < 2 and abs(size[1] - A4_POINTS[1]) < 2, size
    text = pdf_text(pdf)
    flat = " ".join(text.split())
    for phrase in ("Need help now?", "Call Samaritans on 116 123", "Call NHS 111", "check before you go"):
        assert phrase in flat, phrase
    assert "Printed Monday 23 November 2026" in flat
    assert "Headingley Hearing Voices Group" in flat and "Every Tuesday, 6:30pm to 8pm" in flat
    # The private group: its area, never a street or a full postcode.
    assert "Headingley, Leeds (LS6 3)" in flat
    assert not re.search(r"\bLS6 3[A-Z]{2}\b", flat)
    codes = qr_codes(pdf)
    listing_urls = [u for u in codes if u.startswith(f"{base}/listing/")]
    assert len(listing_urls) == 10, codes
    assert f"{base}/listing/{network.publishers['leeds']}/headingley-hearing-voices" in listing_urls
    for url in listing_urls:
        publisher, rid = url.removeprefix(f"{base}/listing/").split("/")
        assert publisher in network.publishers.values() and re.fullmatch(r"[a-z0-9][a-z0-9._-]*", rid)


async def test_one_listing_prints_on_one_page_with_its_code(base: str, network: Network, tmp_path: Path) -> None:
    pdf = tmp_path / "one.pdf"
    url = f"{base}/listing/{network.publishers['lambeth']}/weekend-peer-support-line"
    await print_to_pdf(url + "/print", pdf)
    assert pdf_pages(pdf)[0] == 1
    flat = " ".join(pdf_text(pdf).split())
    assert "Lambeth Weekend Evening Peer Support Line" in flat and "Phone: 0808 157 0123" in flat
    assert qr_codes(pdf) == [url]
