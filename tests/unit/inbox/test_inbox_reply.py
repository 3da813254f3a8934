"""Replies that cannot go out: the reason is one line without patient data, and the item stays to answer."""

import socket

import pytest

from ccctl.channels.inbox import InboxError, InboxFilter, IncomingMessage, get_item, list_items, receive, set_flag
from ccctl.channels.inbox_reply import reply, reply_route
from ccctl.config import EmailSettings, Settings


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_reply_the_mail_server_does_not_take_leaves_the_item_to_answer(session, ann):
    item_id = receive(session, IncomingMessage("email", "ann.lee@example.org", subject="Referral"))
    set_flag(session, item_id, "needs-reply")
    settings = Settings(email=EmailSettings(smtp_host="127.0.0.1", smtp_port=closed_port()))
    with pytest.raises(InboxError) as error:
        reply(session, settings, item_id, "We booked you.", "maria")
    message = str(error.value)
    assert message.startswith(f"inbox item {item_id}: reply not sent, e-mail: SMTP 127.0.0.1:")
    assert "ann" not in message.lower()
    (still_open,) = list_items(session, InboxFilter(flag="needs-reply"))
    assert still_open.id == item_id and len(list_items(session, InboxFilter())) == 1


def test_an_empty_reply_is_refused(session, ann):
    item_id = receive(session, IncomingMessage("email", "ann.lee@example.org", subject="Referral"))
    with pytest.raises(InboxError, match="reply text is empty"):
        reply(session, Settings(), item_id, "  ", "maria")


def test_the_list_can_be_worked_oldest_first(session):
    first = receive(session, IncomingMessage("sms", "+1 555 0100", body="one"))
    second = receive(session, IncomingMessage("sms", "+1 555 0101", body="two"))
    assert [i.id for i in list_items(session, InboxFilter())] == [second, first]
    assert [i.id for i in list_items(session, InboxFilter(oldest_first=True))] == [first, second]


def test_a_web_form_item_is_answered_by_the_email_or_the_phone_the_patient_gave(session):
    by_mail = receive(session, IncomingMessage("web", "ann.lee@example.org", "Web form", "", verified=False))
    by_phone = receive(session, IncomingMessage("web", "+48600100200", "Web form", "", verified=False))
    voice = receive(session, IncomingMessage("voice", "", "voice message: complaint"))
    routes = [reply_route(get_item(session, item)) for item in (by_mail, by_phone, voice)]
    assert routes == [("email", "ann.lee@example.org"), ("sms", "+48600100200"), ("", "")]
    with pytest.raises(InboxError, match=f"inbox item {voice} came by voice, which has no automatic reply"):
        reply(session, Settings(), voice, "We will call you back.", "maria")
