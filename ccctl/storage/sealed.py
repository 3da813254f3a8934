"""Media files sealed with AES-256-GCM: the format, the key, and reading a file back in clear.

A sealed file keeps its name and path (rows in the database stay as they are) and starts with
MAGIC; a file without it is read as it is, so media stored before encryption keeps working.
The file is cut into chunks, each authenticated with its number and whether it is the last, so
a chunk swapped, dropped or cut off is refused like a wrong key.
"""

from __future__ import annotations

import os
import secrets
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ccctl.config import Settings
from ccctl.errors import UserError

MAGIC = b"CCSEAL1\n"
KEY_BYTES = 32
NONCE_PREFIX_BYTES = 8  # random per file; the chunk number makes the other 4 of the 12-byte nonce
CHUNK_BYTES = 1 << 20
TAG_BYTES = 16
LENGTH_BYTES = 4
KEY_SETTING = "storage.key_file"


class MediaKeyError(UserError):
    """The key is missing, unsafe or does not open a file; str() names the setting and the file, never its data."""


def load_key(settings: Settings) -> bytes | None:
    """The key of storage.key_file; None when the setting is empty (media is then stored in clear)."""
    name = settings.storage.key_file
    if not name:
        return None
    return read_key_file(Path(name))


def read_key_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise MediaKeyError(f"{KEY_SETTING} {path}: cannot read it ({exc.strerror})") from None
    if mode & (stat.S_IRWXO):
        raise MediaKeyError(f"{KEY_SETTING} {path}: other users may read it; chmod 600 {path}")
    if len(data) != KEY_BYTES:
        raise MediaKeyError(
            f"{KEY_SETTING} {path}: holds {len(data)} bytes, a key is {KEY_BYTES} (make one with `ccctl storage keygen`)"
        )
    return data


def is_sealed(path: str | Path) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _nonce(prefix: bytes, number: int) -> bytes:
    return prefix + number.to_bytes(4, "big")


def _aad(number: int, last: bool) -> bytes:
    return MAGIC + number.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _chunks(handle) -> Iterator[tuple[bytes, bool]]:
    """(chunk, is it the last) of an open file, reading one chunk ahead."""
    current = handle.read(CHUNK_BYTES)
    while True:
        following = handle.read(CHUNK_BYTES)
        yield current, not following
        if not following:
            return
        current = following


def seal_stream(chunks: Iterable[tuple[bytes, bool]], key: bytes) -> Iterator[bytes]:
    cipher, prefix = AESGCM(key), secrets.token_bytes(NONCE_PREFIX_BYTES)
    yield MAGIC + prefix
    for number, (chunk, last) in enumerate(chunks):
        sealed = cipher.encrypt(_nonce(prefix, number), chunk, _aad(number, last))
        yield len(sealed).to_bytes(LENGTH_BYTES, "big") + sealed


def write_sealed(target: str | Path, data: bytes, key: bytes | None) -> None:
    """Store data at target, sealed when there is a key (in clear without one), atomically, mode 0640."""
    if key is None:
        _write_atomic(Path(target), [data])
        return
    pieces = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
    _write_atomic(Path(target), seal_stream(((p, i == len(pieces) - 1) for i, p in enumerate(pieces)), key))


def seal_file(path: str | Path, key: bytes) -> bool:
    """Seal a clear file in place (the clear one is replaced); False when it was sealed already."""
    path = Path(path)
    if is_sealed(path):
        return False
    try:
        with open(path, "rb") as handle:
            _write_atomic(path, seal_stream(_chunks(handle), key))
    except OSError as exc:
        raise MediaKeyError(f"{path}: cannot seal it ({exc.strerror})") from None
    return True


def seal_copy(path: str | Path, target: str | Path, key: bytes) -> None:
    """Write a sealed copy of a clear file to target (the clear file stays as it is)."""
    try:
        with open(path, "rb") as handle:
            _write_atomic(Path(target), seal_stream(_chunks(handle), key))
    except OSError as exc:
        raise MediaKeyError(f"{path}: cannot seal a copy to {target} ({exc.strerror})") from None


def sealed_size(clear_bytes: int) -> int:
    """The size of a file of clear_bytes once sealed: the header, and each chunk's length and tag."""
    chunks = max(1, -(-clear_bytes // CHUNK_BYTES))
    return len(MAGIC) + NONCE_PREFIX_BYTES + clear_bytes + chunks * (LENGTH_BYTES + TAG_BYTES)


def clear_chunks(path: str | Path, key: bytes | None) -> Iterator[bytes]:
    """The file's content in clear, chunk by chunk (a clear file as it is)."""
    path = Path(path)
    with open(path, "rb") as handle:
        if handle.read(len(MAGIC)) != MAGIC:
            handle.seek(0)
            while chunk := handle.read(CHUNK_BYTES):
                yield chunk
            return
        if key is None:
            raise MediaKeyError(f"{path}: it is encrypted and {KEY_SETTING} is not set")
        size = os.fstat(handle.fileno()).st_size
        cipher, prefix = AESGCM(key), handle.read(NONCE_PREFIX_BYTES)
        number, last = 0, False
        while not last:
            length = int.from_bytes(handle.read(LENGTH_BYTES) or b"\0", "big")
            sealed = handle.read(length)
            last = handle.tell() >= size
            try:
                yield cipher.decrypt(_nonce(prefix, number), sealed, _aad(number, last))
            except InvalidTag:
                raise MediaKeyError(
                    f"{path}: the key in {KEY_SETTING} does not open it (another key sealed it, or the file is damaged)"
                ) from None
            number += 1


def read_clear(path: str | Path, key: bytes | None) -> bytes:
    try:
        return b"".join(clear_chunks(path, key))
    except OSError as exc:
        raise MediaKeyError(f"{path}: cannot read it ({exc.strerror})") from None


def copy_clear(path: str | Path, target: str | Path, key: bytes | None) -> None:
    """Write the file's content in clear to target (a copy handed to a person or a converter)."""
    try:
        _write_atomic(Path(target), clear_chunks(path, key))
    except OSError as exc:
        raise MediaKeyError(f"{path}: cannot copy it to {target} ({exc.strerror})") from None


def _write_atomic(target: Path, pieces: Iterable[bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for piece in pieces:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, 0o640)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
