"""The seal job of `ccctl serve`: FreeSWITCH writes recordings and voice messages in clear; once the
call has ended each file is sealed in place (its clear facts kept on the recording's row first).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import gevent
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.recordings.store import apply_facts, file_facts
from ccctl.records.database import make_engine
from ccctl.records.models.base import utc_now
from ccctl.records.models.calls import Call, VoiceMessage
from ccctl.records.models.media import Recording
from ccctl.storage.sealed import is_sealed, load_key, seal_file

log = logging.getLogger(__name__)

# a file whose call has no ended record counts as finished once untouched this long (a call lost in a crash)
QUIET_SECONDS = 600.0


@dataclass
class SealRun:
    recordings: int = 0
    voice_messages: int = 0


def seal_finished(session: Session, key: bytes, now: datetime | None = None) -> SealRun:
    """Seal the recordings and voice messages of ended calls that are still in clear; commits per file."""
    now = now or utc_now()
    run = SealRun()
    for row in list(session.scalars(select(Recording).where(Recording.archive_state == "local"))):
        if _waiting(session, row.call_uuid, row.path, now):
            continue
        apply_facts(row, file_facts(row.path))
        seal_file(row.path, key)
        session.commit()
        run.recordings += 1
    for message in list(session.scalars(select(VoiceMessage).where(VoiceMessage.path != ""))):
        if _waiting(session, message.call_uuid, message.path, now):
            continue
        seal_file(message.path, key)
        run.voice_messages += 1
    return run


def _waiting(session: Session, call_uuid: str, path: str, now: datetime) -> bool:
    """True while there is nothing to seal yet: no clear file, or its call still going."""
    if not path or not Path(path).is_file() or is_sealed(path):
        return True
    call = session.scalar(select(Call).where(Call.uuid == call_uuid))
    if call is not None and call.ended_at is not None:
        return False
    return now.timestamp() - Path(path).stat().st_mtime < QUIET_SECONDS


def run_seal(settings: Settings) -> SealRun:
    key = load_key(settings)
    if key is None:
        return SealRun()
    engine = make_engine(settings.database.url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            return seal_finished(session, key)
    finally:
        engine.dispose()


def seal_forever(settings: Settings) -> None:
    """What `ccctl serve` spawns; a failed run (a bad key, the database away) is logged and tried again."""
    pool = gevent.get_hub().threadpool
    while True:
        try:
            # reading and encrypting a long recording would stall every call's greenlet: a pool thread does it
            run = pool.apply(run_seal, (settings,))
            if run.recordings or run.voice_messages:
                log.info("sealed %d recordings, %d voice messages", run.recordings, run.voice_messages)
        except (UserError, DBAPIError) as exc:
            log.warning("media sealing run failed: %s", str(exc).splitlines()[0])
        time.sleep(settings.storage.seal_every_seconds)
