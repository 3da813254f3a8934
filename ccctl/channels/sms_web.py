"""Kannel's calls into ccctl: GET /channels/sms/incoming (sms-service get-url) and
GET /channels/sms/dlr (delivery reports), as a Flask blueprint of the web app.
"""

from __future__ import annotations

import ipaddress
import logging
import urllib.parse

from flask import Blueprint, abort, current_app, request

from ccctl.channels.sms_records import IncomingSms, file_incoming, record_delivery

log = logging.getLogger("ccctl.channels.sms")

blueprint = Blueprint("sms", __name__, url_prefix="/channels/sms")


def _context():
    """The app's ccctl context: `.settings` and `.transaction()` (ccctl.web.context.WebContext)."""
    return current_app.extensions["ccctl"]


def _raw_args() -> dict[str, bytes]:
    """Query values as the bytes Kannel sent: an SMS in a broken encoding must reach us undamaged."""
    pairs = urllib.parse.parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    return {name: value.encode("latin-1") for name, value in pairs}


def _text(args: dict[str, bytes], name: str) -> str:
    return args.get(name, b"").decode("utf-8", "replace").strip()


@blueprint.before_request
def _only_from_kannel():
    allowed = _context().settings.sms.callback_allow
    address = ipaddress.ip_address(request.remote_addr or "0.0.0.0")
    if not any(address in ipaddress.ip_network(network, strict=False) for network in allowed):
        log.warning("refused %s from %s: not in sms.callback_allow", request.path, address)
        abort(403)


@blueprint.get("/incoming")
def incoming():
    """Kannel's get-url: ?from=%p&to=%P&text=%b&coding=%c&charset=%C&id=%I. The reply body is empty: no SMS back."""
    args = _raw_args()
    sms = IncomingSms(
        sender=_text(args, "from"),
        receiver=_text(args, "to"),
        text=args.get("text", b""),
        coding=_text(args, "coding") or "0",
        charset=_text(args, "charset"),
        kannel_id=_text(args, "id"),
    )
    ctx = _context()
    with ctx.transaction() as session:
        item_id = file_incoming(session, ctx.settings, sms)
    log.info("SMS filed as inbox item %s", item_id)
    return "", 200, {"Content-Type": "text/plain"}


@blueprint.get("/dlr")
def delivery_report():
    """Kannel's dlr-url: ?id=<our message id>&status=%d."""
    message_id = request.args.get("id", "")
    try:
        dlr_type = int(request.args.get("status", ""))
    except ValueError:
        return "status must be a number\n", 400, {"Content-Type": "text/plain"}
    with _context().transaction() as session:
        message = record_delivery(session, message_id, dlr_type)
    if message is None:
        log.warning("delivery report %s for an unknown SMS id %r", dlr_type, message_id[:64])
        return "unknown message id\n", 404, {"Content-Type": "text/plain"}
    return "", 200, {"Content-Type": "text/plain"}
