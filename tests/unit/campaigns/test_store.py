"""Campaign rows on SQLite and PostgreSQL: the compare-and-set claim, retries by outcome, the SMS step once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.campaigns import channel_plan, store
from ccctl.campaigns.model import CallingHours, CampaignSpec, TargetList, Window
from ccctl.records.database import make_engine
from ccctl.records.models.campaigns import CampaignTarget, ContactAttempt
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.patients import Patient, PatientPhone

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
SPEC = CampaignSpec(
    name="flu",
    kind="notification",
    flow="reminder",
    targets=TargetList(specialty="cardio"),
    hours=CallingHours((Window(frozenset(range(7)), 0, 24 * 60),)),
    time_zone="",
    voice_attempts=2,
    retry_minutes={"busy": 10, "no_answer": 60, "machine": 60, "failed": 30},
    sms_text="Flu shots this week",
)


def campaign_with_two_patients(session: Session):
    for code, specialty in (("P1", "cardio"), ("P2", "cardio"), ("P3", "ortho")):
        patient = Patient(patient_code=code, specialty=specialty, custom_fields={"time_zone": "Europe/Warsaw"})
        patient.phones.append(PatientPhone(number=f"+4860000000{code[1]}", kind="mobile"))
        session.add(patient)
    session.flush()
    return store.add_campaign(session, SPEC, "flu.yaml", "", "admin", UTC_ZONE, NOW)


def test_a_target_is_claimed_once_and_retried_after_its_outcomes_spacing(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        campaign = campaign_with_two_patients(session)
        due = store.due_targets(session, campaign.id, NOW, 10, UTC_ZONE)
        assert len(due) == 2 and due[0].zone == ZoneInfo("Europe/Warsaw")
        first = store.claim(session, due[0], campaign.id, NOW, 2)
        assert first is not None
        assert store.claim(session, due[0], campaign.id, NOW, 2) is None  # a second claim of the same attempt
        assert store.load(session, campaign.id, NOW - timedelta(hours=1)) == (1, 0)
        store.call_failed(session, SPEC, due[0].id, first, "busy", "USER_BUSY", NOW)
        session.commit()
        assert [t.id for t in store.due_targets(session, campaign.id, NOW, 10, UTC_ZONE)] == [due[1].id]
        later = store.due_targets(session, campaign.id, NOW + timedelta(minutes=10), 10, UTC_ZONE)
        assert [t.id for t in later] == [due[1].id, due[0].id]  # soonest due first
    engine.dispose()


def test_after_the_last_unanswered_call_one_sms_is_queued(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        campaign = campaign_with_two_patients(session)
        first = store.due_targets(session, campaign.id, NOW, 10, UTC_ZONE)[0].id
        for minutes in (0, 61):
            now = NOW + timedelta(minutes=minutes)
            due = next(t for t in store.due_targets(session, campaign.id, now, 10, UTC_ZONE) if t.id == first)
            attempt = store.claim(session, due, campaign.id, now, 2)
            store.call_failed(session, SPEC, due.id, attempt, "no_answer", "NO_ANSWER", now)
        assert [t.channel for t in channel_plan.next_channel_targets(session, campaign.id)] == ["sms"]
        for target in channel_plan.next_channel_targets(session, campaign.id):
            channel_plan.queue_sms(session, campaign, SPEC, target)
        assert channel_plan.next_channel_targets(session, campaign.id) == []
        session.commit()
        messages = session.execute(select(SmsMessage.recipient, SmsMessage.body, SmsMessage.status)).all()
        assert [tuple(m) for m in messages] == [("+48600000001", "Flu shots this week", "queued")]
        target = session.scalars(select(CampaignTarget).where(CampaignTarget.patient_id == due.patient_id)).one()
        assert (target.state, target.last_outcome, target.voice_attempts) == ("done", "sms_queued", 2)
        reasons = session.scalars(select(ContactAttempt.reason).order_by(ContactAttempt.id)).all()
        assert reasons == ["call 1 of 2", "call 2 of 2", "not reached after 2 calls"]
    engine.dispose()


def test_a_target_left_in_progress_by_a_dead_process_waits_before_it_is_called_again(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        campaign = campaign_with_two_patients(session)
        due = store.due_targets(session, campaign.id, NOW, 1, UTC_ZONE)[0]
        store.claim(session, due, campaign.id, NOW, 2)
        assert store.release_stale(session, campaign.id, NOW + timedelta(minutes=5), timedelta(minutes=10), 2) == 0
        assert store.release_stale(session, campaign.id, NOW + timedelta(minutes=11), timedelta(minutes=10), 2) == 1
        soon = store.due_targets(session, campaign.id, NOW + timedelta(minutes=12), 10, UTC_ZONE)
        assert due.id not in [t.id for t in soon]
        again = store.due_targets(session, campaign.id, NOW + timedelta(minutes=21), 10, UTC_ZONE)
        assert due.id in [t.id for t in again]
    engine.dispose()


def test_a_target_left_in_progress_on_its_last_call_goes_on_to_the_sms_not_to_another_call(db_url):
    engine = make_engine(db_url)
    with Session(engine) as session:
        campaign = campaign_with_two_patients(session)
        due = store.due_targets(session, campaign.id, NOW, 1, UTC_ZONE)[0]
        store.claim(session, due, campaign.id, NOW, 1)
        assert store.release_stale(session, campaign.id, NOW + timedelta(minutes=11), timedelta(minutes=10), 1) == 1
        later = store.due_targets(session, campaign.id, NOW + timedelta(days=1), 10, UTC_ZONE)
        assert due.id not in [t.id for t in later]  # one call allowed, one placed: never dialled again
        assert [t.id for t in channel_plan.next_channel_targets(session, campaign.id)] == [due.id]
    engine.dispose()
