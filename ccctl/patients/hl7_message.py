"""Reading and writing HL7 v2 text: fields by segment and position, timestamps, ACKs.

Parsing is the `hl7` library's; this module turns its nested lists into the few values the inbound and
outbound sides need, and every fault into an Hl7Reject that names the segment and field, never a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from itertools import count

import hl7
from hl7.exceptions import HL7Exception

from ccctl.errors import UserError

# HL7 table 0357, message error condition codes
SEGMENT_SEQUENCE_ERROR = "100"
REQUIRED_FIELD_MISSING = "101"
DATA_TYPE_ERROR = "102"
TABLE_VALUE_NOT_FOUND = "103"
UNSUPPORTED_MESSAGE_TYPE = "200"
UNSUPPORTED_EVENT_CODE = "201"
UNKNOWN_KEY_IDENTIFIER = "204"
APPLICATION_INTERNAL_ERROR = "207"
ERROR_NAMES = {
    SEGMENT_SEQUENCE_ERROR: "Segment sequence error",
    REQUIRED_FIELD_MISSING: "Required field missing",
    DATA_TYPE_ERROR: "Data type error",
    TABLE_VALUE_NOT_FOUND: "Table value not found",
    UNSUPPORTED_MESSAGE_TYPE: "Unsupported message type",
    UNSUPPORTED_EVENT_CODE: "Unsupported event code",
    UNKNOWN_KEY_IDENTIFIER: "Unknown key identifier",
    APPLICATION_INTERNAL_ERROR: "Application internal error",
}
SEGMENT_SEPARATOR = "\r"
ENCODING_CHARACTERS = "^~\\&"
_ack_numbers = count(1)


class Hl7Reject(UserError):
    """A message this side cannot apply: the segment and field at fault, the HL7 error code, a reason.

    str() is one line like `PID-3: required field missing`; it goes into MSA-3, ERR and the stored
    message's error column, so it never holds a value from the message.
    """

    def __init__(self, segment: str, field: int, code: str, reason: str) -> None:
        self.segment, self.field, self.code, self.reason = segment, field, code, reason
        where = f"{segment}-{field}" if field else segment
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Header:
    """What MSH says about a message: who sent it, what it is, its control id and version."""

    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    message_code: str  # ADT, SIU
    trigger: str  # A04, S12
    control_id: str
    processing_id: str
    version: str

    @property
    def message_type(self) -> str:
        return f"{self.message_code}^{self.trigger}" if self.trigger else self.message_code

    @property
    def sender(self) -> str:
        """The sending system's name, as appointments and audit rows record it."""
        return (self.sending_facility or self.sending_application or "his")[:64]


def normalise_text(raw: str) -> str:
    """Segments separated by CR alone (files and some senders use LF or CRLF); no empty trailing segment."""
    text = raw.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    return SEGMENT_SEPARATOR.join(line for line in text.split("\r") if line.strip())


def parse(raw: str) -> hl7.Message:
    """The parsed message, or Hl7Reject naming MSH when the library cannot read it."""
    text = normalise_text(raw)
    if not text.startswith("MSH") or len(text) < 8:
        raise Hl7Reject("MSH", 0, SEGMENT_SEQUENCE_ERROR, "the message does not start with an MSH segment")
    try:
        return hl7.parse(text)
    except (HL7Exception, IndexError, ValueError):
        raise Hl7Reject("MSH", 0, DATA_TYPE_ERROR, "the message cannot be parsed") from None


def crude_header(raw: str) -> Header:
    """MSH read by splitting its first line, for answering a message the library could not parse."""
    first = normalise_text(raw).split("\r", 1)[0]
    separator = first[3] if len(first) > 3 and first.startswith("MSH") else "|"
    fields = ["MSH", separator, *first[4:].split(separator)] if first.startswith("MSH") else []

    def at(position: int, component: int = 1) -> str:
        value = fields[position] if position < len(fields) else ""
        parts = value.split("^")
        return parts[component - 1][:64] if component <= len(parts) else ""

    return Header(at(3), at(4), at(5), at(6), at(9), at(9, 2), at(10), at(11), at(12))


def value(message: hl7.Message, segment: str, field: int, component: int = 1, repetition: int = 1) -> str:
    """One component of one field of the first such segment, stripped; "" when absent (HL7's "" too)."""
    try:
        text = str(message.extract_field(segment, 1, field, repetition, component)).strip()
    except (KeyError, IndexError):
        return ""
    return "" if text == '""' else text


def has_segment(message: hl7.Message, segment: str) -> bool:
    try:
        message.segment(segment)
    except KeyError:
        return False
    return True


