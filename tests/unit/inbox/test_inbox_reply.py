"""Replies that cannot go out: the reason is one line without patient data, and the item stays to answer."""

import socket

import pytest

from ccctl.channels.inbox import InboxError, InboxFilter, IncomingMessage, list_items, receive, set_flag
from ccctl.channels.inbox_reply import reply
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
