"""Places a searcher names, and the postcode geography behind them (``node/directory/data/README.md``).

Two jobs: turn what a searcher types ("LS6 3QR", "LS11", "LS6 3", "Leeds", "Headingley",
"Brixton, Lambeth", "near Streatham") into a point for "near me" ranking, and turn a private
group's full postcode into the *area* that may be published instead of its meeting place.

The place rules (:meth:`Geo.resolve`):

1. A full postcode is its sector's centroid.  A sector needs its digit after a space
   ("LS1 1"); without the space the text is a district, so "LS11" is LS11 (Beeston and
   Holbeck), never LS1 1, and "SE11" and "M11" likewise.
2. A name the node's coordinator added (``[places]`` in ``signpost.toml`` or the console)
   wins over everything else for that node; then a local authority's name ("Leeds",
   "Lambeth", "Bristol"); then the gazetteer of 45,620 cities, towns, villages and
   neighbourhoods (:mod:`node.directory.places`).
3. A name several places share picks the likeliest: the one nearest the searcher's last
   place (``hint``), else the one nearest the node's own area (within
   :data:`NEAR_HOME_KM`), else the biggest kind (a town's suburb over a hamlet).  The
   others come back as ``alternatives``, each with a label ("Brixton, South Hams") that
   resolves to exactly that place.
4. A qualifier after a comma or a space ("Headingley, Leeds", "Brixton, London",
   "Brixton South Hams", "Leeds LS6") chooses among the candidates: the one in that
   authority or postcode district, else the one nearest the qualifier's own point.  When
   the text holds a postcode or district, that is the place unless the name lies in it.
5. Leading words a person adds ("near", "in", "around") are dropped.

The data covers Great Britain only.  Northern Ireland (BT), the Channel Islands
(GY, JE) and the Isle of Man (IM) are absent, and every lookup for them returns
``None``: the caller says "not recognised", it never guesses a nearby place.
"""

from __future__ import annotations

import copy
import csv
import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from node.core.config import PlacePoint
from node.core.errors import ConfigError
from node.directory.places import KIND_RANK, Gazetteer, name_key

__all__ = [
    "DATA_DIR",
    "ATTRIBUTION",
    "MIN_SECTOR_POSTCODES",
    "NEAR_HOME_KM",
    "Place",
    "Area",
    "Resolution",
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
# A shared name is read as the one nearest the searcher's hint or the node's own area only
# when that one is this close; otherwise the biggest kind of place wins (rule 3).
NEAR_HOME_KM: Final = 40.0
# A qualifier that is a place rather than an authority ("Brixton, London") picks the
# namesake within this distance of it (rule 4).
QUALIFIER_KM: Final = 30.0
# Places offered as "did you mean" alternatives to a shared name, at most.
MAX_ALTERNATIVES: Final = 5
# Great Britain's bounding box, for a coordinator's lat/lon.
_GB_LAT: Final = (49.8, 61.0)
_GB_LON: Final = (-8.7, 2.0)

# Postcode areas the shipped data does not cover.  Listed so the answer is
# "not recognised" even if a future data file adds stray rows for them.
_NOT_COVERED: Final = frozenset({"BT", "GY", "JE", "IM"})

_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)(\d[A-Z]{2})$")
_OUTCODE = re.compile(r"^[A-Z]{1,2}\d[A-Z\d]?$")
# A sector is its district, a space, and one digit: "LS1 1".  Without the space, "LS11" is
# the district LS11 (rule 1).
_SECTOR = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?)\s+(\d)$")
# Postcode shapes inside free text (find_in_text).
_IN_TEXT_POSTCODE = re.compile(r"\b([A-Za-z]{1,2}\d[A-Za-z\d]?)\s*(\d[A-Za-z]{2})\b")
_IN_TEXT_SECTOR = re.compile(r"\b([A-Za-z]{1,2}\d[A-Za-z\d]?)\s+(\d)\b")
_IN_TEXT_OUTCODE = re.compile(r"\b([A-Za-z]{1,2}\d[A-Za-z\d]?)\b")
_WORD = re.compile(r"[^\W_][\w'’&.-]*")
# Words a person puts before a place ("near Brixton", "in Streatham"), dropped (rule 5).
_CUES: Final = ("near to", "close to", "near", "in", "around", "nr")
_LEADING_CUE = re.compile(r"^(?:(?:" + "|".join(re.escape(c) for c in _CUES) + r")\s+)+", re.I)
_MAX_NAME_WORDS: Final = 5

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

