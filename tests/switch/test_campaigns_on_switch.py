"""A reminder campaign on the real switch: `ccctl serve`'s dialer calls four SIPp patients through the trunk.

Each patient's phone is a SIPp process of its own, and their number on file is that process's SIP port:
campaigns.dial sends `{number}` as the port (`sofia/trunk/patient@127.0.0.1:{number}`), as the callback
test does with acd.callback_dial. One answers and presses 1, one presses 2, one is busy (486) and one
rings out; the records, the appointments and the SMS row are read back from the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sipp
from sqlalchemy import select
from sqlalchemy.orm import Session
from switch_site import QUEUE_FLOW, SippRun, SwitchSite, free_port

from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment, Department, Doctor, Slot
from ccctl.records.models.campaigns import ContactAttempt
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.patients import Patient, PatientPhone

REPO = Path(__file__).resolve().parents[2]
VISIT_DAY = date.today() + timedelta(days=2)
CAMPAIGN = f"""\
name: reminders
kind: reminder
flow: reminder
targets:
  appointments: {{from: {VISIT_DAY}, to: {VISIT_DAY}}}
channels:
  voice_attempts: 2
  sms: "City Hospital: please call 7000 about your visit."
calling:
  windows:
    - {{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}}
retry: {{busy: 0.05, no_answer: 0.05}}
caps: {{concurrent: 10, per_second: 10}}
"""
RING_SECONDS = 4


def reminder_flow() -> str:
    return (REPO / "ivr_flows/campaigns/flows/reminder.yaml").read_text()


# the patient presses a key as SIP INFO inside the dialog the switch opened (their From is our To)
_INFO = (
    '  <send retrans="500"><![CDATA[\n      INFO [next_url] SIP/2.0\n'
    "      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
    "      From: [$local_to];tag=[pid]SIPpTag01[call_number]\n      To: [$remote_from]\n"
    "      [last_Call-ID:]\n      CSeq: 2 INFO\n      [routes]\n      Max-Forwards: 70\n"
    "      Content-Type: application/dtmf-relay\n      Content-Length: [len]\n\n"
    "      Signal={digit}\n      Duration=160\n    ]]></send>\n"
    '  <recv response="200"/>\n'
)


def answering_patient_scenario(digit: str) -> str:
    """Pick up after a ring, press `digit` two seconds into the reminder, listen until the switch hangs up."""
    out = [sipp._HEAD.format(name=f"patient-presses-{digit}"), sipp._recv_invite(("ends",))]
    out.append(sipp._reply("100 Trying"))
    out.append(sipp._reply("180 Ringing"))
    out.append('  <pause milliseconds="300"/>\n')
    out.append(sipp._reply("200 OK", sdp=True, retrans=True))
    out.append('  <recv request="ACK" crlf="true"/>\n')
    out.append('  <pause milliseconds="2000"/>\n')
    out.append(_INFO.format(digit=digit))
    out.append('  <recv request="BYE"/>\n')
    out.append(sipp._reply("200 OK", in_dialog=True))
    out.append("</scenario>\n")
    return "".join(out)


def patient_phone(site: SwitchSite, name: str, scenario: str, port: int, calls: int) -> SippRun:
    return site._sipp(name, scenario, ["-m", str(calls), "-p", str(port), "-key", "extension", "patient"])


def seed(url: str, numbers: dict[str, str]) -> dict[str, int]:
    """A patient per code with that number, each with a visit on VISIT_DAY; appointment ids by code."""
    engine = make_engine(url)
    with Session(engine) as session:
        department = Department(code="cardio", name="Cardiology")
        doctor = Doctor(code="D1", name="Dr Lee", department=department)
        session.add_all([department, doctor])
        session.flush()
        visits = {}
        for hour, (code, number) in enumerate(numbers.items(), start=8):
            patient = Patient(patient_code=code, given_name="Test", family_name=code)
            patient.phones.append(PatientPhone(number=number, kind="mobile"))
            starts = datetime(VISIT_DAY.year, VISIT_DAY.month, VISIT_DAY.day, hour, tzinfo=UTC)
            slot = Slot(doctor_id=doctor.id, department_id=department.id, starts_at=starts)
            session.add_all([patient, slot])
            session.flush()
            visit = Appointment(patient_id=patient.id, slot_id=slot.id, held_slot_id=slot.id, source="agent")
            session.add(visit)
            session.flush()
            visits[code] = visit.id
        session.commit()
    engine.dispose()
    return visits


def outcomes(url: str) -> dict[str, list[str]]:
    """Voice attempts' outcomes per patient code, in order ("" while a call is still going)."""
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(
            select(Patient.patient_code, ContactAttempt.outcome)
            .join(Patient, Patient.id == ContactAttempt.patient_id)
            .where(ContactAttempt.channel == "voice")
            .order_by(ContactAttempt.id)
        ).all()
    engine.dispose()
    found: dict[str, list[str]] = {}
    for code, outcome in rows:
        found.setdefault(code, []).append(outcome or "")
    return found


