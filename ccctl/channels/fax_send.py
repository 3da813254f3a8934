"""Faxes to patients: the document converted to TIFF-F, sent with txfax on a call originated through
the inbound ESL, tried again on failure; every attempt kept with pages sent and spandsp's result.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import gevent
from gevent.event import AsyncResult
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.fax_files import to_tiff_f
from ccctl.channels.fax_receive import header
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.esl.inbound import InboundClient
from ccctl.esl.node_choice import CONNECT_SECONDS, Announce, NodeUnreachable, connect_first, nodes_to_try
from ccctl.patients.repository import find_by_phone, normalise_phone
from ccctl.records.models.base import utc_now
from ccctl.records.models.channels import FaxAttempt, FaxJob

log = logging.getLogger("ccctl.channels.fax")

FAX_NUMBER = re.compile(r"\+?[0-9]{3,20}")
TX_RESULT = "CUSTOM spandsp::txfaxresult"


class FaxSendError(UserError, ValueError):
    """The fax cannot be queued (bad number, unreadable document); str() names what is wrong."""


def queue_fax(session: Session, settings: Settings, number: str, document: Path) -> FaxJob:
    """Convert the document to TIFF-F under <faxes_dir>/outgoing/ and keep a queued job for it."""
    clean = normalise_phone(number)
    if not FAX_NUMBER.fullmatch(clean):
        raise FaxSendError("the fax number must be 3 to 20 digits with an optional leading +")
    if not document.is_file():
        raise FaxSendError(f"{document}: no such file")
    patient = find_by_phone(session, clean)
    job = FaxJob(number=clean, source_name=document.name, patient_id=patient.id if patient else None)
    session.add(job)
    session.flush()
    target = Path(settings.fax.faxes_dir) / "outgoing" / f"{job.id:06d}.tif"
    job.pages = to_tiff_f(document, target)
    job.tiff_path = str(target)
    session.commit()
    return job


def connect_switch(
    settings: Settings, node: str = "", announce: Announce | None = None, seconds: float = CONNECT_SECONDS
) -> InboundClient:
    """A started inbound ESL client on `node` (an esl.nodes name) or, without one, on the first configured node
    that answers within `seconds`, trying the next when one does not; else FaxSendError naming each node."""
    try:
        nodes = nodes_to_try(settings.esl, node)
        return connect_first(settings.esl, nodes, announce or (lambda node: None), seconds)[1]
    except NodeUnreachable as exc:
        raise FaxSendError(str(exc)) from None


class FaxSender:
    """Sends queued jobs over one inbound ESL connection; the txfax result events find their attempt."""

    def __init__(self, esl: InboundClient, settings: Settings) -> None:
        self.esl, self.settings = esl, settings
        self._waiting: dict[str, AsyncResult] = {}
        esl.on(TX_RESULT, self._on_result)
        esl.subscribe([TX_RESULT])

    def _on_result(self, event) -> None:
        waiting = self._waiting.get(event.uuid or "")
        if waiting is not None:
            waiting.set(event.headers())

    def send(self, session: Session, job: FaxJob, sleep: Callable[[float], None] = gevent.sleep) -> FaxJob:
        """Try up to fax.attempts times, fax.retry_seconds apart; the job ends `sent` or `failed`."""
        job.status = "sending"
        session.commit()
        for number in range(1, self.settings.fax.attempts + 1):
            attempt = self._attempt(job)
            job.attempts.append(attempt)
            session.commit()
            log.info("fax job %s attempt %s: %s", job.id, number, attempt.result_text or attempt.hangup_cause)
            if attempt.success:
                job.status = "sent"
                break
            if number < self.settings.fax.attempts:
                sleep(self.settings.fax.retry_seconds)
        else:
            job.status = "failed"
        session.commit()
        return job

    def _attempt(self, job: FaxJob) -> FaxAttempt:
        fax = self.settings.fax
        call_uuid = str(uuid.uuid4())
        attempt = FaxAttempt(call_uuid=call_uuid, started_at=utc_now(), total_pages=job.pages)
        variables = {
            "origination_uuid": call_uuid,
            "ignore_early_media": "true",
            "originate_timeout": "60",
            "fax_ident": fax.station_id,
            "fax_header": fax.header,
        }
        dial = "{" + ",".join(f"{k}='{v}'" if " " in v else f"{k}={v}" for k, v in variables.items()) + "}"
        dial += fax.dial_string.format(number=job.number)
        self._waiting[call_uuid] = result = AsyncResult()
        try:
            job_id = self.esl.bgapi(f"originate {dial} &txfax({job.tiff_path})")
            reply = self.esl.wait_job(job_id, timeout=fax.call_timeout_seconds).strip()
            if not reply.startswith("+OK"):
                attempt.hangup_cause = reply.removeprefix("-ERR").strip()[:64] or "originate failed"
                return attempt
            # FreeSWITCH names the leg origination_uuid; a switch that does not, names it in the reply
            leg_uuid = reply.removeprefix("+OK").strip() or call_uuid
            attempt.call_uuid = leg_uuid
            self._waiting[leg_uuid] = result
            _apply_result(attempt, result.get(timeout=fax.call_timeout_seconds))
        except gevent.Timeout:
            attempt.hangup_cause = "no fax result in time"
        finally:
            self._waiting.pop(call_uuid, None)
            self._waiting.pop(attempt.call_uuid, None)
            attempt.ended_at = utc_now()
        return attempt


def _apply_result(attempt: FaxAttempt, event: dict[str, str]) -> None:
    attempt.success = header(event, "fax-success") == "1"
    code = header(event, "fax-result-code")
    attempt.result_code = int(code) if code.lstrip("-").isdigit() else None
    attempt.result_text = header(event, "fax-result-text")
    pages = header(event, "fax-document-transferred-pages")
    attempt.pages_sent = int(pages) if pages.isdigit() else 0


def list_jobs(session: Session, limit: int = 50) -> list[FaxJob]:
    return list(session.scalars(select(FaxJob).order_by(FaxJob.id.desc()).limit(limit)).all())


def format_attempts(job: FaxJob) -> str:
    lines = [f"fax job {job.id}: {job.status}, {job.pages} pages, {job.source_name}"]
    for n, attempt in enumerate(job.attempts, 1):
        outcome = attempt.result_text or attempt.hangup_cause or "-"
        code = "" if attempt.result_code is None else f" (code {attempt.result_code})"
        lines.append(
            f"  attempt {n} at {attempt.started_at:%Y-%m-%d %H:%M:%S}: {attempt.pages_sent}/{attempt.total_pages} pages, {outcome}{code}"
        )
    return "\n".join(lines)
