"""How old a listing's "last checked" date may be before people are warned, then before it is hidden.

One pair of numbers read by search (``filters``), the console and peer health (``node.federation.health``),
so "out of date" means the same thing on every page.
"""

from __future__ import annotations

from typing import Final

__all__ = ["STALE_DAYS", "HIDDEN_DAYS"]

STALE_DAYS: Final = 183  # "may be out of date"
HIDDEN_DAYS: Final = 365  # hidden from search unless the coordinator chose otherwise
