"""Keeping bots out of the public report form without a login or a third-party service.

A honeypot field (people never see it; form-filling bots do), a minimum fill
time carried in an HMAC-signed timestamp (a bot posting straight away fails;
a form older than a day is refused as stale), and a per-address rate limit.
The form itself is :mod:`node.web.views.reports`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Final

from aiohttp import web

from node.web.auth import LimitRule, RateLimiter

__all__ = ["REPORTS", "ReportSettings", "REPORT_LIMITS", "HONEYPOT", "SpamRefused", "sign_stamp", "check_stamp"]

HONEYPOT: Final = "website_url"  # a name bots like to fill
REPORT_LIMITS: Final = (LimitRule("address", 5, 3600), LimitRule("account", 200, 3600))


@dataclass
class ReportSettings:
    """The stamp secret (made once per node, kept in ``meta``), the fill-time window and the rate limiter."""

    secret: bytes
    min_seconds: float = 3.0
    max_age: float = 24 * 3600
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(REPORT_LIMITS))


REPORTS: web.AppKey[ReportSettings] = web.AppKey("reports", ReportSettings)


class SpamRefused(Exception):
    """The submission looks automated or stale; ``message`` is what the person is told."""


def sign_stamp(secret: bytes, when: float, target: str) -> str:
    """A form timestamp bound to one listing, signed so it cannot be forged or moved."""
    ts = str(int(when))
    mac = hmac.new(secret, f"{ts}|{target}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{ts}.{mac}"


def check_stamp(secret: bytes, stamp: str, target: str, *, now: float, min_seconds: float, max_age: float) -> None:
    """Raise :class:`SpamRefused` unless ``stamp`` was signed here for ``target`` between ``min_seconds`` and
    ``max_age`` ago."""
    m = re.fullmatch(r"(\d{1,12})\.([0-9a-f]{32})", stamp or "")
    if m is None or not hmac.compare_digest(sign_stamp(secret, int(m.group(1)), target), stamp):
        raise SpamRefused("This form could not be checked. Please reload the page and send it again.")
    age = now - int(m.group(1))
    if age < min_seconds:
        raise SpamRefused(
            "That was sent very quickly, so it looked automatic. Please check your message and send it again."
        )
    if age > max_age:
        raise SpamRefused("This form is more than a day old. Please reload the page and send it again.")
