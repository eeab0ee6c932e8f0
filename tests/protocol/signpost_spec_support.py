"""Shared helpers for the protocol tests: where the spec lives and how to load it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

from protocol import envelope as dsse

__all__ = ["REPO", "SPEC", "VECTORS", "load_vectors", "load_tool", "to_envelope", "to_envelopes"]

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "spec"
VECTORS = SPEC / "vectors"


def load_vectors(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def load_tool(name: str) -> ModuleType:
    """Import ``spec/tools/<name>.py`` (the tools are scripts, not a package)."""
    path = SPEC / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"signpost_spec_tools_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def to_envelope(obj: dict[str, Any]) -> dsse.Envelope:
    return msgspec.convert(obj, type=dsse.Envelope)


def to_envelopes(objs: list[dict[str, Any]]) -> list[dsse.Envelope]:
    return [to_envelope(o) for o in objs]
