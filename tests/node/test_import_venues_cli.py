"""``signpost import --venues``: the choice for meeting places a sheet does not mark, remembered per file name.

Run as a real subprocess.  The output starts with the choice and the reader's notice
(node.importer.venues; docs/architecture.md, a spreadsheet row → plan → sign → feed).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from nodeutil import make_node, signpost

SHEET = Path(__file__).resolve().parent.parent / "importer" / "corpus" / "06-no-privacy-column-bristol.csv"


def test_venues_choice_is_said_first_and_remembered_for_the_file_name(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n")
    sheet = tmp_path / "bristol.csv"
    shutil.copy(SHEET, sheet)
    d = str(node.directory)

    dry = signpost("import", str(sheet), "--dir", d, "--dry-run").stdout
    assert dry.splitlines()[0].startswith("5 meeting places will show only their area")

    out = signpost("import", str(sheet), "--dir", d, "--venues", "public").stdout
    assert out.splitlines()[0] == (
        "Meeting places the sheet does not mark: 'all venues are public', as chosen for this import of bristol.csv."
    )
    payloads = [p for (p,) in node.query("SELECT payload FROM listings")]
    assert any("43 Ducie Road" in p for p in payloads)

    again = signpost("import", str(sheet), "--dir", d, "--dry-run").stdout
    assert again.splitlines()[0].startswith(
        "Meeting places the sheet does not mark: 'all venues are public', as chosen at an earlier import of bristol.csv"
    )
    assert "6 listing(s) unchanged" in again

    as_json = json.loads(signpost("import", str(sheet), "--dir", d, "--dry-run", "--json").stdout)
    assert as_json["venues"] == "public" and "earlier import" in as_json["venues_choice"]

    private = signpost("import", str(sheet), "--dir", d, "--venues", "private").stdout
    assert "'show only areas', as chosen for this import" in private.splitlines()[0]
    payloads = [p for (p,) in node.query("SELECT payload FROM listings")]
    assert not any("43 Ducie Road" in p for p in payloads)
    # A dry run with a new choice does not replace the remembered one.
    signpost("import", str(sheet), "--dir", d, "--dry-run", "--venues", "public")
    last = signpost("import", str(sheet), "--dir", d, "--dry-run").stdout
    assert "'show only areas', as chosen at an earlier import" in last.splitlines()[0]


def test_an_unknown_venues_word_is_refused(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n")
    proc = signpost("import", str(SHEET), "--dir", str(node.directory), "--venues", "some", check=False)
    assert proc.returncode == 2 and "public" in proc.stderr
