"""signpost.toml is written and edited by tomlkit: values survive any characters, and a coordinator's comments survive edits."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from node.core.config import CONFIG_NAME, load_config, render_config, update_config, write_password_hash
from node.core.errors import ConfigError

AWKWARD = [
    'Tea "and" talk',
    "C:\\groups\\leeds",
    "line one\nline two",
    'all \\" of\r\n them\t',
    "Caerdydd — 😀",
    "x = 1\n[admin]",
]

COORDINATOR_FILE = """\
# Leeds peer support: ask Sam before changing anything here.
[node]
name = "Leeds"   # the name people see
url = "http://127.0.0.1:9999"

# Poll every ten minutes; the hall's line is slow.
[sync]
interval = 600
"""


def _node(tmp_path: Path, text: str = COORDINATOR_FILE) -> Path:
    (tmp_path / CONFIG_NAME).write_text(text, "utf-8")
    return tmp_path


@pytest.mark.parametrize("value", AWKWARD)
def test_rendered_values_with_quotes_backslashes_and_newlines_read_back_the_same(tmp_path: Path, value: str) -> None:
    text = render_config(name=value, url="http://127.0.0.1:9999", port=9999, contact=value, password_hash=value)
    config = load_config(_node(tmp_path, text))
    assert (config.node.name, config.node.contact, config.admin.password_hash) == (value, value, value)
    assert tomllib.loads(text).keys() == {"node", "sync", "admin"}


def test_rendered_config_keeps_its_guiding_comments() -> None:
    text = render_config(name="Leeds", url="http://127.0.0.1:9999", port=9999, contact="hello@example.org")
    assert text.startswith("# Signpost node settings.")
    assert "# The public address people and peers use to reach this node.\nurl = " in text
    assert "# Shown on listings that have no contact details of their own.\ncontact = " in text


def test_setting_the_password_keeps_the_coordinators_comments_and_layout(tmp_path: Path) -> None:
    write_password_hash(_node(tmp_path), "scrypt$first")
    text = (tmp_path / CONFIG_NAME).read_text("utf-8")
    assert text.startswith(COORDINATOR_FILE)
    assert text.endswith('[admin]\npassword_hash = "scrypt$first"\n')
    write_password_hash(tmp_path, "scrypt$second")
    again = (tmp_path / CONFIG_NAME).read_text("utf-8")
    assert again == text.replace("scrypt$first", "scrypt$second")
    assert load_config(tmp_path).admin.password_hash == "scrypt$second"


def test_editing_a_value_in_place_keeps_its_neighbours_comments(tmp_path: Path) -> None:
    update_config(_node(tmp_path), "node", "name", "Leeds & Bradford", comment="renamed in 2027")
    text = (tmp_path / CONFIG_NAME).read_text("utf-8")
    assert "# Leeds peer support: ask Sam before changing anything here.\n" in text
    assert "# Poll every ten minutes; the hall's line is slow.\n[sync]\ninterval = 600\n" in text
    assert 'name = "Leeds & Bradford" # renamed in 2027\n' in text
    assert load_config(tmp_path).node.name == "Leeds & Bradford"


@pytest.mark.parametrize("value", AWKWARD)
def test_an_edited_value_with_quotes_backslashes_and_newlines_round_trips(tmp_path: Path, value: str) -> None:
    write_password_hash(_node(tmp_path), value)
    assert load_config(tmp_path).admin.password_hash == value
    assert load_config(tmp_path).node.name == "Leeds"


def test_an_edit_the_config_would_refuse_leaves_the_file_untouched(tmp_path: Path) -> None:
    _node(tmp_path)
    with pytest.raises(ConfigError, match="interval"):
        update_config(tmp_path, "sync", "interval", 0)
    assert (tmp_path / CONFIG_NAME).read_text("utf-8") == COORDINATOR_FILE
    assert not (tmp_path / "signpost.toml.tmp").exists()
