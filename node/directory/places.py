"""The gazetteer: Great Britain's cities, towns, villages and neighbourhoods by name.

``data/gb-places.csv`` (see ``node/directory/data/README.md`` for its sources and CC BY 4.0
attribution) holds 45,620 named places.  :class:`Gazetteer` keeps them compactly (parallel
arrays and one dict from a normalised name to its rows), so a name typed in "near" is one
dict look-up; :mod:`node.directory.geo` chooses among places sharing a name.  Spelling
suggestions use a trigram index built on first use, so an unknown place costs a few
milliseconds and a known one nothing more.

The node's own listings' centroid (:func:`own_centroid`) is read here too: it is the
"node's own area" a shared name is judged against when the searcher gave no other hint
(docs/architecture.md: SQL stays in ``node/storage`` and ``node/directory``).
"""

from __future__ import annotations

import bisect
import csv
import difflib
import functools
import heapq
import re
import sqlite3
import unicodedata
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

__all__ = [
    "PLACES_FILE",
    "PLACES_ATTRIBUTION",
    "KINDS",
    "KIND_RANK",
    "Gazetteer",
    "name_key",
    "own_centroid",
]

PLACES_FILE: Final = Path(__file__).parent / "data" / "gb-places.csv"
PLACES_ATTRIBUTION: Final = (
    "Place data derived from GeoNames (https://www.geonames.org/), CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/), modified. Contains OS data © Crown copyright "
    "and database right 2025 and 2019. Contains Royal Mail data © Royal Mail copyright and database "
    "right 2025. Contains National Statistics data © Crown copyright and database right 2025. "
    "Contains public sector information (NaPTAN, Department for Transport) licensed under the Open "
    "Government Licence v3.0."
)
# The gazetteer's kinds, most likely to be meant first: a searcher who types a name shared
# by a town's suburb and a hamlet almost always means the suburb.
KINDS: Final = ("city", "town", "suburb", "village", "locality", "hamlet")
KIND_RANK: Final = {kind: len(KINDS) - i for i, kind in enumerate(KINDS)}
_SUGGEST_POOL: Final = 200  # names scored by edit similarity after the trigram count


def name_key(text: str) -> str:
    """Case-, accent-, apostrophe- and punctuation-insensitive key: "St. Mary's-on-Sea" → "st marys on sea".

    "Saint" and "St" are one word, so "Saint Ives" and "St Ives" meet.
    """
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    folded = re.sub(r"['’`]", "", folded.replace("&", " and "))
    words = re.sub(r"[^a-z0-9]+", " ", folded).split()
    return " ".join("st" if w == "saint" else w for w in words)


def _trigrams(key: str) -> set[str]:
    padded = f"  {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


class _Packed:
    """Many short strings in one ``str`` with an offsets array: a read-only sequence for :mod:`bisect`.

    45,000 separate ``str`` objects cost about 60 bytes each; packed they cost their
    characters and four bytes.
    """

    def __init__(self, items: Iterable[str]) -> None:
        offsets = array("I", [0])
        parts: list[str] = []
        end = 0
        for item in items:
            parts.append(item)
            end += len(item)
            offsets.append(end)
        self._blob = "".join(parts)
        self._offsets = offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> str:
        return self._blob[self._offsets[i] : self._offsets[i + 1]]

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