def repetitions(message: hl7.Message, segment: str, field: int) -> list[list[str]]:
    """Each repetition of a field as its list of components (strings, stripped)."""
    if not has_segment(message, segment):
        return []
    seg = message.segment(segment)
    if field >= len(seg):
        return []
    data = seg[field]
    if isinstance(data, str):
        return [[data.strip()]] if data.strip() else []
    reps = data if data and isinstance(data[0], hl7.Repetition) else [data]
    result = []
    for rep in reps:
        parts = [str(part).strip() for part in rep] if isinstance(rep, list) else [str(rep).strip()]
        if any(parts):
            result.append(parts)
    return result


def read_header(message: hl7.Message) -> Header:
    """The MSH values; Hl7Reject when MSH-9 or MSH-10 is missing."""
    header = Header(
        sending_application=value(message, "MSH", 3)[:64],
        sending_facility=value(message, "MSH", 4)[:64],
        receiving_application=value(message, "MSH", 5)[:64],
        receiving_facility=value(message, "MSH", 6)[:64],
        message_code=value(message, "MSH", 9).upper(),
        trigger=value(message, "MSH", 9, 2).upper(),
        control_id=value(message, "MSH", 10),
        processing_id=value(message, "MSH", 11),
        version=value(message, "MSH", 12),
    )
    if not header.message_code or not header.trigger:
        raise Hl7Reject("MSH", 9, REQUIRED_FIELD_MISSING, "required field missing (message type and trigger)")
    if not header.control_id:
        raise Hl7Reject("MSH", 10, REQUIRED_FIELD_MISSING, "required field missing (message control id)")
    if len(header.control_id) > 64:
        raise Hl7Reject("MSH", 10, DATA_TYPE_ERROR, "longer than 64 characters")
    return header


def parse_timestamp(text: str, segment: str, field: int, zone: tzinfo) -> datetime:
    """HL7 TS (YYYYMMDD[HHMM[SS[.S...]]][+/-ZZZZ]) as an aware UTC datetime; without an offset, in `zone`."""
    stamp, offset = text, None
    for sign in ("+", "-"):
        if sign in stamp[8:]:
            at = stamp.rindex(sign)
            stamp, offset = stamp[:at], stamp[at:]
    stamp = stamp.split(".", 1)[0]
    formats = {8: "%Y%m%d", 12: "%Y%m%d%H%M", 14: "%Y%m%d%H%M%S"}
    try:
        moment = datetime.strptime(stamp, formats[len(stamp)])
        if offset is not None:
            hours, minutes = int(offset[1:3]), int(offset[3:5])
            delta = timedelta(hours=hours, minutes=minutes)
            moment = moment.replace(tzinfo=timezone(delta if offset[0] == "+" else -delta))
        else:
            moment = moment.replace(tzinfo=zone)
    except (KeyError, ValueError):
        raise Hl7Reject(segment, field, DATA_TYPE_ERROR, "not a timestamp (YYYYMMDDHHMM[SS][+ZZZZ])") from None
    return moment.astimezone(UTC)


def format_timestamp(moment: datetime) -> str:
    """An aware datetime as HL7 TS in UTC with its offset: 20261207093000+0000."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S+0000")


def escape(text: str) -> str:
    """Text safe inside a field: HL7's escape sequences for the delimiters, no segment breaks."""
    replaced = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\").replace("&", "\\T\\")
    return replaced.replace("~", "\\R\\").replace("\r", " ").replace("\n", " ")


def new_control_id(prefix: str) -> str:
    """A control id unique in this process and across restarts: prefix, time, counter."""
    return f"{prefix}{datetime.now(UTC):%Y%m%d%H%M%S}{next(_ack_numbers) % 100000:05d}"


def build_ack(header: Header, code: str, ours: tuple[str, str], reject: Hl7Reject | None = None) -> str:
    """The ACK of a message: MSA-1 `code` (AA, AE, AR), and for a reject MSA-3 and ERR naming the field."""
    application, facility = ours
    msh = "|".join(
        [
            "MSH",
            ENCODING_CHARACTERS,
            escape(application),
            escape(facility),
            escape(header.sending_application),
            escape(header.sending_facility),
            format_timestamp(datetime.now(UTC)),
            "",
            f"ACK^{escape(header.trigger)}^ACK" if header.trigger else "ACK",
            new_control_id("ACK"),
            escape(header.processing_id or "P"),
            escape(header.version or "2.5"),
        ]
    )
    msa = ["MSA", code, escape(header.control_id)]
    segments = [msh]
    if reject is None:
        segments.append("|".join(msa))
        return SEGMENT_SEPARATOR.join(segments)
    segments.append("|".join([*msa, escape(str(reject))]))
    location = f"{reject.segment}^1^{reject.field}" if reject.field else reject.segment
    name = ERROR_NAMES.get(reject.code, "Application error")
    severity = "E"
    segments.append(
        "|".join(["ERR", "", location, f"{reject.code}^{name}^HL70357", severity, "", "", "", escape(str(reject))])
    )
    return SEGMENT_SEPARATOR.join(segments)
