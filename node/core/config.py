"""``signpost.toml``: strict at home (house style §4).

A typo in the config is refused with the line it is on, rather than being
silently ignored and leaving the node misconfigured.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

import msgspec
import tomlkit
from msgspec import Meta, Struct
from tomlkit.items import Table

from node.core.errors import ConfigError, NotANode

__all__ = [
    "NodeSettings",
    "SyncSettings",
    "AdminSettings",
    "ImportSettings",
    "WebSettings",
    "PublishingSettings",
    "Config",
    "load_config",
    "render_config",
    "update_config",
    "write_password_hash",
    "PlacePoint",
    "write_place",
    "CONFIG_NAME",
    "DEFAULT_LICENSE",
]

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
    # Peers at private, link-local or loopback addresses (a production node refuses them; docs/configuration.md).
    allow_private_peers: bool = False
    enabled: bool = True
    # Processes that verify signatures during a big pull: -1 one per core, 0 none (in-process).
    verify_workers: Annotated[int, Meta(ge=-1, le=64)] = -1


class AdminSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    password_hash: str | None = None


class ImportSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    sheet_url: str | None = None
    sheet_interval: Annotated[float, Meta(ge=60)] = 3600.0
    # How the published sheet's meeting places are read when it has no column saying which are
    # private: "public" (every venue in full) or "private" (area only); unset, the choice
    # remembered for the sheet's URL, else area only (node.importer.venues).
    venues: Literal["public", "private"] | None = None


class PublishingSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    # Whole days after an event's last date before this node retires it with a signed tombstone
    # (node.publishing.retirement); it leaves search the day after it ends either way.
    retire_after_days: Annotated[int, Meta(ge=0, le=3650)] = 30


def _loopback_proxies() -> list[str]:
    return ["127.0.0.1/32", "::1/128"]


class WebSettings(Struct, kw_only=True, forbid_unknown_fields=True):
    """How the node sees its visitors (docs/configuration.md, docs/security.md §6)."""

    # Reverse proxies whose X-Forwarded-For is believed, as CIDRs; a request from anywhere else is
    # counted against its own address, whatever it claims.
    trusted_proxies: list[str] = msgspec.field(default_factory=_loopback_proxies)

    def __post_init__(self) -> None:
        import ipaddress

        for cidr in self.trusted_proxies:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {cidr!r} is not an address or a CIDR range") from None


class PlacePoint(Struct, kw_only=True, forbid_unknown_fields=True):
    """A coordinator's place name given as a point: ``"Hyde Park" = { lat = 53.8125, lon = -1.5660 }``."""

    lat: Annotated[float, Meta(ge=-90, le=90)]
    lon: Annotated[float, Meta(ge=-180, le=180)]


class Config(Struct, kw_only=True, forbid_unknown_fields=True):
    node: NodeSettings
    sync: SyncSettings = msgspec.field(default_factory=SyncSettings)
    admin: AdminSettings = msgspec.field(default_factory=AdminSettings)
    import_: ImportSettings = msgspec.field(default_factory=ImportSettings, name="import")
    web: WebSettings = msgspec.field(default_factory=WebSettings)
    publishing: PublishingSettings = msgspec.field(default_factory=PublishingSettings)
    # Place names for this node's own area that the gazetteer lacks ("Chapeltown" = "LS7"); they win over
    # it for this node's searches (node.directory.geo, rule 2).  Checked against the postcode data at start.
    places: dict[Annotated[str, Meta(min_length=1, max_length=80)], str | PlacePoint] = msgspec.field(
        default_factory=dict
    )
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
    config = _parse(path.read_text("utf-8"), path)
    config.directory = directory
    return config


