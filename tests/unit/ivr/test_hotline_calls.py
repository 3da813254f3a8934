"""Calls through the shipped example hotline (ivr_flows/main.yaml), driven with real ESL events.

Keys per digit prompt, in order: language, member?, then what each branch asks.
"""

from __future__ import annotations

import logging

from call_driver import CALL_UUID, ScriptedCaller, drive, fs_split
from conftest import ANNA, LABOUR_DAY, MEMBER_NUMBER, MEMBER_PHONE, NIGHT, PIN, make_registry

from ccctl.callflow import CallInfo, Execute

EN = "1"
MEMBER, OTHERS = "1", "2"


def run_call(registry, keys, caller_number="13800000001", **caller):
    app = registry.app_factory(CallInfo(CALL_UUID, caller_number, "7000", "main"))
    return app, drive(app, ScriptedCaller(keys=list(keys), **caller), caller_number=caller_number)


def say_text(registry, key, language="en"):
    return "say:" + registry.catalog.prompt_sets[language].texts[key]


def test_member_with_correct_pin_reaches_the_cardiology_expert(registry, services):
    app, call = run_call(registry, [EN, MEMBER, MEMBER_NUMBER, PIN, "2", "1"])
    assert call.finish.disposition == "completed"
    assert call.path == [
        "welcome", "choose_language", "english", "opening_hours", "opening_hours:rule2", "identify",
        "identify:not_found", "member_question", "authenticate", "authenticate:pin", "authenticate:ok",
        "member_menu", "expert_menu", "cardiology_expert", "cardiology_expert:answered",
    ]  # fmt: skip
    assert call.commands[0].app == "answer"
    # continue_on_fail: a failed hand-off leads to on_failure; until_complete: a hang-up mid-talk still ends a talk
    assert call.commands[-2:] == [
        Execute("multiset", "^^|cc_skill=cardiology|continue_on_fail=true"),
        Execute("bridge", "user/1001@cc.local", until_complete=True),
    ]
    assert app.patient_id == ANNA.id
    assert services.attempts == [(MEMBER_NUMBER, CALL_UUID, "ok")]
    assert call.spoken()[-3].startswith("say:Hello Anna Nowak. For appointment registration, press 1.")


def test_wrong_pin_then_correct_pin(registry, services):
    _, call = run_call(registry, [EN, MEMBER, MEMBER_NUMBER, "111111", PIN, "3"])
    assert call.path[8:13] == [
        "authenticate",
        "authenticate:pin",
        "authenticate:wrong",
        "authenticate:pin",
        "authenticate:ok",
    ]
    assert say_text(registry, "auth.wrong_pin") in call.spoken()
    assert [outcome for _, _, outcome in services.attempts] == ["wrong", "ok"]
    assert call.path[-2:] == ["test_results", "test_results:answered"]


def test_locked_member_goes_to_the_general_menu(registry, services):
    services.failures[MEMBER_NUMBER] = services.lock_after  # locked by earlier calls
    app, call = run_call(registry, [EN, MEMBER, MEMBER_NUMBER, PIN, "1"])
    assert call.path[8:12] == ["authenticate", "authenticate:pin", "authenticate:locked", "general_menu"]
    assert say_text(registry, "auth.locked") in call.spoken()
    assert call.path[-2:] == ["registration", "registration:answered"]
    assert app.patient_id is None


def test_repeated_wrong_pins_lock_the_member_across_calls(registry, services):
    services.lock_after = 4
    _, first = run_call(registry, [EN, MEMBER, MEMBER_NUMBER, "1", "2", "3", "1"])  # too short: never checked
    _, second = run_call(registry, [EN, MEMBER, MEMBER_NUMBER, "111111", "222222", "333333", "1"])
    _, third = run_call(registry, [EN, MEMBER, MEMBER_NUMBER, "444444", "1"])
    assert first.path[9:13] == ["authenticate:pin", "authenticate:wrong", "authenticate:pin", "authenticate:wrong"]
    assert "auth_failed" in first.path and "auth_failed" in second.path
    assert [outcome for _, _, outcome in services.attempts] == ["wrong", "wrong", "wrong", "locked"]
    assert third.path[9:12] == ["authenticate:pin", "authenticate:locked", "general_menu"]
    assert third.path[-2:] == ["registration", "registration:answered"]


def test_caller_number_of_a_member_skips_straight_to_the_pin(registry, services):
    app, call = run_call(registry, [EN, MEMBER, "1", PIN, "4"], caller_number=MEMBER_PHONE)
    assert call.path[6:12] == [
        "identify:found", "member_question", "authenticate", "authenticate:ani", "authenticate:pin", "authenticate:ok",
    ]  # fmt: skip
    assert say_text(registry, "auth.member_number") not in call.spoken()
    assert say_text(registry, "auth.ani") in call.spoken()
    assert call.path[-2:] == ["follow_up", "follow_up:answered"]
    assert app.patient_id == ANNA.id


