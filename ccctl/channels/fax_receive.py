"""A received fax, from the spandsp::rxfaxresult event to the inbox: stored under faxes/<patient code>/
(or faxes/unassigned/), made readable as PDF and PNG, sealed (storage.key_file), filed; a failed or
corrupt fax is filed with its problem.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import gevent
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from ccctl.channels.fax_files import FaxFileError, readable_copies
from ccctl.channels.inbox import Attachment, IncomingMessage, receive
from ccctl.config import Settings
from ccctl.esl.inbound import InboundClient
from ccctl.patients.repository import find_by_phone
from ccctl.records.database import make_engine
from ccctl.storage.sealed import load_key, seal_file

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
log = logging.getLogger("ccctl.channels.fax")

UNASSIGNED = "unassigned"
RX_RESULT = "CUSTOM spandsp::rxfaxresult"


def incoming_folder(settings: Settings) -> Path:
    """Where the switch writes a fax as it arrives (cc_fax_file in dialplan/fax.xml)."""
    return Path(settings.fax.faxes_dir) / "incoming"


def header(event: Mapping[str, str], name: str) -> str:
    """A header of the event, whatever the case FreeSWITCH used for it."""
    lowered = name.lower()
    return next((value for key, value in event.items() if key.lower() == lowered), "")


def file_received_fax(session: Session, settings: Settings, event: Mapping[str, str]) -> int:
    """File the fax of one spandsp::rxfaxresult event (headers by name); the inbox item id."""
    call_uuid = header(event, "Unique-ID")
    sender = header(event, "Caller-Caller-ID-Number")
    received = Path(header(event, "variable_cc_fax_file"))
    pages = header(event, "fax-document-transferred-pages") or "0"
    problems = []
    if header(event, "fax-success") != "1":
        problems.append(
            f"fax reception failed: {header(event, 'fax-result-text') or 'no result'} "
            f"(spandsp code {header(event, 'fax-result-code') or '?'}, {pages} pages received)"
        )
    attachments: list[Attachment] = []
    if received.name and received.is_file() and not _in_folder(received, incoming_folder(settings)):
        # the event names a file rxfax cannot have written: never move or read it
        problems.append("the fax file named by the switch is outside the incoming fax folder: left where it is")
    elif received.name and received.is_file():
        patient = find_by_phone(session, sender) if sender else None
        folder_name = patient.patient_code if patient is not None else UNASSIGNED
        attachments, problem = _store(settings, received, folder_name, call_uuid)
        if problem:
            problems.append(problem)
    elif not problems:
        problems.append(f"fax reported received but its file {received} is missing")
    message = IncomingMessage(
        channel="fax",
        sender=sender,
        subject=f"Fax, {pages} page{'s' if pages != '1' else ''}",
        attachments=attachments,
        external_id=call_uuid,
        problem="; ".join(problems),
    )
    item_id = receive(session, message)
    log.info("fax of call %s filed as inbox item %s", call_uuid, item_id)
    return item_id


def _store(settings: Settings, received: Path, folder_name: str, call_uuid: str) -> tuple[list[Attachment], str]:
    """Move the TIFF under the patient's folder and add its PDF and PNG; (attachments, problem)."""
    folder = Path(settings.fax.faxes_dir) / folder_name
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    tiff = folder / f"{stamp}-{_safe_name(call_uuid or received.stem)}.tif"
    shutil.move(str(received), tiff)
    attachments = [Attachment(tiff.name, "image/tiff", str(tiff))]
    key = load_key(settings)
    try:
        pdf, png = readable_copies(tiff)
    except FaxFileError as exc:
        if key is not None:
            seal_file(tiff, key)
        return attachments, f"the received fax cannot be read: {exc}"
    attachments[:0] = [Attachment(pdf.name, "application/pdf", str(pdf)), Attachment(png.name, "image/png", str(png))]
    if key is not None:
        for path in (tiff, pdf, png):
            seal_file(path, key)
    return attachments, ""


def _safe_name(text: str) -> str:
    """A file name part from a switch-given value: letters, digits, - and _ only (no ../, no separators)."""
    return _UNSAFE.sub("_", text)[:80] or "fax"


def _in_folder(path: Path, folder: Path) -> bool:
    return path.resolve().parent == folder.resolve()


def watch_received_faxes(esl: InboundClient, settings: Settings, engine: Engine | None = None) -> None:
    """File every fax the switch receives: on spandsp::rxfaxresult, in its own greenlet and transaction.

    Without an engine one is made from settings.database.url, living as long as the process.
    The folder rxfax writes into (dialplan/fax.xml: <faxes_dir>/incoming/) is made here: spandsp opens
    the TIFF but never creates its folder, and the fax then fails with "TIFF/F file cannot be opened".
    """
    incoming_folder(settings).mkdir(parents=True, exist_ok=True)
    if engine is None:
        engine = make_engine(settings.database.url)

    def file_one(headers: dict[str, str]) -> None:
        try:
            with Session(engine, expire_on_commit=False) as session, session.begin():
                file_received_fax(session, settings, headers)
        except Exception:
            # the TIFF stays where it is (incoming/ or the patient's folder) for an agent to find
            log.exception("fax of call %s could not be filed", headers.get("Unique-ID", "?"))

    esl.on(RX_RESULT, lambda event: gevent.spawn(file_one, event.headers()))
    esl.subscribe([RX_RESULT])
