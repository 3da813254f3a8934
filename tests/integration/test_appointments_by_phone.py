"""`ccctl flow simulate` on the shipped hotline, through the emulator, against a migrated database:
a member hears their visit and cancels it; a Chinese caller books the next cardiology slot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_flow_cli import OPEN, ccctl, free_port, write_config

from ccctl.appointments import store
from ccctl.local_site.demo import DEMO_MEMBERS, seed_demo_members
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade
from ccctl.records.models.appointments import Appointment, Department, Doctor, Slot
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.patients import Patient, PatientPhone

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHINESE_CALLER = "13900000777"


def said(moment: datetime, language: str) -> str:
    """How the simulation shows a date-time the switch's `say` spoke in the site's zone."""
    return f"[say] {language} CURRENT_DATE_TIME {moment.astimezone(SHANGHAI).strftime('%Y-%m-%d %a %H:%M')}"


@pytest.fixture
def hospital(tmp_path):
    """A migrated SQLite with the demo members, cardiology's next three slots and a Chinese patient on file."""
    config = write_config(tmp_path)
    settings = yaml.safe_load(config.read_text())
    settings["appointments"] = {"timezone": "Asia/Shanghai", "confirm_by": ["sms"]}
    settings.setdefault("sms", {})["sendsms_url"] = f"http://127.0.0.1:{free_port()}/cgi-bin/sendsms"
    config.write_text(yaml.safe_dump(settings))
    url = f"sqlite:///{tmp_path / 'ccctl.db'}"
    upgrade(url)
    seed_demo_members(url)
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=1, minute=30, second=0, microsecond=0)
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        cardiology = Department(code="CARD", name="Cardiology", names={"zh": "心内科", "pl": "Kardiologia"})
        doctor = Doctor(code="D7", name="Dr Wang", department=cardiology)
        slots = [Slot(doctor=doctor, department=cardiology, starts_at=start + timedelta(hours=n)) for n in range(3)]
        caller = Patient(patient_code="P-ZH", given_name="Lei", family_name="Li", language="zh")
        caller.phones.append(PatientPhone(number=CHINESE_CALLER))
        session.add_all([cardiology, *slots, caller])
    yield config, engine, [slot.id for slot in slots], [slot.starts_at for slot in slots]
    engine.dispose()


def test_a_member_hears_their_visit_and_cancels_it(hospital):
    config, engine, slot_ids, times = hospital
    member = DEMO_MEMBERS[0]
    with Session(engine) as session, session.begin():
        patient_id = session.scalar(select(Patient.id).where(Patient.member_number == member.member_number))
        store.book(session, patient_id, slot_ids[1], source="agent", booked_by="alice")
    # 1 English, 1 member, number, PIN, 6 my visits, 2 cancel it
    keys = f"1,1,{member.member_number}#,{member.pin}#,6,2"
    run = ccctl(config, "flow", "simulate", "main", "--keys", keys, "--at", OPEN)
    assert run.returncode == 0, run.stderr
    prompts = run.stdout.split("prompts:\n")[1].split("\n\n")[0]
    assert "[tts] Visit 1: Cardiology, Dr Wang, on\n" in prompts
    assert said(times[1], "en") + "\n" in prompts
    assert "[tts] Your visit is cancelled. We will send you a message.\n" in prompts
    assert "my_visits:cancelled" in run.stdout.split("path:\n")[1]
    with Session(engine) as session:
        visit = session.scalars(select(Appointment)).one()
        assert (visit.status, visit.held_slot_id) == ("cancelled", None)


def test_a_chinese_caller_books_the_next_cardiology_slot(hospital):
    config, engine, slot_ids, times = hospital
    # 2 Chinese, 2 not a member, 4 book a visit, 1 cardiology, 1 the first time offered
    run = ccctl(config, "flow", "simulate", "main", "--keys", "2,2,4,1,1", "--caller", CHINESE_CALLER, "--at", OPEN)
    assert run.returncode == 0, run.stderr
    prompts = run.stdout.split("prompts:\n")[1].split("\n\n")[0]
    heard = [line.split(". ", 1)[1] for line in prompts.splitlines()]
    offered = heard[heard.index("[tts] 心内科最近的可预约时间如下。") :]
    assert offered[:10] == [
        "[tts] 心内科最近的可预约时间如下。",
        "[tts] Dr Wang，请按1：",
        said(times[0], "zh"),
        "[tts] Dr Wang，请按2：",
        said(times[1], "zh"),
        "[tts] Dr Wang，请按3：",
        said(times[2], "zh"),
        "[tts] 请选择预约时间。",
        "[tts] 您已成功预约心内科，Dr Wang，时间是",
        said(times[0], "zh"),
    ]
    assert "  patient:     P-ZH (non-member)\n" in run.stdout
    with Session(engine) as session:
        booking = session.scalars(select(Appointment)).one()
        patient = session.get(Patient, booking.patient_id)
        assert (patient.patient_code, booking.slot_id, booking.status, booking.source) == (
            "P-ZH",
            slot_ids[0],
            "booked",
            "ivr",
        )
        assert booking.booked_by.startswith("ivr:")
        [sms] = session.scalars(select(SmsMessage)).all()
        assert sms.body.startswith("您已预约：心内科") and sms.patient_id == patient.id


def test_a_member_moves_their_visit_to_the_first_free_cardiology_slot(hospital):
    config, engine, slot_ids, times = hospital
    member = DEMO_MEMBERS[0]
    with Session(engine) as session, session.begin():
        patient_id = session.scalar(select(Patient.id).where(Patient.member_number == member.member_number))
        store.book(session, patient_id, slot_ids[1], source="agent", booked_by="alice")
    # 1 English, 1 member, number, PIN, 6 my visits, 4 move it, 1 the first free time offered
    keys = f"1,1,{member.member_number}#,{member.pin}#,6,4,1"
    run = ccctl(config, "flow", "simulate", "main", "--keys", keys, "--at", OPEN)
    assert run.returncode == 0, run.stderr
    prompts = run.stdout.split("prompts:\n")[1].split("\n\n")[0]
    heard = [line.split(". ", 1)[1] for line in prompts.splitlines()]
    offered = heard[heard.index("[tts] The next free times in Cardiology.") :]
    assert offered[:8] == [
        "[tts] The next free times in Cardiology.",
        "[tts] For Dr Wang, press 1:",
        said(times[0], "en"),
        "[tts] For Dr Wang, press 2:",
        said(times[2], "en"),
        "[tts] Please choose a time.",
        "[tts] Your visit is moved to Cardiology, Dr Wang, on",
        said(times[0], "en"),
    ]
    assert "my_visits:moved" in run.stdout.split("path:\n")[1]
    with Session(engine) as session:
        old, new = session.scalars(select(Appointment).order_by(Appointment.id)).all()
        assert (old.status, old.held_slot_id) == ("moved", None)
        assert (new.status, new.slot_id, new.moved_from_id, new.source) == ("booked", slot_ids[0], old.id, "ivr")
        [sms] = session.scalars(select(SmsMessage)).all()
        assert sms.body.startswith("Your visit has moved to") and sms.patient_id == patient_id
        assert session.scalar(select(AuditEntry.id).where(AuditEntry.action == "appointment_moved")) is not None
