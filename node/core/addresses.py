"""Which hosts count as this machine: the one rule for plain HTTP and binding without asking.

Used by the peer and sheet URL checks (``node.federation.fetch``, ``node.importer.sheet``) and by
``signpost serve``; kept in core so the importer and the CLI need not reach into federation.
"""

from __future__ import annotations

import ipaddress

__all__ = ["is_loopback"]


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 or ::1: where plain HTTP (and binding) is allowed without asking."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
