"""Private key files in the node directory (mode 0600) and recovery words.

The signing key signs records day to day; the recovery key only signs
key-log entries.  It is given to the coordinator once, as 24 BIP-39 words,
and is not kept on disk: a stolen node directory must not be enough to fork
the key log (docs/security.md, "Recovery key").  Nodes made before that kept
``keys/recovery.key``; :func:`forget_recovery_key` removes it once the
coordinator has the words.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from mnemonic import Mnemonic

from node.core.errors import KeyFileError

__all__ = [
    "SIGNING_FILE",
    "RECOVERY_FILE",
    "write_key",
    "read_key",
    "words_for",
    "key_from_words",
    "new_key",
    "stage_signing_key",
    "settle_staged_key",
    "recovery_key_on_disk",
    "forget_recovery_key",
]

SIGNING_FILE = "signing.key"
STAGED_FILE = "signing.key.new"
RECOVERY_FILE = "recovery.key"
_PREFIX = "ed25519-seed:"
_BIP39 = Mnemonic("english")


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes_raw()


def write_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write a key file readable by its owner only; never overwrite one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(_PREFIX + _seed(key).hex() + "\n")
    os.chmod(path, 0o600)


def read_key(path: Path) -> Ed25519PrivateKey:
    """Read a key file, refusing one that other users could read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(
            f"key file {path} is missing", hint="restore it from your backup, or run `signpost keys recover`"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"key file {path} can be read by other users (mode {stat.S_IMODE(mode):o})",
            hint=f"run: chmod 600 {path}",
        )
    text = path.read_text("ascii").strip()
    if not text.startswith(_PREFIX) or len(text) != len(_PREFIX) + 64:
        raise KeyFileError(f"key file {path} is not a Signpost key")
    try:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text[len(_PREFIX) :]))
    except ValueError as e:
        raise KeyFileError(f"key file {path} is not a Signpost key") from e


def words_for(key: Ed25519PrivateKey) -> str:
    """The 24 recovery words for a key (BIP-39, with a checksum word)."""
    return str(_BIP39.to_mnemonic(_seed(key)))


def key_from_words(words: str) -> Ed25519PrivateKey:
    cleaned = " ".join(words.lower().split())
    if len(cleaned.split()) != 24:
        raise KeyFileError(f"expected 24 recovery words, got {len(cleaned.split())}")
    unknown = [w for w in cleaned.split() if w not in _BIP39.wordlist]
    if unknown:
        raise KeyFileError(
            f"not recovery words: {', '.join(unknown[:3])}", hint="check the spelling against what you wrote down"
        )
    if not _BIP39.check(cleaned):
        raise KeyFileError(
            "the recovery words do not check out", hint="one word is probably mis-copied or out of order"
        )
    return Ed25519PrivateKey.from_private_bytes(bytes(_BIP39.to_entropy(cleaned)))


def stage_signing_key(keys_dir: Path, key: Ed25519PrivateKey) -> None:
    """Write a new signing key beside the current one, to be installed once its key-log entry commits."""
    staged = keys_dir / STAGED_FILE
    staged.unlink(missing_ok=True)
    write_key(staged, key)


def settle_staged_key(keys_dir: Path, authorised: frozenset[str]) -> None:
    """Finish (or abandon) a rotation that a crash may have interrupted.

    A staged key the key log authorises becomes the signing key (the old file
    is kept as ``signing.key.retired-<time>``); one it does not is removed.
    """
    import time

    from protocol.keys import keyid_for

    staged = keys_dir / STAGED_FILE
    if not staged.exists():
        return
    key = read_key(staged)
    if keyid_for(key.public_key()) not in authorised:
        staged.unlink()
        return
    current = keys_dir / SIGNING_FILE
    if current.exists():
        current.rename(keys_dir / f"{SIGNING_FILE}.retired-{time.time_ns()}")
    os.replace(staged, current)


def recovery_key_on_disk(directory: Path) -> bool:
    """Whether this node still keeps its recovery key beside the signing key (nodes made before it stopped)."""
    return (directory / "keys" / RECOVERY_FILE).exists()


def forget_recovery_key(directory: Path, words: str | None) -> bool:
    """Remove ``keys/recovery.key``; with ``words``, only if they are that key's words.

    The file is overwritten before it is unlinked.  Returns whether a key was removed.
    """
    from protocol.keys import keyid_for

    path = directory / "keys" / RECOVERY_FILE
    if not path.exists():
        return False
    if words is not None:
        held = read_key(path)
        if keyid_for(key_from_words(words).public_key()) != keyid_for(held.public_key()):
            raise KeyFileError(
                "those words are not this node's recovery key, so it was kept",
                hint="check them against what you wrote down at `signpost init`",
            )
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.write(b"\0" * size)
        f.flush()
        os.fsync(f.fileno())
    path.unlink()
    return True
