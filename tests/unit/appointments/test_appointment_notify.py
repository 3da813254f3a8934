"""The patient's confirmation: SMS in their language with the time in the site's zone, STOP honoured, else e-mail."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from schedule_fixtures import add_cardiology, add_patient, session_on
from sqlalchemy import select

from ccctl.appointments import store
from ccctl.appointments.notify import notify_change
from ccctl.config import AppointmentsSettings, Settings
from ccctl.records.models.channels import SmsMessage, SmsOptOut
from ccctl.records.models.inbox import InboxItem, PatientEmail

ZONE = ZoneInfo("Europe/Warsaw")
WARSAW = Settings(appointments=AppointmentsSettings(timezone="Europe/Warsaw"))


def _book(session, language: str) -> tuple[int, object]:
    slots = add_cardiology(session, slots=2)
    patient = add_patient(session, language=language)
    return patient, store.book(session, patient, slots[1], source="agent", booked_by="alice")


def test_a_booking_queues_an_sms_in_chinese_with_the_warsaw_time(sqlite_url):
    with session_on(sqlite_url) as session:
        _, booked = _book(session, "zh")
        notice = notify_change(session, booked, "booked", WARSAW)
        local = booked.slot.starts_at.astimezone(ZONE)
        message = session.get(SmsMessage, notice.message_id)
        assert (notice.channel, message.status, message.recipient) == ("sms", "queued", "+48600100200")
        assert message.body == (f"您已预约：心内科, Dr Novak D1，{local:%Y年%m月%d日 %H:%M}。预约号 {booked.id}。")


def test_a_cancellation_in_polish_names_the_department_in_polish(sqlite_url):
    with session_on(sqlite_url) as session:
        _, booked = _book(session, "pl")
        cancelled = store.cancel(session, booked.id, by="alice")
        body = session.get(SmsMessage, notify_change(session, cancelled, "cancelled", WARSAW).message_id).body
        local = booked.slot.starts_at.astimezone(ZONE)
        assert body == f"Wizyta Kardiologia, Dr Novak D1, {local:%d.%m.%Y godz. %H:%M} odwołana. Nr {booked.id}."


def test_a_number_that_sent_stop_gets_an_email_instead(sqlite_url):
    with session_on(sqlite_url) as session:
        patient, booked = _book(session, "en")
        session.add(SmsOptOut(number="+48600100200", keyword="STOP"))
        session.add(PatientEmail(patient_id=patient, address="ann@example.org"))
        notice = notify_change(session, booked, "confirmed", WARSAW)
        item = session.get(InboxItem, notice.message_id)
        assert (notice.channel, item.direction, item.sender, item.done) == ("email", "out", "ann@example.org", False)
        assert item.body.startswith("Your visit is confirmed: Cardiology, Dr Novak D1, ")
        assert session.scalars(select(SmsMessage)).all() == []


def test_without_an_email_an_opted_out_patient_is_not_texted_and_the_refusal_is_kept(sqlite_url):
    with session_on(sqlite_url) as session:
        _, booked = _book(session, "en")
        session.add(SmsOptOut(number="+48600100200", keyword="STOP"))
        notice = notify_change(session, booked, "booked", WARSAW)
        assert (notice.channel, notice.reason) == ("", "opted_out")
        assert [m.status for m in session.scalars(select(SmsMessage))] == ["opted_out"]
