"""The work behind `ccctl storage keygen|encrypt-existing`: make the key, seal media stored before it.

encrypt-existing walks the recordings, faxes and attachments folders; a recording's row gets its
clear size, checksum and length first, so export and the archive still check the clear content.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.config import Settings
from ccctl.recordings.store import apply_facts, file_facts
from ccctl.records.database import in_transaction
from ccctl.records.models.media import Recording
from ccctl.storage.sealed import KEY_BYTES, KEY_SETTING, MediaKeyError, is_sealed, load_key, seal_file


def keygen(path: str | Path) -> Path:
    """Write a new random key (mode 0600); an existing file is never replaced (its media would be lost)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise MediaKeyError(
            f"{path}: exists already; a new key would leave what the old one sealed unreadable"
        ) from None
    except OSError as exc:
        raise MediaKeyError(f"{path}: cannot create it ({exc.strerror})") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_bytes(KEY_BYTES))
    return path


# a recording touched this recently may still be written by the switch: the serve job seals it after its call
RECENT_SECONDS = 120.0


@dataclass
class SealReport:
    sealed: dict[str, int] = field(default_factory=dict)  # folder kind -> files sealed
    already: int = 0
    recent: int = 0

    def summary(self) -> str:
        parts = [f"{count} {kind}" for kind, count in sorted(self.sealed.items())] or ["nothing"]
        text = f"encrypted: {', '.join(parts)}; {self.already} already encrypted"
        if self.recent:
            text += f"; {self.recent} recordings still being written left for ccctl serve to encrypt after their call"
        return text


def media_folders(settings: Settings) -> dict[str, Path]:
    return {
        "recordings": Path(settings.recordings_dir),
        "faxes": Path(settings.fax.faxes_dir),
        "attachments": Path(settings.inbox.attachments_dir),
    }


def encrypt_existing(settings: Settings, now: float | None = None) -> SealReport:
    """Seal every clear file under the media folders.

    Left in clear: the switch's own fax folders (incoming, still arriving; outgoing, read by txfax) and a
    recording touched in the last RECENT_SECONDS (its call may go on).
    """
    key = load_key(settings)
    if key is None:
        raise MediaKeyError(f"{settings.source}: {KEY_SETTING} is not set: make a key with `ccctl storage keygen`")
    now = time.time() if now is None else now
    _fill_recording_facts(settings)
    report = SealReport()
    switch_folders = [Path(settings.fax.faxes_dir) / "incoming", Path(settings.fax.faxes_dir) / "outgoing"]
    for kind, folder in media_folders(settings).items():
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
            if any(switch_folder in path.parents for switch_folder in switch_folders):
                continue
            if kind == "recordings" and now - path.stat().st_mtime < RECENT_SECONDS and not is_sealed(path):
                report.recent += 1
                continue
            if seal_file(path, key):
                report.sealed[kind] = report.sealed.get(kind, 0) + 1
            else:
                report.already += 1
    return report


def _fill_recording_facts(settings: Settings) -> None:
    """Size, SHA-256 and length of each clear recording, read before it is sealed."""

    def work(session: Session) -> None:
        rows = session.scalars(select(Recording).where(Recording.archive_state == "local"))
        for row in rows:
            if row.path and Path(row.path).is_file() and not is_sealed(row.path) and not row.sha256:
                apply_facts(row, file_facts(row.path))

    in_transaction(settings.database.url, MediaKeyError, work)
