"""Each agent's own SIP password, kept only as the digest FreeSWITCH checks (the directory's a1-hash).

a1-hash = md5("<extension>:<domain>:<password>"), the HA1 of SIP digest authentication: FreeSWITCH
checks a REGISTER against it without the password. `ccctl agents passwd` makes a password, shows
it once and keeps its digest in freeswitch.agents_credentials (a JSON file, extension -> a1-hash,
readable by its owner only); `ccctl fs render` writes the digests into the directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
from pathlib import Path

from ccctl.errors import UserError

PASSWORD_BYTES = 15  # 20 URL-safe characters: letters, digits, '-' and '_', nothing FreeSWITCH's XML escapes


class CredentialsError(UserError):
    """The credentials file cannot be read or written; str() names the file."""


def a1_hash(extension: str, domain: str, password: str) -> str:
    # md5 is what SIP digest (RFC 2617) and FreeSWITCH's a1-hash use; it is not our choice of hash
    return hashlib.md5(f"{extension}:{domain}:{password}".encode()).hexdigest()  # noqa: S324


def new_password() -> str:
    return secrets.token_urlsafe(PASSWORD_BYTES)


def load_a1_hashes(path: str | os.PathLike) -> dict[str, str]:
    """extension -> a1-hash from the file; {} when it does not exist yet."""
    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise CredentialsError(f"{file}: cannot read the agents' SIP credentials ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise CredentialsError(f"{file}: not a JSON object of extension: a1-hash")
    return data


def store_a1_hash(path: str | os.PathLike, extension: str, digest: str) -> None:
    """Set one extension's digest; the file is replaced whole (0600), never left half written."""
    file = Path(path)
    hashes = load_a1_hashes(file)
    hashes[extension] = digest
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.")
        with os.fdopen(handle, "w") as out:
            json.dump(dict(sorted(hashes.items())), out, indent=1)
            out.write("\n")
        os.chmod(temporary, 0o600)
        os.replace(temporary, file)
    except OSError as exc:
        raise CredentialsError(f"{file}: cannot write the agents' SIP credentials ({exc.strerror or exc})") from None


def set_agent_password(path: str | os.PathLike, extension: str, domain: str) -> str:
    """A new password for the extension: its digest stored, the password returned to be shown once."""
    password = new_password()
    store_a1_hash(path, extension, a1_hash(extension, domain, password))
    return password
