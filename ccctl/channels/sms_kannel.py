"""kannel.conf for the bearerbox and smsbox that carry ccctl's SMS, rendered from the `sms` settings.

The SMSC groups (the operator's SMPP link in production, fake SMSCs in tests) are passed in.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

import jinja2

from ccctl.channels.sms import callback_base
from ccctl.config import Settings

TEMPLATE = Path(__file__).resolve().parent / "templates" / "kannel.conf.j2"
# the arguments of Kannel's get-url: %p sender, %P receiver, %b raw text, %c coding, %C charset, %I id
INCOMING_QUERY = "from=%p&to=%P&text=%b&coding=%c&charset=%C&ts=%t&id=%I"

# what production starts from: the operator's SMPP account, to be filled in
SMPP_EXAMPLE = {
    "smsc": "smpp",
    "smsc-id": "operator",
    "host": "smpp.operator.example",
    "port": "2775",
    "smsc-username": "CHANGE-ME",
    "smsc-password": "CHANGE-ME",
    "system-type": '""',
    "transceiver-mode": "true",
}


def sendsms_address(settings: Settings) -> tuple[str, int]:
    """Host and port of sms.sendsms_url (the smsbox's sendsms-port)."""
    parsed = urllib.parse.urlsplit(settings.sms.sendsms_url)
    return parsed.hostname or "127.0.0.1", parsed.port or 13013


def render_kannel_conf(
    settings: Settings,
    smscs: list[dict[str, str]],
    log_dir: str = "/var/log/kannel",
    forced_smsc: str = "",
    log_level: int = 1,
    admin_password: str = "change-me",
) -> str:
    host, port = sendsms_address(settings)
    values = {
        "admin_port": settings.sms.bearerbox_admin_port,
        "admin_password": admin_password,
        "smsbox_port": settings.sms.bearerbox_smsbox_port,
        "sendsms_port": port,
        "sendsms_interface": host,
        "username": settings.sms.username,
        "password": settings.sms.password,
        "sender": settings.sms.sender,
        "forced_smsc": forced_smsc,
        "smscs": smscs,
        "log_dir": log_dir,
        "log_level": log_level,
        "get_url": f"{callback_base(settings)}/channels/sms/incoming?{INCOMING_QUERY}",
    }
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    return env.from_string(TEMPLATE.read_text()).render(**values)
