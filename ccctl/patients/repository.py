"""The patients repository: add, find (phone, member number, code), list and update, checked on every write.

Members (member number, PIN) and non-members share one table. Functions take a Session
and leave the commit to the caller, so an import adds many patients in one transaction.
Error messages name fields and patient codes, never names, phones or member numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ccctl.errors import UserError
from ccctl.ivr.services import PatientView
from ccctl.patients.fields import FieldValueError, SpecialtyFields, check_custom_fields
from ccctl.records.models.base import utc_now
from ccctl.records.models.patients import Patient, PatientPhone

PATIENT_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
GENERATED_CODE = re.compile(r"P(\d+)")
MEMBER_NUMBER = re.compile(r"[0-9]{4,16}")  # keyed in on a phone keypad
PHONE = re.compile(r"\+?[0-9]{3,20}")
LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
PHONE_PUNCTUATION = re.compile(r"[\s\-().]")
NAME_LENGTH = 128
SPECIALTY_LENGTH = 64  # patient_fields/<specialty>.yaml names are at most this long
# the longest thing a search can match is a name: a longer text is refused before it reaches SQL
SEARCH_MAX_CHARS = NAME_LENGTH
LIST_MAX_ROWS = 10_000
LIKE_ESCAPE = "\\"


class PatientError(UserError, ValueError):
    """A patient write that breaks a rule; str() is one line naming the field or patient code."""


def normalise_phone(number: str) -> str:
    """Digits with the leading + kept: '+33 (6) 12-34' -> '+3361234', so a caller number matches by equality."""
    return PHONE_PUNCTUATION.sub("", number or "")


def check_phone(number: str, position: int = 1) -> str:
    """The normalised phone, or PatientError naming its position (never the number)."""
    normalised = normalise_phone(number)
    if not PHONE.fullmatch(normalised):
        raise PatientError(f"phone {position}: not a phone number (3 to 20 digits, optional leading +)")
    return normalised


@dataclass
class PatientData:
    """What a person gives to add a patient (or, all optional, to change one)."""

    given_name: str = ""
    family_name: str = ""
    phones: list[str] = field(default_factory=list)
    patient_code: str | None = None  # generated (P000123) when absent
    member_number: str | None = None  # a member has one; a non-member is the light record
    specialty: str = ""
    language: str = ""
    custom_fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PatientRecord:
    """A stored patient as shown to staff: everything but the PIN hash."""

    id: int
    patient_code: str
    given_name: str
    family_name: str
    member: bool
    member_number: str | None
    phones: list[str]
    specialty: str
    language: str
    custom_fields: dict[str, Any]
    has_pin: bool
    pin_failures: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()

    def view(self) -> PatientView:
        """What a call flow may see of this patient."""
        return PatientView(
            id=self.id,
            patient_code=self.patient_code,
            display_name=self.display_name,
            member=self.member,
            specialty=self.specialty,
            language=self.language,
            member_number=self.member_number,
        )


def patient_record(patient: Patient) -> PatientRecord:
    return PatientRecord(
        id=patient.id,
        patient_code=patient.patient_code,
        given_name=patient.given_name,
        family_name=patient.family_name,
        member=patient.is_member,
        member_number=patient.member_number,
        phones=[phone.number for phone in patient.phones],
        specialty=patient.specialty,
        language=patient.language,
        custom_fields=dict(patient.custom_fields or {}),
        has_pin=patient.pin_hash is not None,
        pin_failures=patient.pin_failures,
        locked_until=patient.locked_until,
        created_at=patient.created_at,
        updated_at=patient.updated_at,
    )


def check_patient_data(data: PatientData, specialties: dict[str, SpecialtyFields]) -> PatientData:
    """The data cleaned for storage (phones normalised, fields converted), or PatientError on the first fault."""
    code = (data.patient_code or "").strip() or None
    if code is not None and not PATIENT_CODE.fullmatch(code):
        raise PatientError("patient code: use 1 to 32 letters, digits, - or _")
    given, family = data.given_name.strip(), data.family_name.strip()
    for label, name in (("given name", given), ("family name", family)):
        if len(name) > NAME_LENGTH:
            raise PatientError(f"{label}: longer than {NAME_LENGTH} characters")
    member_number = (data.member_number or "").strip() or None
    if member_number is not None and not MEMBER_NUMBER.fullmatch(member_number):
        raise PatientError("member number: must be 4 to 16 digits")
    phones = list(dict.fromkeys(check_phone(number, i) for i, number in enumerate(data.phones, 1)))
    if member_number is not None and not (given and family):
        raise PatientError("a member needs a given name and a family name")
    if not (given or family or phones):
        raise PatientError("a patient needs a name or a phone")
    language = data.language.strip()
    if language and not LANGUAGE.fullmatch(language):
        raise PatientError("language: use a language code such as en, zh or pl")
    specialty = data.specialty.strip()
    if len(specialty) > SPECIALTY_LENGTH:
        raise PatientError(f"specialty: longer than {SPECIALTY_LENGTH} characters")
    try:
        custom = check_custom_fields(specialties, specialty, data.custom_fields)
    except FieldValueError as exc:
        raise PatientError(str(exc)) from None
    return PatientData(given, family, phones, code, member_number, specialty, language, custom)


def _next_generated_code(session: Session) -> str:
    """P000001, P000002, ...: one past the highest generated-looking code (remembered within a session)."""
    counter = session.info.get("next_patient_number")
    if counter is None:
        codes = session.scalars(select(Patient.patient_code).where(Patient.patient_code.like("P%")))
        numbers = [int(match.group(1)) for code in codes if (match := GENERATED_CODE.fullmatch(code))]
        counter = max(numbers, default=0) + 1
    while session.scalar(select(func.count()).where(Patient.patient_code == f"P{counter:06d}")):
        counter += 1  # a code someone chose by hand
    session.info["next_patient_number"] = counter + 1
    return f"P{counter:06d}"


def code_taken(session: Session, code: str) -> bool:
    return bool(session.scalar(select(func.count()).where(Patient.patient_code == code)))


def member_number_taken(session: Session, member_number: str, except_id: int | None = None) -> bool:
    query = select(func.count()).where(Patient.member_number == member_number)
    if except_id is not None:
        query = query.where(Patient.id != except_id)
    return bool(session.scalar(query))


def add_patient(session: Session, data: PatientData, specialties: dict[str, SpecialtyFields]) -> Patient:
    """Check and add one patient (flushed, not committed); PatientError names what is wrong."""
    clean = check_patient_data(data, specialties)
    if clean.patient_code is not None and code_taken(session, clean.patient_code):
        raise PatientError(f"patient code '{clean.patient_code}' already exists")
    if clean.member_number is not None and member_number_taken(session, clean.member_number):
        raise PatientError("member number: already belongs to another patient")
    patient = Patient(
        patient_code=clean.patient_code or _next_generated_code(session),
        given_name=clean.given_name,
        family_name=clean.family_name,
        is_member=clean.member_number is not None,
        member_number=clean.member_number,
        specialty=clean.specialty,
        language=clean.language,
        custom_fields=clean.custom_fields,
        phones=[PatientPhone(number=number) for number in clean.phones],
    )
    session.add(patient)
    session.flush()
    return patient


def get_patient(session: Session, patient_code: str) -> Patient:
    """The patient with this code, or PatientError 'no patient with code ...'."""
    if not PATIENT_CODE.fullmatch(patient_code.strip()):
        raise PatientError("patient code: use 1 to 32 letters, digits, - or _")
    patient = find_by_code(session, patient_code)
    if patient is None:
        raise PatientError(f"no patient with code '{patient_code}'")
    return patient


def find_by_code(session: Session, patient_code: str) -> Patient | None:
    code = patient_code.strip()
    if not PATIENT_CODE.fullmatch(code):
        return None  # no stored code looks like this: no need to ask the database
    return session.scalars(select(Patient).where(Patient.patient_code == code)).first()


def find_by_member_number(session: Session, member_number: str) -> Patient | None:
    query = select(Patient).where(Patient.member_number == member_number.strip(), Patient.is_member.is_(True))
    return session.scalars(query).first()


def find_by_phone(session: Session, phone: str) -> Patient | None:
    """The patient with this phone (normalised); when a phone is shared, the first member, else the oldest."""
    number = normalise_phone(phone)
    if not number:
        return None
    query = (
        select(Patient)
        .join(PatientPhone)
        .where(PatientPhone.number == number)
        .order_by(Patient.is_member.desc(), Patient.id)
    )
    return session.scalars(query).first()


@dataclass
class PatientFilter:
    """`ccctl patients list` filters: member or not (None: both), specialty, a search text."""

    member: bool | None = None
    specialty: str | None = None
    search: str | None = None  # part of a name or code; a whole phone or member number
    limit: int = 100


def check_filter(filters: PatientFilter) -> None:
    """PatientError naming the option and its limit when a filter is out of bounds (checked before any SQL)."""
    if not 1 <= filters.limit <= LIST_MAX_ROWS:
        raise PatientError(f"--limit: must be between 1 and {LIST_MAX_ROWS}, got {filters.limit}")
    if len((filters.search or "").strip()) > SEARCH_MAX_CHARS:
        raise PatientError(f"search: longer than {SEARCH_MAX_CHARS} characters")
    if len(filters.specialty or "") > SPECIALTY_LENGTH:
        raise PatientError(f"specialty: longer than {SPECIALTY_LENGTH} characters")
    # PostgreSQL refuses a NUL inside a text value (the driver raises before the query is sent)
    for name, value in (("search", filters.search), ("specialty", filters.specialty)):
        if value and "\x00" in value:
            raise PatientError(f"{name}: contains a NUL character (\\x00)")


def like_pattern(text: str) -> str:
    """'%text%' with the text's own % and _ matched as themselves (escaped with LIKE_ESCAPE)."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def list_patients(session: Session, filters: PatientFilter) -> list[Patient]:
    """Patients matching the filters, by code."""
    check_filter(filters)
    query = select(Patient).options(selectinload(Patient.phones)).order_by(Patient.patient_code).limit(filters.limit)
    if filters.member is not None:
        query = query.where(Patient.is_member.is_(filters.member))
    if filters.specialty:
        query = query.where(Patient.specialty == filters.specialty)
    text = (filters.search or "").strip()
    if text:
        pattern = like_pattern(text.lower())
        by_phone = select(PatientPhone.patient_id).where(PatientPhone.number == normalise_phone(text))
        query = query.where(
            or_(
                func.lower(Patient.given_name).like(pattern, escape=LIKE_ESCAPE),
                func.lower(Patient.family_name).like(pattern, escape=LIKE_ESCAPE),
                func.lower(Patient.patient_code).like(pattern, escape=LIKE_ESCAPE),
                Patient.member_number == text,
                Patient.id.in_(by_phone),
            )
        )
    return list(session.scalars(query))


