"""A coordinator's own place names under ``[places]`` in signpost.toml: read strictly, written by
tomlkit without disturbing the rest of the file, and refused at start when they cannot be placed."""

from __future__ import annotations

import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from node.core.config import CONFIG_NAME, PlacePoint, load_config, write_place
from node.core.errors import ConfigError
from node.directory.geo import Geo
from node.web.app import create_app
from nodeutil import make_node

COORDINATOR_FILE = """\
# Leeds peer support: ask Sam before changing anything here.
[node]
name = "Leeds"   # the name people see
url = "http://127.0.0.1:9999"

[places]
# Names people here use that maps don't know.
"Chapeltown" = "LS7"
"""


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    (tmp_path / CONFIG_NAME).write_text(COORDINATOR_FILE, "utf-8")
    return tmp_path


def test_places_are_read_as_districts_or_points(directory: Path) -> None:
    write_place(directory, "Hyde Park", PlacePoint(lat=53.8125, lon=-1.566))
    config = load_config(directory)
    assert config.places == {"Chapeltown": "LS7", "Hyde Park": PlacePoint(lat=53.8125, lon=-1.566)}
    geo = Geo.load().for_node(config.places)
    place = geo.lookup_place("hyde park")
    assert place is not None and (place.kind, place.postcode_district) == ("local", "LS6")


def test_writing_a_place_keeps_the_coordinators_comments_and_order(directory: Path) -> None:
    write_place(directory, "Little London", "LS7 1")
    write_place(directory, "Chapeltown", "LS7 3")
    text = (directory / CONFIG_NAME).read_text("utf-8")
    assert "# Leeds peer support: ask Sam before changing anything here." in text
    assert "# Names people here use that maps don't know." in text
    assert 'name = "Leeds"   # the name people see' in text
    assert tomllib.loads(text)["places"] == {"Chapeltown": "LS7 3", "Little London": "LS7 1"}


def test_removing_a_place_leaves_the_others(directory: Path) -> None:
    write_place(directory, "Little London", "LS7 1")
    write_place(directory, "Chapeltown", None)
    write_place(directory, "Nowhere", None)  # removing what is not there changes nothing
    assert load_config(directory).places == {"Little London": "LS7 1"}


def test_a_place_section_with_a_wrong_shape_is_refused_with_its_line(directory: Path) -> None:
    (directory / CONFIG_NAME).write_text(COORDINATOR_FILE + '"Hyde Park" = { lat = 53.8, lng = -1.5 }\n', "utf-8")
    with pytest.raises(ConfigError):
        load_config(directory)


async def test_a_place_the_postcode_data_cannot_place_stops_the_node_at_start(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Any]]
) -> None:
    handle = make_node(tmp_path / "node", "Leeds")
    write_place(handle.directory, "Chapeltown", "ZZ9")
    with pytest.raises(ConfigError, match="Chapeltown"):
        await aiohttp_client(create_app(load_config(handle.directory), sync=False))


async def test_the_nodes_own_names_reach_its_search(
    tmp_path: Path, aiohttp_client: Callable[..., Awaitable[Any]]
) -> None:
    handle = make_node(tmp_path / "node", "Leeds")
    write_place(handle.directory, "Chapeltown", "LS7")
    client = await aiohttp_client(create_app(load_config(handle.directory), sync=False))
    found = await (await client.get("/api/v1/search", params={"near": "Chapeltown"})).json()
    assert found["place"]["kind"] == "local" and found["place"]["district"] == "Leeds"
    other = await (await client.get("/api/v1/search", params={"near": "Brixtonn"})).json()
    assert "Brixton" in str(other)