def _parse(text: str, path: Path) -> Config:
    """The settings in ``text``, or :class:`ConfigError` naming the line of the first wrong key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from e
    try:
        return msgspec.convert(raw, type=Config)
    except msgspec.ValidationError as e:
        message = str(e)
        m = re.search(r"unknown field `([^`]+)`", message) or re.search(r"at `\$\.(?:\w+\.)*(\w+)", message)
        line = _line_of(text, m.group(1)) if m else None
        where = f"{path}, line {line}" if line else str(path)
        raise ConfigError(
            f"{where}: {message}", hint="check the spelling against the settings in docs/configuration.md"
        ) from e


def render_config(
    *,
    name: str,
    url: str,
    port: int,
    license: str = DEFAULT_LICENSE,
    contact: str | None = None,
    password_hash: str | None = None,
) -> str:
    """The ``signpost.toml`` that ``signpost init`` writes, with comments a coordinator can follow.

    Written by tomlkit, so any name, address or contact (quotes, backslashes, line breaks
    included) comes out as valid TOML that reads back as the same string.
    """
    doc = tomlkit.document()
    doc.add(tomlkit.comment("Signpost node settings. Edit and restart `signpost serve` to apply."))
    node = tomlkit.table()
    node.add("name", name)
    node.add(tomlkit.comment("The public address people and peers use to reach this node."))
    node.add("url", url)
    node.add(tomlkit.comment("The licence your listings are published under."))
    node.add("license", license)
    if contact:
        node.add(tomlkit.comment("Shown on listings that have no contact details of their own."))
        node.add("contact", contact)
    node.add("host", "127.0.0.1")
    node.add("port", port)
    doc.add("node", node)
    sync = tomlkit.table()
    sync.add(tomlkit.comment("Seconds between pulls from each followed peer."))
    sync.add("interval", 300)
    doc.add("sync", sync)
    if password_hash:
        admin = tomlkit.table()
        admin.add("password_hash", password_hash)
        doc.add("admin", admin)
    return tomlkit.dumps(doc)


def update_config(
    directory: Path, section: str, key: str, value: str | int | float | bool, *, comment: str | None = None
) -> None:
    """Set ``[section] key = value`` in ``signpost.toml``, keeping the rest of the file as the coordinator wrote it.

    tomlkit edits the parsed document, so comments, blank lines and the order of keys
    survive; ``comment`` becomes the value's end-of-line comment.  The new text must load
    as a valid config before it replaces the old file (written beside it, then renamed), so
    a failed edit leaves the node's settings as they were.
    """
    path = directory / CONFIG_NAME
    load_config(directory)  # refuses a missing or broken config before we touch it
    doc = tomlkit.parse(path.read_text("utf-8"))
    table = doc.get(section)
    if table is None:
        table = tomlkit.table()
        doc.add(section, table)
    elif not isinstance(table, Table):
        raise ConfigError(f"{path}: [{section}] is not a table")
    item = tomlkit.item(value)
    if comment:
        item.comment(comment)
    table[key] = item
    text = tomlkit.dumps(doc)
    _parse(text, path)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)


def write_place(directory: Path, name: str, value: str | PlacePoint | None) -> None:
    """Add, change (``value``) or remove (``None``) one ``[places]`` name in ``signpost.toml``.

    Like :func:`update_config`: tomlkit keeps the rest of the file as written, and the new
    text must load as a valid config before it replaces the old one.
    """
    path = directory / CONFIG_NAME
    load_config(directory)
    doc = tomlkit.parse(path.read_text("utf-8"))
    table = doc.get("places")
    if table is None:
        if value is None:
            return
        table = tomlkit.table()
        doc.add("places", table)
    elif not isinstance(table, Table):
        raise ConfigError(f"{path}: [places] is not a table")
    if value is None:
        if name in table:
            del table[name]
    elif isinstance(value, PlacePoint):
        point = tomlkit.inline_table()
        point.update({"lat": value.lat, "lon": value.lon})
        table[name] = point
    else:
        table[name] = value
    text = tomlkit.dumps(doc)
    _parse(text, path)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)


def write_password_hash(directory: Path, password_hash: str) -> None:
    """Set ``[admin] password_hash`` in ``signpost.toml`` (what ``signpost password`` stores)."""
    update_config(directory, "admin", "password_hash", password_hash)
