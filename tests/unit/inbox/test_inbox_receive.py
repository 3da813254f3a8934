"""receive(): every message is filed under the right patient (or unfiled), kept once, never refused."""

import hashlib
from pathlib import Path

import pytest

from ccctl.channels.inbox import (
    Attachment,
    InboxError,
    InboxFilter,
    IncomingMessage,
    assign,
    file_under,
    list_items,
    receive,
    save_attachment,
    set_flag,
)
from ccctl.records.models.inbox import InboxItem


def item(session, item_id) -> InboxItem:
    return session.get(InboxItem, item_id)


def test_an_sms_is_filed_under_the_patient_with_that_phone(session, ann, bob):
    item_id = receive(session, IncomingMessage("sms", "+48600100200", body="Can I move my appointment?"))
    assert item(session, item_id).patient_id == ann.id


def test_an_email_is_filed_under_the_patient_with_that_address_whatever_the_case(session, ann):
    item_id = receive(session, IncomingMessage("email", "ANN.LEE@example.org", subject="Referral"))
    assert item(session, item_id).patient_id == ann.id


def test_a_patient_code_in_the_text_files_a_letter_from_an_unknown_sender(session, ann, bob):
    letter = IncomingMessage(
        "letter", "", subject="Complaint", body=f"Patient number {bob.patient_code}, about the wait."
    )
    assert item(session, receive(session, letter)).patient_id == bob.id


def test_an_unknown_sender_without_code_stays_unfiled_until_an_agent_files_it(session, bob):
    item_id = receive(session, IncomingMessage("sms", "+1 555 0100", body="hello"))
    assert item(session, item_id).patient_id is None
    assert [i.id for i in list_items(session, InboxFilter(unassigned=True))] == [item_id]
    file_under(session, item_id, bob.patient_code)
    assert [i.id for i in list_items(session, InboxFilter(patient_code=bob.patient_code))] == [item_id]


def test_filing_under_a_code_that_does_not_exist_names_the_code(session):
    item_id = receive(session, IncomingMessage("sms", "+1 555 0100", body="hello"))
    with pytest.raises(InboxError, match="no patient with code 'P999999'"):
        file_under(session, item_id, "P999999")


def test_the_same_external_id_twice_is_filed_once(session, ann):
    first = receive(session, IncomingMessage("email", "ann.lee@example.org", external_id="<a1@example.org>"))
    again = receive(session, IncomingMessage("email", "ann.lee@example.org", external_id="<a1@example.org>"))
    other_channel = receive(session, IncomingMessage("sms", "+48600100200", external_id="<a1@example.org>"))
    assert first == again != other_channel
    assert len(list_items(session, InboxFilter())) == 2


def test_a_reply_from_another_address_joins_its_thread_and_patient(session, ann):
    receive(session, IncomingMessage("email", "ann.lee@example.org", thread_key="<t1@example.org>"))
    reply_id = receive(session, IncomingMessage("email", "ann.work@example.com", thread_key="<t1@example.org>"))
    assert item(session, reply_id).patient_id == ann.id


def test_bad_content_is_stored_with_a_problem_not_refused(session, tmp_path):
    message = IncomingMessage(
        "pager",
        "+1 555\x00 0100",
        subject="x" * 5000,
        body="nul \x00 inside",
        attachments=[Attachment("scan.pdf", "application/pdf", str(tmp_path / "gone.pdf"))],
        external_id="y" * 400,
        problem="malformed SMS (no text)",
    )
    stored = item(session, receive(session, message))
    assert "malformed SMS (no text)" in stored.problem
    assert "unknown channel 'pager'" in stored.problem
    assert "attachment 'scan.pdf': cannot read" in stored.problem
    assert "\x00" not in stored.body and stored.body.startswith("nul ")
    assert len(stored.subject) == 5000


def test_attachments_are_saved_inside_the_directory_with_size_and_checksum(session, tmp_path):
    data = b"%PDF-1.4 referral"
    saved = save_attachment(tmp_path / "files", "../../etc/passwd", data, "application/pdf")
    assert (tmp_path / "files").resolve() in Path(saved.path).resolve().parents
    stored = item(session, receive(session, IncomingMessage("web", "", body="see scan", attachments=[saved])))
    (row,) = stored.attachments
    assert (row.filename, row.size, row.sha256) == ("../../etc/passwd", len(data), hashlib.sha256(data).hexdigest())


def test_flags_and_assignment_filter_the_list(session):
    first = receive(session, IncomingMessage("sms", "+1 555 0100", body="one"))
    second = receive(session, IncomingMessage("sms", "+1 555 0101", body="two"))
    set_flag(session, first, "needs-reply")
    set_flag(session, second, "done")
    assign(session, first, "maria")
    assert [i.id for i in list_items(session, InboxFilter(flag="needs-reply"))] == [first]
    assert [i.id for i in list_items(session, InboxFilter(flag="done"))] == [second]
    assert [i.id for i in list_items(session, InboxFilter(assigned_to="maria"))] == [first]
    set_flag(session, first, "done")
    assert list_items(session, InboxFilter(flag="needs-reply")) == []
    with pytest.raises(InboxError, match="flag 'urgent' is not one of needs-reply, done"):
        set_flag(session, first, "urgent")
