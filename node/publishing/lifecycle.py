"""Creating a node directory: keys, key log, config and database (``signpost init``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from node.core.config import CONFIG_NAME, DEFAULT_LICENSE, render_config
from node.core.context import now_us
from node.core.errors import NodeError
from node.publishing.keystore import RECOVERY_FILE, SIGNING_FILE, new_key, words_for, write_key
from node.storage.ledger import store_keylog
from node.storage.store import connect, init_schema, secure_node_directory, set_meta, transaction
from protocol.keylog import make_genesis, verify_keylog
from protocol.keys import keyid_for
from protocol.publish import rfc3339

__all__ = ["Initialised", "init_node", "write_private"]


def write_private(path: Path, text: str) -> None:
    """Write a new file readable by its owner only (``signpost.toml`` holds the password hash)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


@dataclass(frozen=True)
class Initialised:
    directory: Path
    publisher: str
    signing_keyid: str
    recovery_words: str


def init_node(
    directory: Path,
    *,
    name: str,
    url: str,
    port: int = 8080,
    license: str = DEFAULT_LICENSE,
    contact: str | None = None,
    password_hash: str | None = None,
    keep_recovery_key: bool = False,
) -> Initialised:
    """Create a new node; refuse to touch a directory that already holds one.

    Only the public half of the recovery key is kept (in the key log): the
    returned words are the one copy of it.  Everything is created owner-only (0700 directories, 0600 files) whatever
    the umask, and a directory other users can write is refused
    (docs/security.md, "At rest").
    """
    if (directory / CONFIG_NAME).exists() or (directory / "signpost.db").exists():
        raise NodeError(f"{directory} already holds a Signpost node", hint="choose another --dir; nothing was changed")
    secure_node_directory(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    secure_node_directory(directory)
    keys_dir = directory / "keys"
    keys_dir.mkdir(mode=0o700, exist_ok=True)
    os.chmod(keys_dir, 0o700)
    signing, recovery = new_key(), new_key()
    write_key(keys_dir / SIGNING_FILE, signing)
    if keep_recovery_key:  # only for tests and tools that imitate a node made before the words-only rule
        write_key(keys_dir / RECOVERY_FILE, recovery)
    now = now_us()
    genesis = make_genesis([keyid_for(signing.public_key())], recovery, created=rfc3339(now))
    log = verify_keylog([genesis])
    conn = connect(directory / "signpost.db")
    try:
        init_schema(conn)
        with transaction(conn):
            set_meta(conn, "publisher", log.publisher)
            store_keylog(conn, log, now_us=now)
    finally:
        conn.close()
    write_private(
        directory / CONFIG_NAME,
        render_config(name=name, url=url, port=port, license=license, contact=contact, password_hash=password_hash),
    )
    return Initialised(directory, log.publisher, keyid_for(signing.public_key()), words_for(recovery))
