"""Postcode geography from the shipped OGL centroid tables (see ``node/directory/data/README.md``).

Two jobs: turn what a searcher types ("LS6 3QR", "ls6", "LS6 3", "Leeds") into a
point for "near me" ranking, and turn a private group's full postcode into the
*area* that may be published instead of its meeting place.

The data covers Great Britain only.  Northern Ireland (BT), the Channel Islands
(GY, JE) and the Isle of Man (IM) are absent, and every lookup for them returns
``None``: the caller says "not recognised", it never guesses a nearby place.
"""

from __future__ import annotations

import csv
import difflib
import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

__all__ = [
    "DATA_DIR",
    "ATTRIBUTION",
    "MIN_SECTOR_POSTCODES",
    "Place",
    "Area",
    "Geo",
    "distance_km",
]

DATA_DIR: Final = Path(__file__).parent / "data"
ATTRIBUTION: Final = (
    "Contains OS data © Crown copyright and database right 2025. Contains Royal Mail data "
    "© Royal Mail copyright and database right 2025. Contains National Statistics data "
    "© Crown copyright and database right 2025."
)
# A sector holding very few unit postcodes has a centroid close to each of them,
# which could point at a private group's building; such a group is published
# with its district's centroid instead.
MIN_SECTOR_POSTCODES: Final = 20
EARTH_RADIUS_KM: Final = 6371.0088

# Postcode areas the shipped data does not cover.  Listed so the answer is
# "not recognised" even if a future data file adds stray rows for them.
_NOT_COVERED: Final = frozenset({"BT", "GY", "JE", "IM"})

_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")
_OUTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")
_SECTOR = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?) ?(\d)$")

# Everyday names for authorities whose official name a searcher would not type.
_TOWN_ALIASES: Final[dict[str, str]] = {
    "hull": "City of Kingston upon Hull",
    "brighton": "The City of Brighton and Hove",
    "hove": "The City of Brighton and Hove",
    "bournemouth": "Bournemouth, Christchurch and Poole",
    "poole": "Bournemouth, Christchurch and Poole",
    "christchurch": "Bournemouth, Christchurch and Poole",
    "stoke": "City of Stoke-on-Trent",
    "city of london": "City and County of the City of London",
    "edinburgh": "City of Edinburgh",
    "glasgow": "Glasgow City",
    "aberdeen": "Aberdeen City",
    "dundee": "Dundee City",
}
# Prefixes and suffixes stripped so "Bristol" finds "City of Bristol".
_NAME_AFFIXES: Final = (r"^the city of ", r"^city of ", r" city$")

PlaceKind = Literal["postcode", "sector", "outcode", "authority"]


@dataclass(frozen=True, slots=True)
class Place:
    """A point a searcher or an import named, with the authority it lies in."""

    label: str
    kind: PlaceKind
    lat: float
    lon: float
    district_name: str


@dataclass(frozen=True, slots=True)
class Area:
    """What a private group may publish: its postcode sector (or district) and that area's centroid.

    ``as_location()`` gives the protocol's ``AreaLocation`` content.
    """

    postcode_area: str
    area: str
    lat: str
    lon: str

    def as_location(self) -> dict[str, str]:
        return {
            "type": "area",
            "area": self.area,
            "postcode_area": self.postcode_area,
            "lat": self.lat,
            "lon": self.lon,
        }


@dataclass(frozen=True, slots=True)
class _Centroid:
    lat: float
    lon: float
    district_name: str
    postcodes: int


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _name_key(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key for place names."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = folded.replace("&", " and ")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", folded).split())


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def _read(path: Path, key: str) -> dict[str, _Centroid]:
    with path.open(newline="", encoding="utf-8") as f:
        return {
            row[key]: _Centroid(
                float(row["latitude"]), float(row["longitude"]), row["district_name"], int(row["postcodes"])
            )
            for row in csv.DictReader(f)
        }


