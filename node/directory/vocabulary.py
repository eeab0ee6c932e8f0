"""The words people type, read into what listings say: stems, filler words and everyday phrases.

People search for support in their own words ("men's group", "just left
hospital", "anything on tonight"), not in the words a record uses (topic
``leaving-hospital``, a schedule).  :func:`read_words` turns the words box of
the public search page into an :class:`Intent`:

- ``terms``: the words to look for in listings, each reduced to its stem
  ("men's", "mens" → ``men``; "carers'" → ``carer``), with filler words
  (:data:`FILLER`: "group", "support", "near", "help", …) dropped so they never
  decide a match on their own;
- ``topics``, ``kinds``, ``delivery``, ``when`` and ``days``: what the phrases of
  the vocabulary table (``data/vocabulary.csv``) say the person is looking for.

The table is a plain CSV a coordinator can read and extend: one phrase a line,
with the topics (spec §2.4), kinds (§2.3), delivery, and time ("today",
"tomorrow", "this-weekend", or a weekday such as ``SA``) it stands for, and
extra ``words`` to look for.  The longest phrase wins ("just left hospital"
before "hospital").  These are preferences, not filters: the public search
ranks listings that fit them first (``node.directory.search``, best-effort
mode); the JSON API keeps its exact ``q`` semantics (docs/architecture.md).
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from node.directory.filters import STOPWORDS, WHENS
from protocol.records import DELIVERY, KINDS, TOPICS

__all__ = ["FILLER", "WEEKDAYS", "Phrase", "Intent", "stem", "tokens", "load_vocabulary", "read_words"]

VOCABULARY_CSV: Final = Path(__file__).resolve().parent / "data" / "vocabulary.csv"
WEEKDAYS: Final = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Words that say nothing about which listing is wanted: dropped from the terms.
FILLER: Final = STOPWORDS | frozenset(
    {
        "group",
        "groups",
        "support",
        "supports",
        "help",
        "service",
        "services",
        "near",
        "nearby",
        "local",
        "around",
        "anything",
        "something",
        "somewhere",
        "find",
        "looking",
        "need",
        "want",
        "get",
        "how",
        "be",
        "who",
        "has",
        "have",
        "what",
        "where",
        "when",
        "there",
        "im",
        "am",
        "was",
        "just",
        "s",
    }
)
_IRREGULAR: Final = {"mens": "men", "womens": "women", "childrens": "children", "peoples": "people"}
_WORD = re.compile(r"[\w']+", re.UNICODE)
_MAX_TERMS: Final = 8


def stem(word: str) -> str:
    """A word's stem for matching: possessives and plain plurals dropped ("men's", "mens" → men; "carers'" → carer)."""
    w = word.lower().replace("’", "'").strip("'_")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.replace("'", "")
    w = _IRREGULAR.get(w, w)
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is", "ys")):
        w = w[:-1]
    return w


def tokens(text: str) -> list[str]:
    """The stems of ``text``'s words, in order (filler words kept: phrases may use them)."""
    out = []
    for raw in _WORD.findall(text.replace("’", "'")):
        for part in raw.split("_"):
            w = stem(part)
            if w:
                out.append(w)
    return out


@dataclass(frozen=True)
class Phrase:
    """One line of the vocabulary table."""

    phrase: str
    topics: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    delivery: tuple[str, ...] = ()
    when: str = ""
    words: tuple[str, ...] = ()


@dataclass(frozen=True)
class Intent:
    """What the words box asks for, read with the vocabulary (see the module docstring)."""

    terms: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()  # repeated when several phrases point at one topic (a stronger hint)
    kinds: frozenset[str] = frozenset()
    delivery: frozenset[str] = frozenset()
    when: str | None = None  # one of filters.WHENS
    days: int = 0  # weekday bitmask, Monday is bit 0 (as node.storage.index.weekday_mask)
    phrases: tuple[str, ...] = field(default=())  # the phrases recognised, for saying what was understood

    @property
    def empty(self) -> bool:
        return not (self.terms or self.topics or self.kinds or self.delivery or self.when or self.days)


def _split(cell: str, allowed: object, where: str) -> tuple[str, ...]:
    values = tuple(v.strip() for v in cell.replace(";", " ").split() if v.strip())
    for v in values:
        if v not in allowed:  # type: ignore[operator]
            raise ValueError(f"{where}: {v!r} is not one of {sorted(allowed)}")  # type: ignore[call-overload]
    return values


@functools.lru_cache(maxsize=4)
def load_vocabulary(path: Path = VOCABULARY_CSV) -> dict[tuple[str, ...], Phrase]:
    """The table, keyed by the phrase's stems; a bad topic, kind or time, or a repeated phrase, fails loudly (line named)."""
    out: dict[tuple[str, ...], Phrase] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.DictReader(f), 2):
            where = f"{path.name} line {n}"
            key = tuple(tokens(row["phrase"]))
            if not key:
                raise ValueError(f"{where}: no phrase")
            if key in out:
                raise ValueError(f"{where}: {row['phrase']!r} is the same words as {out[key].phrase!r}")
            when = row["when"].strip()
            if when and when not in WHENS and when not in WEEKDAYS:
                raise ValueError(f"{where}: when {when!r} is not one of {[*WHENS, *WEEKDAYS]}")
            out[key] = Phrase(
                phrase=row["phrase"].strip(),
                topics=_split(row["topics"], TOPICS, where),
                kinds=_split(row["kinds"], KINDS, where),
                delivery=_split(row["delivery"], DELIVERY, where),
                when=when,
                words=tuple(tokens(row["words"])),
            )
    return out


def read_words(q: str, vocabulary: dict[tuple[str, ...], Phrase] | None = None) -> Intent:
    """Read the words box: phrases of the vocabulary (longest first), then the remaining non-filler stems."""
    vocab = load_vocabulary() if vocabulary is None else vocabulary
    longest = max((len(k) for k in vocab), default=1)
    ws = tokens(q[:200])
    terms: list[str] = []
    topics: list[str] = []
    kinds: set[str] = set()
    delivery: set[str] = set()
    phrases: list[str] = []
    when: str | None = None
    days = 0
    i = 0
    while i < len(ws):
        for size in range(min(longest, len(ws) - i), 0, -1):
            found = vocab.get(tuple(ws[i : i + size]))
            if found is not None:
                break
        else:
            if ws[i] not in FILLER and ws[i] not in terms:
                terms.append(ws[i])
            i += 1
            continue
        topics += found.topics
        kinds.update(found.kinds)
        delivery.update(found.delivery)
        # The phrase's own words are looked for too: a listing may say "hospital" or "crisis" itself.
        terms += [w for w in (*ws[i : i + size], *found.words) if w not in FILLER and w not in terms]
        if found.when in WEEKDAYS:
            days |= 1 << WEEKDAYS.index(found.when)
        elif found.when:
            when = when or found.when
        phrases.append(found.phrase)
        i += size
    return Intent(
        terms=tuple(terms[:_MAX_TERMS]),
        topics=tuple(topics),
        kinds=frozenset(kinds),
        delivery=frozenset(delivery),
        when=when,
        days=days,
        phrases=tuple(phrases),
    )
