"""Signing in inside a chat: member number + PIN (the keypad's hashed PINs and lock-out), or a one-time
code sent by SMS to the phone on the member's record.

Every answer to the patient is the same whether or not the member number exists, so the chat cannot
be used to find members. The code is kept as an argon2 hash on the chat's row, lapses after
chat.code_seconds and dies after chat.code_max_failures wrong tries.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from ccctl.channels.sms import SmsError, send_sms
from ccctl.chat.words import chat_words
from ccctl.config import Settings
from ccctl.ivr.services import AuthOutcome
from ccctl.patients.call_services import DbCallServices
from ccctl.patients.pins import PinHasher
from ccctl.patients.repository import find_by_member_number
from ccctl.records.audit import record_audit
from ccctl.records.models.base import utc_now
from ccctl.records.models.chat import ChatSession

log = logging.getLogger("ccctl.chat")

CODE_DIGITS = 6


def sign_in_with_pin(services: DbCallServices, chat_id: int, member: str, pin: str) -> AuthOutcome:
    """The keypad's check (attempt recorded under "chat-<id>", lock-out shared with the phone)."""
    return services.verify_member_pin(member.strip()[:32], pin.strip()[:16], f"chat-{chat_id}")


def attach_patient(db: Session, chat: ChatSession, patient_id: int, how: str) -> None:
    chat.patient_id, chat.verified_by = patient_id, how
    record_audit(db, "chat", "chat sign-in", patient_id, f"chat:{chat.id}", detail=f"by {how}")


def send_code(db: Session, settings: Settings, hasher: PinHasher, chat: ChatSession, member: str) -> None:
    """Text a fresh code to the member's first phone; nothing is said of a member number that has none."""
    patient = find_by_member_number(db, member.strip()[:32]) if member.strip() else None
    phones = [p.number for p in patient.phones] if patient is not None else []
    if not phones:
        hasher.spend_time("000000")  # as slow as a code made and hashed for a real member
        chat.code_hash, chat.code_patient_id, chat.code_until = "", None, None
        return
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    chat.code_hash, chat.code_patient_id = hasher.hash(code), patient.id
    chat.code_until = utc_now() + timedelta(seconds=settings.chat.code_seconds)
    chat.code_failures = 0
    try:
        send_sms(settings, phones[0], chat_words(chat.language)["sms"].format(code=code))
    except SmsError as exc:  # names Kannel and its answer, never the number or the code
        log.warning("chat %d: sign-in code not sent: %s", chat.id, exc)


def check_code(settings: Settings, hasher: PinHasher, chat: ChatSession, code: str) -> bool:
    """Whether the code is the one sent (and still good); a wrong one counts, the last allowed ends it."""
    if not chat.code_hash or chat.code_until is None or chat.code_until < utc_now():
        hasher.spend_time(code or "0000")
        return False
    matched = hasher.matches(chat.code_hash, code.strip()[:16])
    if not matched:
        chat.code_failures += 1
        if chat.code_failures >= settings.chat.code_max_failures:
            chat.code_hash, chat.code_until = "", None
        return False
    chat.code_hash, chat.code_until = "", None
    return True