class Geo:
    """The loaded centroid tables.  Build with :meth:`load` (cached: the files are read once)."""

    def __init__(self, districts: dict[str, _Centroid], sectors: dict[str, _Centroid]) -> None:
        self._districts = districts
        self._sectors = sectors
        weights: dict[str, list[float]] = {}
        for c in districts.values():
            w = weights.setdefault(c.district_name, [0.0, 0.0, 0.0])
            w[0] += c.lat * c.postcodes
            w[1] += c.lon * c.postcodes
            w[2] += c.postcodes
        self._authorities: dict[str, Place] = {}
        self._names: dict[str, str] = {}
        for name, (slat, slon, n) in weights.items():
            self._authorities[name] = Place(name, "authority", slat / n, slon / n, name)
            key = _name_key(name)
            self._names[key] = name
            # Welsh authorities are named in both languages ("Caerdydd - Cardiff"):
            # either name on its own finds them.
            for part in name.split(" - ") if " - " in name else ():
                self._names.setdefault(_name_key(part), name)
                self._names.setdefault(_name_key(re.sub(r"^the\s+", "", part, flags=re.I)), name)
            for affix in _NAME_AFFIXES:
                short = re.sub(affix, "", key)
                if short and short != key:
                    self._names.setdefault(short, name)
        for alias, name in _TOWN_ALIASES.items():
            if name in self._authorities:
                self._names.setdefault(alias, name)

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR) -> Geo:
        """The tables in ``data_dir``, read once per process."""
        return _load(data_dir)

    # -- postcodes -------------------------------------------------------

    @staticmethod
    def normalise_postcode(text: str) -> str | None:
        """``" ls63qr "`` → ``"LS6 3QR"``; ``None`` if it is not shaped like a UK postcode."""
        m = _POSTCODE.match(_squash(text))
        return f"{m.group(1)} {m.group(2)}" if m else None

    @staticmethod
    def _covered(outcode: str) -> bool:
        return re.sub(r"\d.*$", "", outcode) not in _NOT_COVERED

    def _covered_postcode(self, pc: str) -> tuple[str, str, str] | None:
        """A postcode normalised and split (postcode, outcode, inward), if the shipped data covers it."""
        norm = self.normalise_postcode(pc)
        if norm is None:
            return None
        outcode, inward = norm.split(" ")
        return (norm, outcode, inward) if self._covered(outcode) else None

    def lookup_postcode(self, pc: str) -> Place | None:
        """A full postcode's point: its sector's centroid, else its district's."""
        found = self._covered_postcode(pc)
        if found is None:
            return None
        norm, outcode, inward = found
        c = self._sectors.get(f"{outcode} {inward[0]}") or self._districts.get(outcode)
        return Place(norm, "postcode", c.lat, c.lon, c.district_name) if c else None

    def lookup_sector(self, text: str) -> Place | None:
        """``"LS6 3"`` (any case or spacing) → the sector's centroid."""
        m = _SECTOR.match(_squash(text))
        if not m or not self._covered(m.group(1)):
            return None
        label = f"{m.group(1)} {m.group(2)}"
        c = self._sectors.get(label)
        return Place(label, "sector", c.lat, c.lon, c.district_name) if c else None

    def lookup_outcode(self, text: str) -> Place | None:
        """``"ls6"`` → the district's centroid."""
        outcode = _squash(text)
        if not _OUTCODE.match(outcode) or not self._covered(outcode):
            return None
        c = self._districts.get(outcode)
        return Place(outcode, "outcode", c.lat, c.lon, c.district_name) if c else None

    def lookup_authority(self, text: str) -> Place | None:
        """A local authority by name, case- and punctuation-insensitive ("leeds", "Bristol")."""
        name = self._names.get(_name_key(text))
        return self._authorities[name] if name else None

    def lookup_place(self, text: str) -> Place | None:
        """Whatever a searcher typed: postcode, sector, outcode, or local authority name."""
        text = text.strip()
        if not text:
            return None
        return (
            self.lookup_postcode(text)
            or self.lookup_sector(text)
            or self.lookup_outcode(text)
            or self.lookup_authority(text)
        )

    def suggest(self, text: str, n: int = 5) -> list[str]:
        """Close place names for a "did you mean" line (authority names, as spelt in the data)."""
        key = _name_key(text)
        if not key:
            return []
        found: list[str] = []
        for k in difflib.get_close_matches(key, list(self._names), n=n * 2, cutoff=0.6):
            name = self._names[k]
            if name not in found:
                found.append(name)
        for k, name in self._names.items():
            if len(found) >= n:
                break
            if len(key) >= 3 and k.startswith(key) and name not in found:
                found.append(name)
        return found[:n]

    def area_for_postcode(self, pc: str) -> Area | None:
        """The public area of a private meeting place: sector label and centroid, authority name.

        Falls back to the district when the sector is missing or holds fewer than
        :data:`MIN_SECTOR_POSTCODES` unit postcodes.  ``None`` if the postcode is unknown.
        """
        found = self._covered_postcode(pc)
        if found is None:
            return None
        _, outcode, inward = found
        label = f"{outcode} {inward[0]}"
        c = self._sectors.get(label)
        if c is None or c.postcodes < MIN_SECTOR_POSTCODES:
            label, c = outcode, self._districts.get(outcode)
        if c is None:
            return None
        return Area(label, c.district_name, f"{c.lat:.5f}", f"{c.lon:.5f}")

    @property
    def authority_names(self) -> list[str]:
        return sorted(self._authorities)


@functools.cache
def _load(data_dir: Path) -> Geo:
    return Geo(
        _read(data_dir / "uk-postcode-districts.csv", "outcode"),
        _read(data_dir / "uk-postcode-sectors.csv", "sector"),
    )
