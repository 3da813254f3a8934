"""The shipped main hotline through the emulator with the database-backed services (SQLite and PostgreSQL).

Callers key in what a patient would; the tests check what they hear, where the call goes,
and what the database keeps (call record, PIN attempts, voice messages), never the PIN.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import shutil
from pathlib import Path

import gevent
from emulated_site import EmulatedSite, by_uuid, site_settings, stored_calls
from sqlalchemy import select, text

from ccctl.patients import commands as patient_commands
from ccctl.patients.repository import PatientData
from ccctl.records.call_listing import format_calls, list_calls
from ccctl.records.database import make_engine
from ccctl.records.models.base import Base
from ccctl.records.models.calls import VoiceMessage
from ccctl.records.models.patients import PinAttempt
from ccctl.serve.controller import build_flow_registry
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint

REPO = Path(__file__).resolve().parents[2]
OPEN = dt.datetime(2026, 11, 24, 10, 0)  # a Tuesday morning
SUNDAY_NIGHT = dt.datetime(2026, 11, 29, 23, 0)
MEMBER_PHONE = "13900000042"
MEMBER_NUMBER = "70031337"
PIN = "918273"  # six digits: the flow's PIN maximum, so the read ends without '#'
WRONG_PINS = ["246813", "135792", "864208", "975310", "102938"]
EN, MEMBER, OTHERS = "1", "1", "2"
STRANGER = "13800000001"
# simulated seconds per real second: prompts and menu timeouts pass quickly, keys keep their order
TIME_FACTOR = 100.0


@dataclasses.dataclass
class Anna:
    code: str
    id: int


def add_member(url: str) -> Anna:
    data = PatientData("Anna", "Nowak", [MEMBER_PHONE], member_number=MEMBER_NUMBER)
    code = patient_commands.add(url, data, None, "test")
    patient_commands.set_pin(url, code, PIN, "test")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            patient_id = conn.execute(text("SELECT id FROM patients WHERE patient_code = :c"), {"c": code}).scalar()
    finally:
        engine.dispose()
    return Anna(code, patient_id)


@contextlib.contextmanager
def hotline(db_url: str, tmp_path: Path, at: dt.datetime = OPEN, **overrides):
    settings = site_settings(db_url, tmp_path, **overrides)
    # the flows alone: queue nodes bridge to the handoff dial string (the ACD has tests of its own)
    settings = dataclasses.replace(settings, acd=dataclasses.replace(settings.acd, enabled=False))
    registry = build_flow_registry(settings, clock=lambda: at)
    with EmulatedSite(settings, registry=registry, time_factor=TIME_FACTOR) as site:
        # the agents' phones answer after a ring and talk briefly, so bridged calls end
        site.switch.default_agent = AgentEndpoint(answer_after=1.0, talk_seconds=5.0)
        yield site


def call(site: EmulatedSite, keys: list[str], caller: str = STRANGER, **script):
    outcome = site.switch.place_call(CallerScript(caller, "7000", keys, context="public", **script)).wait(30)
    site.wait_idle()
    assert outcome is not None and outcome.failure == "", outcome
    return outcome


def prompt(key: str) -> str:
    """The English TTS text of a prompt key, as the switch is asked to speak it."""
    import yaml

    texts = yaml.safe_load((REPO / "ivr_flows" / "prompt_text" / "en.yaml").read_text())["prompts"]
    for part in key.split("."):
        texts = texts[part]
    return "say:" + texts


def rows(url: str, model) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(model).order_by(model.id)))
    finally:
        engine.dispose()


def test_member_with_the_right_pin_reaches_the_member_menu_and_the_call_gets_the_patient(db_url, tmp_path):
    anna = add_member(db_url)
    with hotline(db_url, tmp_path) as site:
        outcome = call(site, [EN, MEMBER, MEMBER_NUMBER + "#", PIN, "2", "1"])
    row = by_uuid(stored_calls(db_url))[outcome.uuid]
    assert row["path"][7:] == [
        "member_question", "authenticate", "authenticate:pin", "authenticate:ok",
        "member_menu", "expert_menu", "cardiology_expert", "cardiology_expert:answered",
    ]  # fmt: skip
    assert row["patient_id"] == anna.id and row["disposition"] == "completed"
    assert "say:Hello Anna Nowak. For appointment registration, press 1." in outcome.prompts[5]
    assert ("multiset", "^^|cc_skill=cardiology|continue_on_fail=true") in outcome.apps and outcome.bridged_to
    assert [(r.patient_id, r.call_uuid, r.outcome) for r in rows(db_url, PinAttempt)] == [(anna.id, outcome.uuid, "ok")]


def test_wrong_pin_then_the_right_one(db_url, tmp_path):
    anna = add_member(db_url)
    with hotline(db_url, tmp_path) as site:
        outcome = call(site, [EN, MEMBER, MEMBER_NUMBER + "#", WRONG_PINS[0], PIN, "3"])
    row = by_uuid(stored_calls(db_url))[outcome.uuid]
    assert row["path"][8:13] == [
        "authenticate", "authenticate:pin", "authenticate:wrong", "authenticate:pin", "authenticate:ok",
    ]  # fmt: skip
    assert row["path"][-2:] == ["test_results", "test_results:answered"]
    assert prompt("auth.wrong_pin") in outcome.prompts
    assert [r.outcome for r in rows(db_url, PinAttempt)] == ["wrong", "ok"]
    assert row["patient_id"] == anna.id


def test_repeated_wrong_pins_across_calls_lock_the_member_out(db_url, tmp_path):
    # the default policy: 5 wrong PINs within 15 minutes lock for 30 minutes; 3 tries per call
    anna = add_member(db_url)
    identify = [EN, MEMBER, MEMBER_NUMBER + "#"]
    with hotline(db_url, tmp_path) as site:
        first = call(site, [*identify, *WRONG_PINS[:3], "1"])
        second = call(site, [*identify, *WRONG_PINS[3:5], "1"])
        third = call(site, [*identify, PIN, "1"])
    calls = by_uuid(stored_calls(db_url))
    assert "auth_failed" in calls[first.uuid]["path"]
    assert calls[second.uuid]["path"][9:14] == [
        "authenticate:pin", "authenticate:wrong", "authenticate:pin", "authenticate:locked", "general_menu",
    ]  # fmt: skip
    # the right PIN does not help while locked: the caller is served as a general caller
    assert calls[third.uuid]["path"][9:12] == ["authenticate:pin", "authenticate:locked", "general_menu"]
    assert prompt("auth.locked") in third.prompts
    assert calls[third.uuid]["path"][-2:] == ["registration", "registration:answered"]
    assert calls[third.uuid]["patient_id"] is None
    attempts = rows(db_url, PinAttempt)
    assert [(a.call_uuid, a.outcome) for a in attempts] == [
        *[(first.uuid, "wrong")] * 3, *[(second.uuid, "wrong")] * 2, (third.uuid, "locked"),
    ]  # fmt: skip
    assert {a.patient_id for a in attempts} == {anna.id}
    for attempt in attempts:  # every attempt recorded, none with its digits
        assert not any(pin in str(tuple(attempt)) for pin in [PIN, *WRONG_PINS])


def test_caller_number_of_a_member_is_offered_the_pin_shortcut(db_url, tmp_path):
    anna = add_member(db_url)
    with hotline(db_url, tmp_path) as site:
        outcome = call(site, [EN, MEMBER, "1", PIN, "4"], caller=MEMBER_PHONE)
    row = by_uuid(stored_calls(db_url))[outcome.uuid]
    assert row["path"][6:12] == [
        "identify:found", "member_question", "authenticate", "authenticate:ani", "authenticate:pin", "authenticate:ok",
    ]  # fmt: skip
    assert prompt("auth.ani") in outcome.prompts
    assert prompt("auth.member_number") not in outcome.prompts
    assert row["path"][-2:] == ["follow_up", "follow_up:answered"]
    assert row["patient_id"] == anna.id


def test_non_member_hears_department_information_then_reaches_registration(db_url, tmp_path):
    with hotline(db_url, tmp_path) as site:
        outcome = call(site, [EN, OTHERS, "2", "1", "", "9", "1"])
    row = by_uuid(stored_calls(db_url))[outcome.uuid]
    assert row["path"][7:] == [
        "member_question", "general_menu", "department_info", "info_cardiology", "department_info",
        "general_menu", "registration", "registration:answered",
    ]  # fmt: skip
    assert prompt("info.cardiology") in outcome.prompts
    assert ("multiset", "^^|cc_skill=registration|continue_on_fail=true") in outcome.apps
    assert row["patient_id"] is None and rows(db_url, PinAttempt) == []


def test_member_complaint_is_recorded_and_filed_under_the_patient(db_url, tmp_path):
    anna = add_member(db_url)
    with hotline(db_url, tmp_path) as site:
        outcome = call(site, [EN, MEMBER, MEMBER_NUMBER + "#", PIN, "5", "2"], message_seconds=12.0)
    row = by_uuid(stored_calls(db_url))[outcome.uuid]
    assert row["path"][-5:] == [
        "complaint.complaint_choice", "complaint.complaint_message", "complaint_message:saved",
        "complaint.complaint_thanks", "goodbye",
    ]  # fmt: skip
    assert prompt("complaint.thanks") in outcome.prompts
    [message] = rows(db_url, VoiceMessage)
    assert (message.call_uuid, message.patient_id, message.reason) == (outcome.uuid, anna.id, "complaint")
    recorded = [arg.split(" ")[0] for app, arg in outcome.apps if app == "record"]
    assert recorded == [message.path]
    assert Path(message.path).is_relative_to((tmp_path / "recordings").resolve())


def test_out_of_hours_caller_hears_the_closed_message_and_leaves_a_voice_message(db_url, tmp_path):
    with hotline(db_url, tmp_path, at=SUNDAY_NIGHT) as site:
        outcome = call(site, [EN, "2"], message_seconds=8.0)
    row = by_uuid(stored_calls(db_url))[outcome.uuid]
    assert row["path"][3:] == [
        "opening_hours", "opening_hours:default", "closed", "closed_options", "after_hours_message",
        "voice_message.message", "message:saved", "voice_message.thanks", "goodbye",
    ]  # fmt: skip
    assert prompt("closed") in outcome.prompts
    [message] = rows(db_url, VoiceMessage)
    assert (message.reason, message.patient_id) == ("after_hours", None)


def test_invalid_key_then_silence_then_a_choice_and_a_menu_left_unanswered(db_url, tmp_path):
    with hotline(db_url, tmp_path) as site:
        outcome = call(site, [EN, "7", "", OTHERS, "", "", ""])
    row = by_uuid(stored_calls(db_url))[outcome.uuid]
    assert row["path"][7:] == [
        "member_question", "member_question:invalid", "member_question:no_input", "general_menu",
        "general_menu:no_input", "general_menu:no_input", "general_menu:no_input", "general_menu:failed",
        "operator", "operator:answered",
    ]  # fmt: skip
    spoken = [p for p in outcome.prompts if not p.startswith("silence_stream:")]
    invalid_at = spoken.index(prompt("menu.invalid"))
    assert spoken[invalid_at + 1] == prompt("member_question")
    assert spoken[invalid_at + 2] == prompt("menu.no_input")
    assert ("multiset", "^^|cc_skill=operator|continue_on_fail=true") in outcome.apps


def test_reload_during_a_live_call_keeps_its_version_and_the_next_call_gets_the_new_one(db_url, tmp_path):
    flows = tmp_path / "ivr_flows"
    shutil.copytree(REPO / "ivr_flows", flows)
    prompts_file = flows / "prompt_text" / "en.yaml"
    old_goodbye = prompt("goodbye")
    complaint = [EN, OTHERS, "3", "2"]
    with hotline(db_url, tmp_path, flows_dir=str(flows)) as site:
        # the caller talks 150 simulated seconds (1.5 s here): the reload lands while the message records
        live = site.switch.place_call(CallerScript(STRANGER, "7000", complaint, message_seconds=150, context="public"))
        while not any(app == "record" for app, _ in live.session.apps):
            gevent.sleep(0.01)
        prompts_file.write_text(prompts_file.read_text().replace(old_goodbye[4:], "Goodbye from the new flows."))
        assert site.controller.reload_flows() == []
        first = live.wait(30)
        site.wait_idle()
        second = call(site, complaint, message_seconds=5)
        generation = site.controller.status()["flows"]["generation"]
    assert first.prompts[-1] == old_goodbye
    assert second.prompts[-1] == "say:Goodbye from the new flows."
    assert generation == 2
    calls = by_uuid(stored_calls(db_url))
    assert calls[first.uuid]["disposition"] == calls[second.uuid]["disposition"] == "completed"


def test_a_refused_reload_keeps_the_running_flows(sqlite_url, tmp_path):
    flows = tmp_path / "ivr_flows"
    shutil.copytree(REPO / "ivr_flows", flows)
    main = flows / "main.yaml"
    with hotline(sqlite_url, tmp_path, flows_dir=str(flows)) as site:
        main.write_text(main.read_text().replace("next: choose_language", "next: choose_langauge"))
        errors = site.controller.reload_flows()
        outcome = call(site, [EN, OTHERS, "1"])
        flows_status = site.controller.status()["flows"]
    assert errors == [
        f"{main}:14: node 'welcome': 'next' goes to 'choose_langauge', which is not a node of this flow",
        f"{main}:17: node 'choose_language': unreachable: no path leads here from the start node 'welcome'",
    ]
    assert flows_status["generation"] == 1
    assert flows_status["reloads"] == {"count": 1, "ok": False, "error_count": 2, "errors": errors}
    assert by_uuid(stored_calls(sqlite_url))[outcome.uuid]["path"][-2:] == ["registration", "registration:answered"]


def test_pin_digits_appear_nowhere(db_url, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    add_member(db_url)
    with hotline(db_url, tmp_path) as site:
        call(site, [EN, MEMBER, MEMBER_NUMBER + "#", WRONG_PINS[0], PIN, "5", "2"], message_seconds=5)
        call(site, [EN, MEMBER, "1", WRONG_PINS[1], PIN, "1"], caller=MEMBER_PHONE)
    secrets = [PIN, *WRONG_PINS[:2]]
    # the emulator plays FreeSWITCH, which sees the keys; our own log must not
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("ccctl.sim"))
    assert any(r.name.startswith("ccctl") for r in caplog.records)
    listed = list_calls(db_url)
    outputs = {"log": ours, "calls list": format_calls(listed), "calls list --json": str(listed)}
    outputs.update(dump_tables(db_url))
    for where, output in outputs.items():
        for secret in secrets:
            assert secret not in output, f"a PIN appears in {where}"


def dump_tables(url: str) -> dict[str, str]:
    """Every row of every table as text, by table name."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                f"table {table.name}": "\n".join(str(tuple(row)) for row in conn.execute(table.select()))
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()
