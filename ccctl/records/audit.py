"""The audit trail of patient data: who read or changed which patient, when, from where.

Rows go in the caller's transaction, so a read that is shown is always a read that is logged.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.base import utc_now


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor: str
    action: str
    patient_id: int | None
    source: str
    detail: str


def default_actor() -> str:
    """The operating-system user running the command (what `--as` defaults to)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record_audit(
    session: Session,
    actor: str,
    action: str,
    patient_id: int | None,
    source: str,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    """Add one audit row (committed with the caller's transaction).

    `detail` holds no patient data beyond what says who looked for whom: a search as it was typed,
    the codes or ids of the patients shown, the names (never values) of fields changed.
    """
    session.add(
        AuditEntry(at=at or utc_now(), actor=actor, action=action, patient_id=patient_id, source=source, detail=detail)
    )


def audit_trail(session: Session, patient_id: int) -> list[AuditRow]:
    """Every audit row of one patient, oldest first."""
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.patient_id == patient_id).order_by(AuditEntry.at, AuditEntry.id)
    )
    return [AuditRow(e.at, e.actor, e.action, e.patient_id, e.source, e.detail) for e in entries]
