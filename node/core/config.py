"""``signpost.toml``: strict at home (house style §4).

A typo in the config is refused with the line it is on, rather than being
silently ignored and leaving the node misconfigured.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated

import msgspec
from msgspec import Meta, Struct

from node.core.errors import ConfigError, NotANode

__all__ = ["NodeSettings", "SyncSettings", "AdminSettings", "ImportSettings", "Config", "load_config", "render_config", "CONFIG_NAME", "DEFAULT_LICENSE"]

CONFIG_NAME = "signpost.toml"
DEFAULT_LICENSE = "https://creativecommons.org/licenses/by/4.0/"


class NodeSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, Meta(min_length=1, max_length=200)]
    url: Annotated[str, Meta(pattern=r"^https?://[^\s/]+(:\d+)?(/[^\s]*)?$")]
    license: str = DEFAULT_LICENSE
    contact: str | None = None
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=0, le=65535)] = 8080
    allow_public_bind: bool = False


class SyncSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    interval: Annotated[float, Meta(ge=1)] = 300.0
    jitter: Annotated[float, Meta(ge=0, le=1)] = 0.2
    max_concurrent: Annotated[int, Meta(ge=1, le=64)] = 8
    timeout: Annotated[float, Meta(gt=0)] = 30.0
    max_page_bytes: Annotated[int, Meta(ge=1024)] = 8 * 1024 * 1024
    allow_insecure_http: bool = False
    enabled: bool = True
    # Processes that verify signatures during a big pull: -1 one per core, 0 none (in-process).
    verify_workers: Annotated[int, Meta(ge=-1, le=64)] = -1


class AdminSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    password_hash: str | None = None


class ImportSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    sheet_url: str | None = None
    sheet_interval: Annotated[float, Meta(ge=60)] = 3600.0


class Config(Struct, kw_only=True, forbid_unknown_fields=True):
    node: NodeSettings
    sync: SyncSettings = msgspec.field(default_factory=SyncSettings)
    admin: AdminSettings = msgspec.field(default_factory=AdminSettings)
    import_: ImportSettings = msgspec.field(default_factory=ImportSettings, name="import")
    directory: Path = Path(".")

    @property
    def db_path(self) -> Path:
        return self.directory / "signpost.db"

    @property
    def base_url(self) -> str:
        return self.node.url.rstrip("/")


def _line_of(text: str, key: str) -> int | None:
    pattern = re.compile(rf"^\s*\[?\s*{re.escape(key)}\s*[\]=]", re.M)
    m = pattern.search(text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def load_config(directory: Path) -> Config:
    path = directory / CONFIG_NAME
    if not path.exists():
        raise NotANode(
            f"{directory} is not a Signpost node (no {CONFIG_NAME})",
            hint=f"create one with: signpost init --dir {directory} --name NAME --url URL",
        )
    text = path.read_text("utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from e
    try:
        config = msgspec.convert(raw, type=Config)
    except msgspec.ValidationError as e:
        message = str(e)
        m = re.search(r"unknown field `([^`]+)`", message) or re.search(r"at `\$\.(?:\w+\.)*(\w+)", message)
        line = _line_of(text, m.group(1)) if m else None
        where = f"{path}, line {line}" if line else str(path)
        raise ConfigError(f"{where}: {message}", hint="check the spelling against the settings in docs/configuration.md") from e
    config.directory = directory
    return config


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_config(*, name: str, url: str, port: int, license: str = DEFAULT_LICENSE, contact: str | None = None, password_hash: str | None = None) -> str:
    """The ``signpost.toml`` that ``signpost init`` writes, with comments a coordinator can follow."""
    lines = [
        "# Signpost node settings. Edit and restart `signpost serve` to apply.",
        "[node]",
        f"name = {_toml_str(name)}",
        "# The public address people and peers use to reach this node.",
        f"url = {_toml_str(url)}",
        "# The licence your listings are published under.",
        f"license = {_toml_str(license)}",
    ]
    if contact:
        lines.append("# Shown on listings that have no contact details of their own.")
        lines.append(f"contact = {_toml_str(contact)}")
    lines += [
        'host = "127.0.0.1"',
        f"port = {port}",
        "",
        "[sync]",
        "# Seconds between pulls from each followed peer.",
        "interval = 300",
    ]
    if password_hash:
        lines += ["", "[admin]", f"password_hash = {_toml_str(password_hash)}"]
    return "\n".join(lines) + "\n"
