"""The callback_request node in the shipped main flow: an after-hours caller confirms (or keys in) the number
to call back, may leave a short message, and the callback is filed for when the hotline opens."""

from __future__ import annotations

import datetime as dt

from call_driver import CALL_UUID, ScriptedCaller, drive
from conftest import FLOWS_DIR, NIGHT, OPEN, make_registry
from memory_services import MemoryCallbacks

from ccctl.callflow import CallInfo
from ccctl.ivr.opening_hours import next_opening
from ccctl.ivr.registry import check_flows

EN, CALL_ME_BACK, CONFIRM, ANOTHER = "1", "1", "1", "2"


def run_call(registry, keys, caller_number="13800000001", **caller):
    app = registry.app_factory(CallInfo(CALL_UUID, caller_number, "7000", "main"))
    return drive(app, ScriptedCaller(keys=list(keys), **caller), caller_number=caller_number)


def test_an_after_hours_caller_keys_in_another_number_and_the_callback_waits_for_the_opening(services, tmp_path):
    services.callbacks = MemoryCallbacks()
    registry = make_registry(services, NIGHT, tmp_path)  # a Tuesday, 22:00
    call = run_call(registry, [EN, CALL_ME_BACK, ANOTHER, "12", "48600100200", CONFIRM])
    assert call.path[-3:] == ["after_hours_callback:invalid", "after_hours_callback:filed", "goodbye"]
    spoken = " ".join(call.spoken())
    assert "the number ending in 0 0 0 1." in spoken and "the number ending in 0 2 0 0." in spoken
    until_wednesday_8 = dt.timedelta(hours=10)
    assert services.callbacks.filed == [
        ("operator", CALL_UUID, "48600100200", None, "after_hours message=1", until_wednesday_8)
    ]
    assert [reason for *_, reason in services.messages] == ["after_hours"]  # the short message, in the inbox
    assert "48600100200" not in " ".join(call.path)


def test_a_caller_nobody_could_take_asks_for_a_callback_dialled_once_they_have_hung_up(services, tmp_path):
    services.callbacks = MemoryCallbacks()
    registry = make_registry(services, OPEN, tmp_path)
    operator = "0"
    call = run_call(registry, [EN, operator, CALL_ME_BACK, CONFIRM], bridge_answered=False)
    assert call.path[-4:] == ["busy_options", "busy_callback", "busy_callback:filed", "goodbye"]
    assert services.callbacks.filed == [
        ("operator", CALL_UUID, "13800000001", None, "all_busy message=1", dt.timedelta(minutes=2))
    ]


def test_without_a_worklist_the_caller_leaves_a_voice_message_instead(services, tmp_path):
    registry = make_registry(services, NIGHT, tmp_path)
    call = run_call(registry, [EN, CALL_ME_BACK, CONFIRM])
    assert "after_hours_callback:no_worklist" in call.path
    assert [reason for *_, reason in services.messages] == ["after_hours", "after_hours"]


def test_the_next_opening_skips_the_weekend_and_holidays(services, tmp_path):
    flow = make_registry(services, NIGHT, tmp_path).catalog.flows["main"]
    hours, calendar = flow.nodes["opening_hours"], flow.calendar
    saturday_noon = dt.datetime(2026, 3, 14, 12, 30)
    assert next_opening(hours, calendar, saturday_noon) == dt.datetime(2026, 3, 16, 8, 0)
    labour_day_eve = dt.datetime(2026, 4, 30, 19, 0)  # 1 May, a Friday, is a holiday; Saturday opens at 8
    assert next_opening(hours, calendar, labour_day_eve) == dt.datetime(2026, 5, 2, 8, 0)
    tuesday_morning = dt.datetime(2026, 3, 10, 10, 0)
    assert next_opening(hours, calendar, tuesday_morning) == tuesday_morning


def test_flow_check_names_an_hours_key_that_is_not_a_branch_node(tmp_path):
    text = (
        (FLOWS_DIR / "main.yaml")
        .read_text()
        .replace("    hours: opening_hours\n    reason: after_hours", "    hours: closed\n    reason: after_hours")
    )
    path = tmp_path / "main.yaml"
    path.write_text(text)
    report = check_flows(FLOWS_DIR, FLOWS_DIR / "prompts", [str(path)])
    line = text.splitlines().index("    hours: closed") + 1
    assert [str(e).replace(str(path), "main.yaml") for e in report.errors] == [
        f"main.yaml:{line}: node 'after_hours_callback': 'hours' must name a branch node of this flow "
        "(its opening hours), got 'closed'"
    ]