class Gazetteer:
    """Every place in ``gb-places.csv``, packed: row ``i`` is ``name(i)``, ``kind(i)``, ``lat(i)``, ...

    Read once per process (:meth:`load`).  Names are found through a sorted, packed list of
    :func:`name_key` keys (binary search), each pointing at its rows, most likely kind first.
    """

    def __init__(self, rows: Iterable[list[str]]) -> None:
        names: list[str] = []
        self._kinds = bytearray()
        self._lats = array("d")
        self._lons = array("d")
        self._district_of = array("H")
        self._authority_of = array("H")
        self._district_names: list[str] = []
        self._authority_names: list[str] = []
        districts: dict[str, int] = {}
        authorities: dict[str, int] = {}
        codes = {kind: i for i, kind in enumerate(KINDS)}
        grouped: dict[str, list[int]] = {}
        for i, (name, kind, lat, lon, district, authority) in enumerate(rows):
            names.append(name)
            self._kinds.append(codes[kind])
            self._lats.append(float(lat))
            self._lons.append(float(lon))
            if district not in districts:
                districts[district] = len(self._district_names)
                self._district_names.append(district)
            if authority not in authorities:
                authorities[authority] = len(self._authority_names)
                self._authority_names.append(authority)
            self._district_of.append(districts[district])
            self._authority_of.append(authorities[authority])
            grouped.setdefault(name_key(name), []).append(i)
        self._names = _Packed(names)
        keys = sorted(grouped)
        self._keys = _Packed(keys)
        self._starts = array("I", [0])
        self._rows = array("I")
        for key in keys:
            self._rows.extend(sorted(grouped[key], key=lambda i: (self._kinds[i], self.authority(i))))
            self._starts.append(len(self._rows))
        self._trigram_index: dict[str, array[int]] | None = None

    @classmethod
    def load(cls, path: Path = PLACES_FILE) -> Gazetteer:
        """The gazetteer in ``path``, read once per process."""
        return _load(path)

    def __len__(self) -> int:
        return len(self._names)

    def name(self, i: int) -> str:
        return self._names[i]

    def kind(self, i: int) -> str:
        return KINDS[self._kinds[i]]

    def point(self, i: int) -> tuple[float, float]:
        return (self._lats[i], self._lons[i])

    def district(self, i: int) -> str:
        return self._district_names[self._district_of[i]]

    def authority(self, i: int) -> str:
        return self._authority_names[self._authority_of[i]]

    @property
    def authority_names(self) -> list[str]:
        return list(self._authority_names)

    def rows(self, key: str) -> tuple[int, ...]:
        """The rows named ``key`` (already a :func:`name_key`), most likely kind first."""
        j = bisect.bisect_left(self._keys, key)
        if j == len(self._keys) or self._keys[j] != key:
            return ()
        return tuple(self._rows[self._starts[j] : self._starts[j + 1]])

    def similar(self, key: str, n: int, *, extra: Iterable[str] = ()) -> list[str]:
        """Up to ``n`` keys spelt like ``key``, closest first (gazetteer keys and ``extra`` keys).

        A trigram count narrows 36,000 names to a few hundred, which difflib then scores;
        ties go to the bigger kind of place, so "brixtonn" gives Brixton before Brighton.
        """
        if len(key) < 3:
            return []
        grams = self._grams()
        counts: dict[int, int] = {}
        for gram in _trigrams(key):
            for j in grams.get(gram, ()):
                counts[j] = counts.get(j, 0) + 1
        pool = [self._keys[j] for j in heapq.nlargest(_SUGGEST_POOL, counts, key=counts.__getitem__)]
        pool.extend(extra)
        scored: dict[str, tuple[float, int]] = {}
        matcher = difflib.SequenceMatcher(b=key, autojunk=False)
        for other in pool:
            if other in scored or other == key:
                continue
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() < 0.6 or matcher.quick_ratio() < 0.6:
                continue
            ratio = matcher.ratio()
            if ratio >= 0.6:
                rank = max((KIND_RANK[self.kind(i)] for i in self.rows(other)), default=len(KINDS))
                scored[other] = (ratio, rank)
        return heapq.nlargest(n, scored, key=scored.__getitem__)

    def _grams(self) -> dict[str, array[int]]:
        """Trigram → key numbers, built on the first suggestion (most processes never need it)."""
        if self._trigram_index is None:
            building: dict[str, list[int]] = {}
            for j, key in enumerate(self._keys):
                for gram in _trigrams(key):
                    building.setdefault(gram, []).append(j)
            self._trigram_index = {gram: array("I", js) for gram, js in building.items()}
        return self._trigram_index


@functools.cache
def _load(path: Path) -> Gazetteer:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header != ["name", "kind", "lat", "lon", "postcode_district", "local_authority"]:
            raise ValueError(f"{path}: unexpected columns {header}")
        return Gazetteer(reader)


def own_centroid(conn: sqlite3.Connection, publisher: str) -> tuple[float, float] | None:
    """The mean point of this node's own listings that have one: the node's own area.

    A name several places share is read as the one nearest here when the searcher gave no
    nearer hint (docs/architecture.md, node/directory).
    """
    row = conn.execute(
        "SELECT avg(lat), avg(lon), count(*) FROM listings WHERE publisher = ? AND lat IS NOT NULL AND lon IS NOT NULL",
        (publisher,),
    ).fetchone()
    if row is None or not row[2]:
        return None
    return (float(row[0]), float(row[1]))
