"""The example networks (tests/pages/example_network.py), built once per session, and a national app on them."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for `support` and `nodeutil`
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "pages"))  # example_network, example_fixtures

from example_fixtures import client, network  # noqa: F401  (fixtures, used by name)
