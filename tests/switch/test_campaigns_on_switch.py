"""A reminder campaign on the real switch: `ccctl serve`'s dialer calls four SIPp patients through the trunk.

Each patient's phone is a SIPp process of its own, and their number on file is that process's SIP port:
campaigns.dial sends `{number}` as the port (`sofia/trunk/patient@127.0.0.1:{number}`), as the callback
test does with acd.callback_dial. One answers and presses 1, one presses 2, one is busy (486) and one
rings out; the records, the appointments and the SMS row are read back from the database.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sipp
from campaign_rows import appointment_statuses, sms_rows, voice_outcomes
from sqlalchemy.orm import Session
from switch_site import QUEUE_FLOW, SippRun, SwitchSite, free_port, tone

from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Appointment, Department, Doctor, Slot
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
            found = voice_outcomes(url)
            done = found.get("P3") == ["busy", "busy"] and found.get("P4") == ["no_answer", "no_answer"]
            return found if done and found.get("P1") == ["confirmed"] and found.get("P2") == ["cancelled"] else None

        found = site.wait_for(all_done, 50, f"every attempt's outcome (so far {voice_outcomes(url)})")
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


def voicemail_greeting(site: SwitchSite) -> str:
    """Two seconds of noise (someone's recorded voice), the 1000 Hz beep, then silence, as SIPp streams it."""
    folder = site.root / "sipp"
    noise, beep, silence = folder / "noise.wav", folder / "beep.wav", folder / "silence.wav"
    ulaw = ["-r", "8000", "-c", "1", "-e", "u-law"]
    subprocess.run(["sox", "-q", "-n", *ulaw, str(noise), "synth", "2", "pinknoise", "vol", "0.3"], check=True)
    tone(beep, 0.6, 1000)
    subprocess.run(["sox", "-q", "-n", *ulaw, str(silence), "trim", "0", "20"], check=True)
    greeting = folder / "greeting.wav"
    subprocess.run(["sox", "-q", str(noise), str(beep), str(silence), str(greeting)], check=True)
    return str(greeting)


def test_a_voicemail_greeting_is_heard_by_mod_avmd_and_gets_the_campaigns_message(tmp_path):
    port = free_port()
    campaign = CAMPAIGN.replace("voice_attempts: 2", "voice_attempts: 1") + (
        'machine: leave_message\nmachine_message: "say:City Hospital calling. Please call us back."\n'
    )
    flows = {"main.yaml": QUEUE_FLOW, "campaigns/flows/reminder.yaml": reminder_flow(), "campaigns/vm.yaml": campaign}
    settings = {"campaigns": {"dial": "sofia/trunk/patient@127.0.0.1:{number}", "tick_seconds": 0.5}}
    with SwitchSite(tmp_path, flows, settings=settings) as site:
        assert "mod_avmd" in (site.root / "conf/autoload_configs/modules.conf.xml").read_text()
        assert "avmd_start" in site.api("show application avmd_start")
        url = site._settings()["database"]["url"]
        seed(url, {"P1": str(port)})
        scenario = sipp.agent_phone_scenario("answer", 300, 0, voicemail_greeting(site))
        phone = patient_phone(site, "voicemail", scenario, port, 1)
        site.ccctl("campaigns", "add", str(site.root / "flows/campaigns/vm.yaml"))
        site.ccctl("campaigns", "start", "reminders")
        found = site.wait_for(
            lambda: voice_outcomes(url).get("P1") == ["machine"] and voice_outcomes(url), 40, "the machine"
        )
        assert phone.wait(20) == 0, phone.errors()  # the switch hung up after the message
        log = site.freeswitch_log()
    assert found == {"P1": ["machine"]}
    assert "AVMD - Beep Detected" in log
    # the message, queued by uuid_broadcast inside the reminder's menu, spoken (no "Invalid Args" from
    # switch_ivr_play_say.c: the leg carries tts_engine and tts_voice), then the hangup queued after it
    message = log[log.index("AVMD - Beep Detected") :]
    assert "playback(say:City Hospital calling. Please call us back.)" in message
    assert "Invalid Args" not in log
    assert "AVMD config parameter" not in log  # avmd.conf sets every parameter mod_avmd reads
    assert message.index("playback(say:") < message.index("hangup(normal_clearing)")