PlaceKind = Literal[
    "postcode",
    "sector",
    "outcode",
    "authority",
    "city",
    "town",
    "suburb",
    "village",
    "locality",
    "hamlet",
    "local",
]
# Kinds find_in_text takes from words typed in lower case with no "in"/"near" before them:
# names that are rarely also everyday words ("street", "church", "hope" are villages and towns).
_PLAIN_KINDS: Final = frozenset({"authority", "local", "city", "suburb"})
_CAPITALISED_KINDS: Final = _PLAIN_KINDS | {"town"}


@dataclass(frozen=True, slots=True)
class Place:
    """A point a searcher or an import named, with the authority it lies in.

    ``label`` is what the page shows and what resolves back to this very place
    ("Brixton, Lambeth" when another Brixton exists).
    """

    label: str
    kind: PlaceKind
    lat: float
    lon: float
    district_name: str
    postcode_district: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The place chosen for what was typed, and the other places it could have meant (rule 3)."""

    place: Place
    alternatives: list[Place] = field(default_factory=list)


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


def _km(place: Place, point: tuple[float, float]) -> float:
    return distance_km(place.lat, place.lon, point[0], point[1])


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return (math.floor(lat * 10), math.floor(lon * 10))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def _clean(text: str) -> str:
    """What was typed, without leading "near"/"in" and stray punctuation round it."""
    text = " ".join(text.split()).strip(" ,.;:!?")
    return _LEADING_CUE.sub("", text).strip(" ,.;:!?")


def _read(path: Path, key: str) -> dict[str, _Centroid]:
    with path.open(newline="", encoding="utf-8") as f:
        return {
            row[key]: _Centroid(
                float(row["latitude"]), float(row["longitude"]), row["district_name"], int(row["postcodes"])
            )
            for row in csv.DictReader(f)
        }


class Geo:
    """The loaded centroid tables and gazetteer.  Build with :meth:`load` (cached: the files are read once).

    :meth:`for_node` gives a copy that also knows a node's own place names and area.
    """

    def __init__(
        self, districts: dict[str, _Centroid], sectors: dict[str, _Centroid], gazetteer: Gazetteer | None = None
    ) -> None:
        self._districts = districts
        self._sectors = sectors
        self._gazetteer = gazetteer if gazetteer is not None else Gazetteer.load()
        self._local: dict[str, Place] = {}
        self._home: tuple[float, float] | None = None
        weights: dict[str, list[float]] = {}
        for c in districts.values():
            w = weights.setdefault(c.district_name, [0.0, 0.0, 0.0])
            w[0] += c.lat * c.postcodes
            w[1] += c.lon * c.postcodes
            w[2] += c.postcodes
        self._authorities: dict[str, Place] = {}
        self._names: dict[str, str] = {}
        # How built-up each 0.1° cell is (postcodes in its sectors): between two suburbs of one
        # name, the one in the bigger place (Vauxhall in London, Beeston in Leeds) comes first.
        self._density: dict[tuple[int, int], int] = {}
        for c in sectors.values():
            cell = _cell(c.lat, c.lon)
            self._density[cell] = self._density.get(cell, 0) + c.postcodes
        for name, (slat, slon, n) in weights.items():
            self._authorities[name] = Place(name, "authority", slat / n, slon / n, name)
            key = name_key(name)
            self._names[key] = name
            # Welsh authorities are named in both languages ("Caerdydd - Cardiff"):
            # either name on its own finds them.
            for part in name.split(" - ") if " - " in name else ():
                self._names.setdefault(name_key(part), name)
                self._names.setdefault(name_key(re.sub(r"^the\s+", "", part, flags=re.I)), name)
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

    def for_node(
        self, names: Mapping[str, str | tuple[float, float] | PlacePoint], home: tuple[float, float] | None = None
    ) -> Geo:
        """This geography plus a node's own place names (rule 2) and its own area (rule 3).

        ``names`` maps a name to a postcode, sector or district ("LS7") or a (lat, lon)
        pair, as in ``[places]`` of ``signpost.toml``; a value that is neither raises
        :class:`~node.core.errors.ConfigError` naming the entry.
        """
        local: dict[str, Place] = {}
        for name, value in names.items():
            place = self.local_place(name, value)
            local[name_key(name)] = place
        view = copy.copy(self)
        view._local = local
        view._home = home
        return view

    def local_place(self, name: str, value: str | tuple[float, float] | PlacePoint) -> Place:
        """A coordinator's place name as a :class:`Place` ("Chapeltown" = "LS7", or a point)."""
        label = " ".join(name.split())
        if not name_key(label):
            raise ConfigError(f"[places]: {name!r} is not a place name")
        if isinstance(value, str):
            found = self._postcode_like(value)
            if found is None:
                raise ConfigError(
                    f"[places] {label!r} = {value!r}: not a postcode, sector or district we know",
                    hint='give a postcode district like "LS7", a sector like "LS7 3" or a point {lat = ..., lon = ...}',
                )
            return Place(label, "local", found.lat, found.lon, found.district_name, found.label.split(" ")[0])
        lat, lon = (value.lat, value.lon) if isinstance(value, PlacePoint) else value
        if not (_GB_LAT[0] <= lat <= _GB_LAT[1] and _GB_LON[0] <= lon <= _GB_LON[1]):
            raise ConfigError(f"[places] {label!r}: {lat}, {lon} is not in Great Britain")
        outcode, authority = self._nearest_district(lat, lon)
        return Place(label, "local", lat, lon, authority, outcode)

    def _nearest_district(self, lat: float, lon: float) -> tuple[str, str]:
        """The postcode district (and its authority) whose centroid is nearest a point."""
        outcode, c = min(self._districts.items(), key=lambda kv: distance_km(lat, lon, kv[1].lat, kv[1].lon))
        return outcode, c.district_name

    @property
    def local_names(self) -> list[Place]:
        """The node's own place names, as :meth:`for_node` was given them."""
        return sorted(self._local.values(), key=lambda p: p.label.lower())

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
        return Place(norm, "postcode", c.lat, c.lon, c.district_name, outcode) if c else None

    def lookup_sector(self, text: str) -> Place | None:
        """``"LS6 3"`` (any case, a space before the digit) → the sector's centroid; ``"LS63"`` is not a sector."""
        m = _SECTOR.match(" ".join(text.split()).upper())
        if not m or not self._covered(m.group(1)):
            return None
        label = f"{m.group(1)} {m.group(2)}"
        c = self._sectors.get(label)
        return Place(label, "sector", c.lat, c.lon, c.district_name, m.group(1)) if c else None

    def lookup_outcode(self, text: str) -> Place | None:
        """``"ls6"``, ``"LS11"`` → the district's centroid."""
        outcode = _squash(text)
        if not _OUTCODE.match(outcode) or not self._covered(outcode):
            return None
        c = self._districts.get(outcode)
        return Place(outcode, "outcode", c.lat, c.lon, c.district_name, outcode) if c else None

    def _postcode_like(self, text: str) -> Place | None:
        return self.lookup_postcode(text) or self.lookup_sector(text) or self.lookup_outcode(text)

    # -- names -------------------------------------------------------------

    def lookup_authority(self, text: str) -> Place | None:
        """A local authority by name, case- and punctuation-insensitive ("leeds", "Bristol")."""
        name = self._names.get(name_key(text))
        return self._authorities[name] if name else None

    def _same_authority(self, a: str, b: str) -> bool:
        """Whether two spellings name one authority ("Bristol" in the gazetteer, "City of Bristol" here)."""
        ka, kb = name_key(a), name_key(b)
        return ka == kb or (ka in self._names and self._names.get(ka) == self._names.get(kb))

    def _gazetteer_places(self, key: str) -> list[Place]:
        """Every gazetteer place called ``key``, most likely kind first, each labelled so it resolves back."""
        g = self._gazetteer
        rows: list[int] = []
        for i in g.rows(key):
            # "St Ives" and "Saint Ives" at one point are one place, not an alternative to itself.
            if not any(
                g.authority(i) == g.authority(j)
                and g.district(i) == g.district(j)
                and distance_km(*g.point(i), *g.point(j)) < 3.0
                for j in rows
            ):
                rows.append(i)
        found = []
        for i in rows:
            name, authority, district = g.name(i), g.authority(i), g.district(i)
            if not authority or not district:  # five remote hamlets lack them in the data
                district, authority = self._nearest_district(*g.point(i))
            found.append((i, name, authority, district))
        places = []
        for i, name, authority, district in found:
            if len(rows) == 1:
                label = name
            elif sum(1 for f in found if f[2] == authority) == 1:
                label = f"{name}, {authority}"
            else:
                label = f"{name}, {authority}, {district}"
            lat, lon = g.point(i)
            kind: PlaceKind = g.kind(i)  # type: ignore[assignment]
            places.append(Place(label, kind, lat, lon, authority, district))
        return places

    def _choose(self, candidates: list[Place], hint: tuple[float, float] | None) -> list[Place]:
        """``candidates`` with the likeliest first (rule 3); the order given is the kind order."""
        for point in (hint, self._home):
            if point is None:
                continue
            near = [p for p in candidates if _km(p, point) <= NEAR_HOME_KM]
            if near:
                best = min(near, key=lambda p: _km(p, point))
                return [best, *(p for p in candidates if p is not best)]
        return sorted(candidates, key=lambda p: (-KIND_RANK.get(p.kind, 0), -self._built_up(p)))

    def _built_up(self, place: Place) -> int:
        """Postcodes in the 3 × 3 cells (about 30 km by 20 km) round a place: how big a place it is part of."""
        y, x = _cell(place.lat, place.lon)
        return sum(self._density.get((y + dy, x + dx), 0) for dy in (-1, 0, 1) for dx in (-1, 0, 1))

    def _matches(self, place: Place, qualifier: str) -> bool:
        """Whether ``place`` lies in the authority or postcode district ``qualifier`` names."""
        squashed = _squash(qualifier)
        if place.postcode_district and squashed == place.postcode_district:
            return True
        return self._same_authority(place.district_name, qualifier)

    def _named(
        self, head: str, qualifiers: list[str], hint: tuple[float, float] | None, *, strict: bool
    ) -> Resolution | None:
        """A name with optional qualifiers (rules 2 to 4); ``strict`` when the split was only a guess."""
        key = name_key(head)
        if not key:
            return None
        local = self._local.get(key)
        gazetteer = self._gazetteer_places(key)
        authority = self.lookup_authority(head)
        if authority is not None:
            # The authority's own namesake (Leeds the city, in Leeds) is the authority.
            gazetteer = [p for p in gazetteer if not self._same_authority(p.district_name, authority.district_name)]
        if local is not None and not qualifiers:
            others = [p for p in gazetteer if _km(p, (local.lat, local.lon)) > 3.0]  # not itself, from the gazetteer
            return Resolution(local, others[:MAX_ALTERNATIVES])
        candidates = ([authority] if authority else []) + gazetteer
        if local is not None:
            candidates.insert(0, local)
        everyone = list(candidates)
        for qualifier in qualifiers:
            postcode = self._postcode_like(qualifier)
            if postcode is not None:
                inside = [p for p in candidates if p.postcode_district == postcode.postcode_district]
                if not inside:
                    return Resolution(postcode, [])
                candidates = inside
                continue
            inside = [p for p in candidates if self._matches(p, qualifier)]
            if not inside:
                around = self._named(qualifier, [], None, strict=True) if name_key(qualifier) != key else None
                if around is None:
                    if strict:
                        return None
                    continue  # a qualifier we cannot read ("West Yorkshire") is ignored
                point = (around.place.lat, around.place.lon)
                inside = sorted((p for p in candidates if _km(p, point) <= QUALIFIER_KM), key=lambda p: _km(p, point))
                if not inside:
                    if strict and around.place.kind not in ("authority", "city", "postcode", "sector", "outcode"):
                        return None
                    return Resolution(around.place, candidates[:MAX_ALTERNATIVES]) if candidates else None
                hint = point
            candidates = inside
        if not candidates:
            return None
        if authority is not None and candidates[0] is authority and not qualifiers:
            return Resolution(authority, candidates[1 : 1 + MAX_ALTERNATIVES])
        chosen = self._choose(candidates, hint)
        # The namesakes a qualifier set aside are still one click away ("Brixton, South Hams" → "Brixton, Lambeth").
        others = chosen[1:] + [p for p in everyone if p not in chosen]
        return Resolution(chosen[0], _distinct(chosen[0], others))

    # -- what a searcher typed ---------------------------------------------

    def resolve(self, text: str, *, hint: tuple[float, float] | None = None) -> Resolution | None:
        """The place ``text`` names and the others it could mean, by the rules in the module docstring.

        ``hint`` is the searcher's last place (lat, lon), if any: a shared name is read as
        the one nearest it.  ``None`` when nothing matches (the caller offers :meth:`suggest`).
        """
        raw = " ".join(text.split()).strip(" ,.;:!?")
        # "Near Sawrey" is a village: "near" is dropped only when the text as typed names nothing.
        found = self._resolve_typed(raw, hint)
        cleaned = _clean(raw)
        if found is None and cleaned != raw:
            found = self._resolve_typed(cleaned, hint)
        return found

    def _resolve_typed(self, text: str, hint: tuple[float, float] | None) -> Resolution | None:
        if not text:
            return None
        postcode = self._postcode_like(text)
        if postcode is not None:
            return Resolution(postcode, [])
        parts = [p for p in (part.strip() for part in text.split(",")) if p]
        if not parts:
            return None
        found = self._named(parts[0], parts[1:], hint, strict=False)
        if found is not None or len(parts) > 1:
            return found
        words = parts[0].split()
        for cut in range(len(words) - 1, 0, -1):
            found = self._named(" ".join(words[:cut]), [" ".join(words[cut:])], hint, strict=True)
            if found is not None:
                return found
        # "LS6 Leeds": a postcode first, then words.
        for cut in range(1, len(words)):
            postcode = self._postcode_like(" ".join(words[:cut]))
            if postcode is not None and self._named(" ".join(words[cut:]), [], None, strict=True):
                return Resolution(postcode, [])
        return None

    def lookup_place(self, text: str) -> Place | None:
        """Whatever a searcher typed: postcode, sector, district, authority or place name (``resolve(...).place``)."""
        found = self.resolve(text)
        return found.place if found else None

    def find_in_text(self, text: str) -> tuple[Resolution, str] | None:
        """A postcode or place named inside free text, and the rest of the words.

        "hearing voices LS6" → (LS6, "hearing voices"); "groups in Brixton" → (Brixton, "groups").
        Postcodes are found anywhere; a name needs "in"/"near"/"around" before it, or to be
        the coordinator's own name, or a city, suburb or authority typed on its own or with a
        capital letter (a town too when capitalised), so "street outreach" or "church group"
        stay words.  The longest name wins.
        """
        for pattern in (_IN_TEXT_POSTCODE, _IN_TEXT_SECTOR, _IN_TEXT_OUTCODE):
            for m in pattern.finditer(text):
                place = self._postcode_like(m.group(0))
                if place is not None:
                    return Resolution(place, []), _rest(text, m.start(), m.end())
        words = list(_WORD.finditer(text))
        best: tuple[int, int, int, Resolution] | None = None  # (words, start, end, found)
        for i in range(len(words)):
            cue = i > 0 and name_key(words[i - 1].group(0)) in _CUES
            for n in range(min(_MAX_NAME_WORDS, len(words) - i), 0, -1):
                if best is not None and n <= best[0]:
                    break
                start, end = words[i].start(), words[i + n - 1].end()
                typed = text[start:end].strip(" .,'’-")
                found = self._named(typed, [], None, strict=True)
                if found is None:
                    continue
                whole = n == len(words)
                capitalised = all(w.group(0)[:1].isupper() for w in words[i : i + n])
                kind = found.place.kind
                if (
                    cue
                    or kind == "local"
                    or (whole and kind in _PLAIN_KINDS)
                    or (capitalised and kind in _CAPITALISED_KINDS and (i > 0 or whole))
                ):
                    cut = words[i - 1].start() if cue else start
                    best = (n, cut, end, found)
                    break
        if best is None:
            return None
        _, start, end, found = best
        return found, _rest(text, start, end)

    def suggest(self, text: str, n: int = 5) -> list[str]:
        """Places spelt like ``text`` for a "did you mean" line, closest first.

        From the gazetteer, the authorities and the node's own names, by edit similarity
        (:meth:`node.directory.places.Gazetteer.similar`), never from authority names alone.
        """
        key = name_key(_clean(text))
        if not key:
            return []
        found: list[str] = []
        for k in self._gazetteer.similar(key, n * 2, extra=[*self._names, *self._local]):
            local = self._local.get(k)
            if local is not None:
                label = local.label
            elif self._gazetteer.rows(k):
                label = self._gazetteer.name(self._gazetteer.rows(k)[0])
            else:
                label = self._names[k]
            if label not in found:
                found.append(label)
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


def _distinct(chosen: Place, others: list[Place]) -> list[Place]:
    """Up to :data:`MAX_ALTERNATIVES` of ``others``, none labelled like ``chosen`` or each other."""
    seen = {chosen.label}
    out = []
    for p in others:
        if p.label not in seen:
            seen.add(p.label)
            out.append(p)
    return out[:MAX_ALTERNATIVES]


def _rest(text: str, start: int, end: int) -> str:
    """``text`` without ``text[start:end]``, spaces and stray commas tidied."""
    rest = f"{text[:start]} {text[end:]}"
    return " ".join(rest.replace(" ,", ",").split()).strip(" ,.;:")


@functools.cache
def _load(data_dir: Path) -> Geo:
    return Geo(
        _read(data_dir / "uk-postcode-districts.csv", "outcode"),
        _read(data_dir / "uk-postcode-sectors.csv", "sector"),
    )
