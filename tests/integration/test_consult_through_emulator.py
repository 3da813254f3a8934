"""Expert consultation through the emulator, the way an agent's supervisor or the agent runs it: the roster is
set and read with `ccctl schedule expert|experts`, `ccctl consult` puts caller, agent and expert in one
conference, and the call goes on to its normal end: the caller's greenlet waits, the talk and its recording
are filed like any call's."""

from __future__ import annotations

import dataclasses
import re

from acd_site import AcdSite, acd_settings, add_agents, entries, events, queue, recording_rows, wait_until
from click.testing import CliRunner
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine
from ccctl.records.models.appointments import Department, Doctor
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint
from ccctl.web.accounts import add_user

LONG_TALK = 3000  # emulated seconds: nobody hangs up by themselves in this test
PASSWORD = "correct horse 1"


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def _cli(site, *args: str):
    host, port = site.switch.esl_address
    env = {
        "CCCTL_DATABASE__URL": site.settings.database.url,
        "CCCTL_ESL__INBOUND_HOST": host,
        "CCCTL_ESL__INBOUND_PORT": str(port),
        "CCCTL_ESL__PASSWORD": site.settings.esl.password,
        "CCCTL_ESL__COMMAND_TIMEOUT": "5",
        "CCCTL_FREESWITCH__DOMAIN": site.switch.domain,
        "CCCTL_APPOINTMENTS__TIMEZONE": "Europe/Warsaw",
    }
    return CliRunner().invoke(main, list(args), env=env)


def _add_cardiologist(url: str) -> None:
    engine = make_engine(url)
    try:
        with Session(engine) as db, db.begin():
            db.add(Doctor(code="EXP-7", name="Prof. Wiśniewska", department=Department(code="CARD", name="Cardiology")))
    finally:
        engine.dispose()


def test_an_agent_adds_the_expert_on_duty_to_the_call_and_the_call_is_filed_as_usual(sqlite_url, tmp_path):
    db_url = sqlite_url
    settings = acd_settings(db_url, tmp_path)
    add_agents(db_url, {"ann": ("1001", "cardio")})
    queue(db_url)
    _add_cardiologist(db_url)
    phones = {
        "1001": AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK),
        "1201": AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK),
    }
    with AcdSite(settings, phones) as site:
        put = _cli(site, "schedule", "expert", "EXP-7", "--hours", "Mon-Sun 00:00-24:00", "--dial", "user/1201")
        assert put.exit_code == 0, put.output
        assert put.output == "expert EXP-7 (Prof. Wiśniewska): Mon-Sun 00:00-24:00, dialled as user/1201\n"
        on_duty = _cli(site, "schedule", "experts")
        assert on_duty.exit_code == 0, on_duty.output
        header, row = on_duty.output.splitlines()
        assert header.split() == ["EXPERT", "NAME", "DEPARTMENT", "HOURS", "DIAL", "ON", "NOW"]
        assert row.split() == ["EXP-7", "Prof.", "Wiśniewska", "CARD", "Mon-Sun", "00:00-24:00", "user/1201", "yes"]

        call = site.switch.place_call(CallerScript("13800000001", "7000", [], context="public"))
        assert wait_until(lambda: ("answered", "ann") in [(k, a) for _, k, a in events(db_url)])

        consult = _cli(site, "consult", "ann", "--expert", "EXP-7")

        assert consult.exit_code == 0, consult.output
        conference = f"consult-{call.uuid}"
        assert consult.output.endswith(f"EXP-7 joined the call of ann (conference {conference}); "
                                       "the consultation is recorded with the call\n")  # fmt: skip
        members = site.switch.conferences[conference].members
        assert call.uuid in [m.channel.uuid for m in members]
        assert sorted(m.channel.name.split("/")[-1].split("@")[0] for m in members if m.channel.uuid != call.uuid) == [
            "1001", "1201",
        ]  # fmt: skip
        assert site.switch.channels[call.uuid].up  # the caller's greenlet did not hang up after the bridge

        again = _cli(site, "consult", "ann", "--dial", "user/1999")  # nobody there: the three talk on
        assert again.exit_code == 1 and "user/1999 was not connected" in again.output
        assert len(site.switch.conferences[conference].members) == 3

        site.switch.hangup_soon(site.switch.channels[call.uuid], "NORMAL_CLEARING", "caller")
        assert call.wait(30) is not None
        site.wait_idle()
    assert entries(db_url) == {call.uuid: "done"}
    assert [(kind, agent) for _, kind, agent in events(db_url)][:4] == [
        ("entered", None), ("offered", "ann"), ("answered", "ann"), ("ended", "ann"),
    ]  # fmt: skip
    assert [(row[0], row[2], row[3]) for row in recording_rows(db_url)] == [(call.uuid, "ann", "cardio")]