def test_a_reminder_campaign_confirms_cancels_retries_busy_and_texts_the_unreached(tmp_path):
    ports = {code: free_port() for code in ("P1", "P2", "P3", "P4")}
    flows = {
        "main.yaml": QUEUE_FLOW,
        "campaigns/flows/reminder.yaml": reminder_flow(),
        "campaigns/reminders.yaml": CAMPAIGN,
    }
    settings = {
        "campaigns": {
            "dial": "sofia/trunk/patient@127.0.0.1:{number}",
            "ring_seconds": RING_SECONDS,
            "tick_seconds": 0.5,
        },
        "sms": {"sendsms_url": ""},  # the SMS row stays queued: no Kannel here
    }
    with SwitchSite(tmp_path, flows, settings=settings) as site:
        url = site._settings()["database"]["url"]
        visits = seed(url, {code: str(port) for code, port in ports.items()})
        phones = {
            "P1": patient_phone(site, "confirms", answering_patient_scenario("1"), ports["P1"], 1),
            "P2": patient_phone(site, "cancels", answering_patient_scenario("2"), ports["P2"], 1),
            "P3": patient_phone(site, "busy", sipp.agent_phone_scenario("busy"), ports["P3"], 2),
            "P4": patient_phone(site, "rings-out", sipp.agent_phone_scenario("ignore"), ports["P4"], 2),
        }
        added = site.ccctl("campaigns", "add", str(site.root / "flows/campaigns/reminders.yaml")).stdout
        assert "with 4 patients" in added, added
        site.ccctl("campaigns", "start", "reminders")

        def all_done():
            found = outcomes(url)
            done = found.get("P3") == ["busy", "busy"] and found.get("P4") == ["no_answer", "no_answer"]
            return found if done and found.get("P1") == ["confirmed"] and found.get("P2") == ["cancelled"] else None

        found = site.wait_for(all_done, 50, f"every attempt's outcome (so far {outcomes(url)})")
        for code, phone in phones.items():
            assert phone.wait(15) == 0, (code, phone.errors())
        sms = site.wait_for(lambda: len(sms_rows(url)) == 2 and sms_rows(url), 10, "both SMS rows")

    assert found == {"P1": ["confirmed"], "P2": ["cancelled"], "P3": ["busy", "busy"], "P4": ["no_answer"] * 2}
    assert appointment_statuses(url) == {
        visits["P1"]: "confirmed",
        visits["P2"]: "cancelled",
        visits["P3"]: "booked",
        visits["P4"]: "booked",
    }
    text = "City Hospital: please call 7000 about your visit."
    assert sorted(sms) == sorted([(str(ports["P3"]), "queued", text), (str(ports["P4"]), "queued", text)])


def appointment_statuses(url: str) -> dict[int, str]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = dict(session.execute(select(Appointment.id, Appointment.status)).all())
    engine.dispose()
    return rows


def sms_rows(url: str) -> list[tuple[str, str, str]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(SmsMessage.recipient, SmsMessage.status, SmsMessage.body)).all()
    engine.dispose()
    return [tuple(row) for row in rows]