def test_non_member_hears_department_information_then_registration(registry):
    _, call = run_call(registry, [EN, OTHERS, "2", "1", "", "9", "1"])
    assert call.path[7:] == [
        "member_question", "general_menu", "department_info", "info_cardiology", "department_info",
        "general_menu", "registration", "registration:answered",
    ]  # fmt: skip
    assert say_text(registry, "info.cardiology") in call.spoken()


def test_complaint_records_a_voice_message_for_a_ticket(registry, services, tmp_path):
    _, call = run_call(registry, [EN, OTHERS, "3", "2"])
    assert call.path[-6:] == [
        "complaint", "complaint.complaint_choice", "complaint.complaint_message", "complaint_message:saved",
        "complaint.complaint_thanks", "goodbye",
    ]  # fmt: skip
    path = tmp_path / "recordings" / "voice" / "2026-03-10" / f"{CALL_UUID}-complaint_message.wav"
    record = next(c for c in call.commands if c.app == "record")
    assert fs_split(record.arg) == [str(path), "180", "200", "5"]
    assert services.messages == [(CALL_UUID, None, str(path), "complaint")]
    assert call.spoken()[-1] == say_text(registry, "goodbye")
    assert call.finish.disposition == "completed"


def test_an_empty_recording_is_not_filed(registry, services):
    _, call = run_call(registry, [EN, OTHERS, "3", "2"], record_ms=300)
    assert "complaint_message:empty" in call.path
    assert services.messages == []


def test_out_of_hours_caller_can_leave_a_message(services, tmp_path):
    registry = make_registry(services, NIGHT, tmp_path)
    _, call = run_call(registry, [EN, "2"])
    assert call.path[3:7] == ["opening_hours", "opening_hours:default", "closed", "closed_options"]
    assert [reason for *_, reason in services.messages] == ["after_hours"]
    assert call.path[-1] == "goodbye"


def test_holiday_is_closed_even_in_opening_hours(services, tmp_path):
    registry = make_registry(services, LABOUR_DAY, tmp_path)
    _, call = run_call(registry, [EN, "3"])
    assert call.path[3:6] == ["opening_hours", "opening_hours:rule1", "closed"]
    assert services.messages == []


def test_invalid_and_missing_menu_input_then_the_operator(registry):
    _, call = run_call(registry, [EN, OTHERS, "7", "", "8"])
    assert call.path[9:] == [
        "general_menu:invalid", "general_menu:no_input", "general_menu:invalid", "general_menu:failed", "operator",
        "operator:answered",
    ]  # fmt: skip
    spoken = call.spoken()
    assert spoken.count(say_text(registry, "menu.invalid")) == 1  # no retry prompt after the last try
    assert spoken.count(say_text(registry, "menu.no_input")) == 1


def test_retries_exhausted_with_nobody_free_ends_with_goodbye(registry, services):
    services.agents.clear()
    _, call = run_call(registry, [EN, OTHERS, "", "", "", "", "", ""])
    assert call.path[-10:] == [
        "general_menu:failed", "operator", "operator:failed", "all_busy", "busy_options", "busy_options:no_input",
        "busy_options:no_input", "busy_options:no_input", "busy_options:failed", "goodbye",
    ]  # fmt: skip
    assert call.spoken()[-1] == say_text(registry, "goodbye")
    assert call.finish.disposition == "completed"


def test_chinese_caller_hears_chinese_prompts(registry):
    _, call = run_call(registry, ["2", OTHERS, "1"])
    assert say_text(registry, "general.menu", "zh") in call.spoken()


def test_pin_digits_appear_nowhere(registry, services, caplog):
    caplog.set_level(logging.DEBUG)
    app, call = run_call(registry, [EN, MEMBER, MEMBER_NUMBER, "555555", PIN, "1"])
    pin_reads = [c for c in call.commands if c.app == "play_and_get_digits" and fs_split(c.arg)[7] == "cc_pin"]
    assert len(pin_reads) == 2 and all(c.redacted for c in pin_reads)
    clears = [(c.arg, c.redacted) for c in call.commands if c.app == "unset"]
    member_clears = [("cc_authenticate_member", False), ("cc_authenticate_member_invalid", False)]
    assert clears == member_clears + [("cc_pin", True), ("cc_pin_invalid", True)] * 2
    visible = " ".join(c.describe() for c in call.commands) + repr(call.path) + repr(app.context.variables)
    state = {k: v for k, v in vars(app.context).items() if k != "services"}  # the test double holds the PIN
    visible += caplog.text + repr(services.attempts) + repr(state)
    for digits in ("555555", PIN):
        assert digits not in visible
    assert MEMBER_NUMBER not in repr(call.path)