def test_consult_names_what_is_missing(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    _add_cardiologist(sqlite_url)
    with AcdSite(settings, {}) as site:
        assert "no such expert on the roster" in _cli(site, "consult", "ann", "--expert", "EXP-7").output
        assert "name one party to add" in _cli(site, "consult", "ann").output
        assert "has no live call" in _cli(site, "consult", "ann", "--dial", "user/1201").output
        bad = _cli(site, "schedule", "expert", "EXP-7", "--hours", "Mon-Fri 16:00-14:00", "--dial", "user/1201")
        assert bad.exit_code == 1
        assert bad.output == "ccctl: doctor EXP-7 --hours 'Mon-Fri 16:00-14:00': the end comes before the start\n"
        assert _cli(site, "schedule", "experts", "--all").output.strip() == "no experts on the roster"


def test_the_agent_adds_the_expert_from_the_screen_pops_booking_panel(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, web=dataclasses.replace(settings.web, secret_key="consult-test"))
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    queue(sqlite_url)
    _add_cardiologist(sqlite_url)
    engine = make_engine(sqlite_url)
    with Session(engine) as db, db.begin():
        add_user(db, "ann", "agent", PASSWORD)
        patient_id = add_patient(db, PatientData("Anna", "Kowalska", ["+48600100200"]), {}).id
    engine.dispose()
    phones = {
        "1001": AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK),
        "1201": AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK),
    }
    with AcdSite(settings, phones) as site:
        assert _cli(site, "schedule", "expert", "EXP-7", "--hours", "Mon-Sun 00:00-24:00", "--dial", "user/1201")
        call = site.switch.place_call(CallerScript("13800000001", "7000", [], context="public"))
        assert wait_until(lambda: ("answered", "ann") in [(k, a) for _, k, a in events(sqlite_url)])
        app = site.controller._web.application
        app.extensions["ccctl"].screen_pops.on_acd_event(
            {"type": "offered", "agent": "ann", "call_uuid": call.uuid, "patient_id": patient_id, "queue": "cardio"}
        )
        client = app.test_client()
        login = csrf_of(client.get("/login").get_data(as_text=True))
        client.post("/login", data={"name": "ann", "password": PASSWORD, "csrf_token": login})
        panel = client.get(f"/patients/{patient_id}/appointments").get_data(as_text=True)
        assert 'data-expert="EXP-7"' in panel and "Add to the call" in panel
        assert "department=CARD&amp;doctor=EXP-7" in panel  # a call-back slot with the expert, one click away

        added = client.post(
            f"/patients/{patient_id}/appointments/consult", data={"expert": "EXP-7", "csrf_token": csrf_of(panel)}
        )

        assert added.status_code == 200
        assert "EXP-7 is joining the call; the consultation is recorded with it." in added.get_data(as_text=True)
        assert len(site.switch.conferences[f"consult-{call.uuid}"].members) == 3
        site.switch.hangup_soon(site.switch.channels[call.uuid], "NORMAL_CLEARING", "caller")
        assert call.wait(30) is not None
        site.wait_idle()
    assert [(row[0], row[2]) for row in recording_rows(sqlite_url)] == [(call.uuid, "ann")]
