"""Outgoing SMS through Kannel's smsbox sendsms HTTP interface, with a delivery-report URL back to us.

send_sms is the transport only (one HTTP request); sms_records keeps what was sent and received,
sms_bulk sends one template to many patients.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

from ccctl.config import Settings
from ccctl.errors import UserError

ACCEPTED_PREFIXES = ("0:", "3:")  # "0: Accepted for delivery", "3: Queued for later delivery"
# characters of the GSM 03.38 default alphabet (basic table); anything else goes as UCS-2
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")


class SmsError(UserError):
    """Kannel refused or could not be reached; str() is one line, without the number or the text."""


def normalize_number(number: str) -> str:
    """Digits with a leading + kept (spaces, dots, dashes and brackets dropped)."""
    return re.sub(r"[\s().\-/]", "", number or "")


def callback_base(settings: Settings) -> str:
    if settings.sms.callback_base_url:
        return settings.sms.callback_base_url.rstrip("/")
    return f"http://{settings.web.host}:{settings.web.port}"


def dlr_url(settings: Settings, message_id: str) -> str:
    """Where Kannel reports delivery; %d is replaced by Kannel with the report type (1, 2, 4, 8, 16)."""
    return f"{callback_base(settings)}/channels/sms/dlr?id={message_id}&status=%d"


def sendsms_query(settings: Settings, to: str, text: str, message_id: str) -> dict[str, str]:
    sms = settings.sms
    query = {
        "username": sms.username,
        "password": sms.password,
        "to": to,
        "text": text,
        "charset": "UTF-8",
        "dlr-mask": str(sms.dlr_mask),
        "dlr-url": dlr_url(settings, message_id),
    }
    if sms.sender:
        query["from"] = sms.sender
    if not set(text) <= GSM_BASIC:
        query["coding"] = "2"  # UCS-2: accents and scripts outside GSM 03.38 arrive intact
    return query


def send_sms(settings: Settings, to: str, text: str) -> str:
    """Hand one SMS to Kannel; the message id its delivery reports will carry.

    Kannel 1.4's sendsms answers without an id of its own, so the id is ours, put in the
    dlr-url. Raises SmsError naming the reason (bad number, Kannel's answer, unreachable).
    """
    message_id = uuid.uuid4().hex
    send_sms_with_id(settings, to, text, message_id)
    return message_id


def send_sms_with_id(settings: Settings, to: str, text: str, message_id: str) -> None:
    """send_sms with an id chosen (and stored) beforehand: a fast delivery report finds its row."""
    number = normalize_number(to)
    if not NUMBER.match(number):
        raise SmsError("the recipient is not a phone number (3-20 digits, optional leading +)")
    if not text:
        raise SmsError("the message text is empty")
    url = f"{settings.sms.sendsms_url}?{urllib.parse.urlencode(sendsms_query(settings, number, text, message_id))}"
    try:
        with urllib.request.urlopen(url, timeout=settings.sms.request_timeout) as response:
            answer = response.read(500).decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as exc:
        answer = exc.read(500).decode("utf-8", "replace").strip()
        raise SmsError(f"Kannel at {_where(settings)} refused the SMS: HTTP {exc.code} {answer[:200]}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SmsError(f"Kannel at {_where(settings)} cannot be reached: {reason}") from None
    if not answer.startswith(ACCEPTED_PREFIXES):
        raise SmsError(f"Kannel at {_where(settings)} did not accept the SMS: {answer[:200]}")


def _where(settings: Settings) -> str:
    # the URL without its query: the query holds the password, the number and the text
    return settings.sms.sendsms_url.split("?", 1)[0]