UPDATABLE = ("given_name", "family_name", "phones", "member_number", "specialty", "language", "custom_fields")


def _stored_data(patient: Patient) -> PatientData:
    return PatientData(
        given_name=patient.given_name,
        family_name=patient.family_name,
        phones=[phone.number for phone in patient.phones],
        patient_code=patient.patient_code,
        member_number=patient.member_number,
        specialty=patient.specialty,
        language=patient.language,
        custom_fields=dict(patient.custom_fields or {}),
    )


def _changed_names(before: PatientData, after: PatientData) -> list[str]:
    """What differs, by name (`field:<name>` for a custom field): the audit row's words, never the values."""
    names = [name for name in UPDATABLE if name != "custom_fields" and getattr(before, name) != getattr(after, name)]
    fields = sorted(set(before.custom_fields) | set(after.custom_fields))
    names += [f"field:{name}" for name in fields if before.custom_fields.get(name) != after.custom_fields.get(name)]
    return names


def update_patient(
    session: Session, patient_code: str, changes: dict[str, Any], specialties: dict[str, SpecialtyFields]
) -> list[str]:
    """Change what `changes` names and nothing else; the names of what really changed (see describe_changes).

    `custom_fields` names only the fields to change: a value replaces the stored one, None or ""
    removes it, and a field not named keeps its value (a form that never shows a sensitive field
    must not erase it). A member number of None makes a non-member. The whole record is checked
    again, so a new specialty re-checks the fields kept.
    """
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise PatientError(f"cannot change '{unknown[0]}' (changeable: {', '.join(UPDATABLE)})")
    patient = get_patient(session, patient_code)
    before = _stored_data(patient)
    wanted = _stored_data(patient)
    for name, value in changes.items():
        if name != "custom_fields":
            setattr(wanted, name, value)
            continue
        for field_name, field_value in value.items():
            if field_value is None or field_value == "":
                wanted.custom_fields.pop(field_name, None)
            else:
                wanted.custom_fields[field_name] = field_value
    clean = check_patient_data(wanted, specialties)
    changed = _changed_names(before, clean)
    if not changed:
        return []
    if clean.member_number is not None and member_number_taken(session, clean.member_number, patient.id):
        raise PatientError("member number: already belongs to another patient")
    patient.given_name, patient.family_name = clean.given_name, clean.family_name
    patient.member_number, patient.is_member = clean.member_number, clean.member_number is not None
    if not patient.is_member:
        patient.pin_hash = None  # a non-member has no PIN
    patient.specialty, patient.language, patient.custom_fields = clean.specialty, clean.language, clean.custom_fields
    kept = {phone.number: phone for phone in patient.phones}
    patient.phones = [kept.get(number) or PatientPhone(number=number) for number in clean.phones]
    patient.updated_at = utc_now()
    session.flush()
    return changed


def describe_changes(changed: list[str]) -> str:
    """The audit detail of an edit: 'changed family_name, field:national_id' or 'no change' (names only)."""
    return f"changed {', '.join(changed)}" if changed else "no change"
