"""The visits and book nodes with an in-memory booking system: what the caller hears, what gets changed."""

from __future__ import annotations

import datetime as dt
import textwrap

from call_driver import CALL_UUID, ScriptedCaller, drive, fs_split
from conftest import ANNA, FIXTURES, FLOWS_DIR, MEMBER_NUMBER, MEMBER_PHONE, PIN, make_registry
from memory_appointments import MemoryAppointments, slot
from memory_services import Member, MemoryServices

from ccctl.callflow import CallInfo
from ccctl.ivr.registry import FlowRegistry, check_flows
from ccctl.ivr.services import PatientView, Visit

NOW = dt.datetime(2026, 3, 10, 10, 0)  # the flows' clock: the site's local time
FIRST = dt.datetime(2026, 3, 12, 1, 30, tzinfo=dt.UTC)
SECOND = dt.datetime(2026, 3, 13, 6, 0, tzinfo=dt.UTC)
THIRD = dt.datetime(2026, 3, 14, 2, 15, tzinfo=dt.UTC)
CALLER = "13800000001"

VISITS_FLOW = """
    nodes:
      login:
        type: authenticate
        member_prompt: "say:Your member number."
        pin_prompt: "say:Your PIN."
        on_success: visits
        on_failure: bye
      visits:
        type: visits
        prompt: "say:Visit {{ visit.key }}: {{ visit.department }} with {{ visit.doctor }} on"
        options_prompt: "say:1 confirms, 2 cancels, 3 the next visit."
        none_prompt: "say:You have no visits."
        cancelled_prompt: "say:Cancelled."
        on_none: bye
        on_done: bye
        on_failure: bye
      bye:
        type: hangup
"""

MOVE_FLOW = VISITS_FLOW.replace(
    "        on_none: bye\n",
    """        moved_prompt: "say:Moved to {{ visit.doctor }} on"
        move_slot_prompt: "say:For {{ slot.doctor }} press {{ slot.key }}:"
        move_choose_prompt: "say:Choose."
        move_none_prompt: "say:Nothing is free."
        taken_prompt: "say:That time was just taken."
        limit: 2
        on_none: bye
""",
)

BOOK_FLOW = """
    nodes:
      who:
        type: lookup
        by: caller_number
        found: book
        not_found: book
      book:
        type: book
        department: cardiology
        intro_prompt: "say:Free times in {{ department }}."
        slot_prompt: "say:For {{ slot.doctor }} press {{ slot.key }}:"
        choose_prompt: "say:Choose."
        booked_prompt: "say:Booked with {{ visit.doctor }} on"
        taken_prompt: "say:That time was just taken."
        limit: 2
        on_booked: bye
        on_none: bye
        on_failure: failed
      failed:
        type: hangup
        prompt: "say:Please call the registration desk."
      bye:
        type: hangup
"""


LOOKUP_THEN = """
    nodes:
      who:
        type: lookup
        by: caller_number
        found: visits
"""


def said(moment: dt.datetime, language: str = "en") -> str:
    return f"{language} CURRENT_DATE_TIME PRONOUNCED {int(moment.timestamp())}"


def run_flow(tmp_path, body: str, services: MemoryServices, keys: list[str]):
    flows = tmp_path / "flows"
    flows.mkdir(exist_ok=True)
    (flows / "main.yaml").write_text(textwrap.dedent(body))
    registry = FlowRegistry(flows, services=services, clock=lambda: NOW, recordings_dir=tmp_path / "rec")
    app = registry.app_factory(CallInfo(CALL_UUID, CALLER, "7000", "main"))
    return drive(app, ScriptedCaller(keys=keys))


def member_services(appointments: MemoryAppointments) -> MemoryServices:
    return MemoryServices(members=[Member(ANNA, MEMBER_PHONE, PIN)], appointments=appointments)


def spoken_and_said(call) -> list[str]:
    """TTS prompts (digit prompts included) and the `say` application's arguments, in the order heard."""
    heard = []
    for command in call.commands:
        if command.app == "say":
            heard.append(command.arg)
        elif command.app == "playback":
            heard.append(command.arg.removeprefix("say:"))
        elif command.app == "play_and_get_digits":
            heard.append(fs_split(command.arg)[5].removeprefix("say:"))
    return heard


def test_a_member_hears_two_visits_and_cancels_the_second(tmp_path):
    booked = MemoryAppointments(
        visits={ANNA.id: [Visit(7, "booked", slot(1, FIRST)), Visit(8, "confirmed", slot(2, SECOND, "Dr Li"))]}
    )
    keys = [MEMBER_NUMBER, PIN, "3", "2"]
    call = run_flow(tmp_path, VISITS_FLOW, member_services(booked), keys)
    assert spoken_and_said(call)[-7:] == [
        "Visit 1: Cardiology with Dr Wang on",
        said(FIRST),
        "1 confirms, 2 cancels, 3 the next visit.",
        "Visit 2: Cardiology with Dr Li on",
        said(SECOND),
        "1 confirms, 2 cancels, 3 the next visit.",
        "Cancelled.",
    ]
    assert booked.changes == [("cancelled", ANNA.id, 8, CALL_UUID)]
    assert call.path[-4:] == ["visits", "visits:next", "visits:cancelled", "bye"]
    assert booked.asked_at == [NOW.astimezone().astimezone(dt.UTC)]


def test_a_member_without_visits_hears_so_and_takes_the_none_branch(tmp_path):
    call = run_flow(tmp_path, VISITS_FLOW, member_services(MemoryAppointments()), [MEMBER_NUMBER, PIN])
    assert spoken_and_said(call)[-1] == "You have no visits."
    assert call.path[-2:] == ["visits:none", "bye"]


def test_visits_are_not_read_to_a_caller_who_did_not_log_in(tmp_path):
    booked = MemoryAppointments(visits={ANNA.id: [Visit(7, "booked", slot(1, FIRST))]})
    services = member_services(booked)
    services.others[CALLER] = ANNA  # the caller's number is on file, but no PIN was given
    flow = VISITS_FLOW.split("      visits:")[1]
    call = run_flow(tmp_path, LOOKUP_THEN + "      visits:" + flow, services, [])
    assert call.path == ["who", "who:found", "visits", "visits:not_identified", "bye"]
    assert booked.asked_at == [] and booked.changes == []


def test_a_member_moves_a_visit_to_the_next_free_slot_chosen_by_key(tmp_path):
    booked = MemoryAppointments(
        slots=[slot(1, FIRST), slot(2, SECOND, "Dr Li"), slot(3, THIRD), slot(4, THIRD, code="pediatrics")],
        visits={ANNA.id: [Visit(7, "confirmed", slot(1, FIRST))]},
    )
    call = run_flow(tmp_path, MOVE_FLOW, member_services(booked), [MEMBER_NUMBER, PIN, "4", "2"])
    assert spoken_and_said(call)[-10:] == [
        "Visit 1: Cardiology with Dr Wang on",
        said(FIRST),
        "1 confirms, 2 cancels, 3 the next visit.",
        "For Dr Li press 1:",
        said(SECOND),
        "For Dr Wang press 2:",
        said(THIRD),
        "Choose.",
        "Moved to Dr Wang on",
        said(THIRD),
    ]
    assert booked.changes == [("moved", ANNA.id, 7, CALL_UUID)]
    assert [(v.status, v.slot.id) for v in booked.visits[ANNA.id]] == [("moved", 1), ("booked", 3)]
    assert call.path[-4:] == ["visits", "visits:move", "visits:moved", "bye"]


def test_a_slot_taken_while_moving_offers_the_fresh_list(tmp_path):
    booked = MemoryAppointments(
        slots=[slot(1, FIRST), slot(2, SECOND, "Dr Li"), slot(3, THIRD)],
        visits={ANNA.id: [Visit(7, "booked", slot(1, FIRST))]},
        taken_meanwhile={2},
    )
    call = run_flow(tmp_path, MOVE_FLOW, member_services(booked), [MEMBER_NUMBER, PIN, "4", "1", "1"])
    heard = spoken_and_said(call)
    taken = heard.index("That time was just taken.")
    assert heard[taken + 1 : taken + 3] == ["For Dr Wang press 1:", said(THIRD)]
    assert [(v.status, v.slot.id) for v in booked.visits[ANNA.id]] == [("moved", 1), ("booked", 3)]
    assert call.path[-4:] == ["visits:move", "visits:taken", "visits:moved", "bye"]


def test_with_nothing_free_to_move_to_the_member_hears_the_visit_options_again(tmp_path):
    booked = MemoryAppointments(slots=[slot(1, FIRST)], visits={ANNA.id: [Visit(7, "booked", slot(1, FIRST))]})
    call = run_flow(tmp_path, MOVE_FLOW, member_services(booked), [MEMBER_NUMBER, PIN, "4", "2"])
    assert spoken_and_said(call)[-5:] == [
        "Nothing is free.",
        "Visit 1: Cardiology with Dr Wang on",
        said(FIRST),
        "1 confirms, 2 cancels, 3 the next visit.",
        "Cancelled.",
    ]
    assert booked.changes == [("cancelled", ANNA.id, 7, CALL_UUID)]


def test_the_move_key_is_not_taken_when_the_flow_does_not_offer_moving(tmp_path):
    booked = MemoryAppointments(slots=[slot(2, SECOND)], visits={ANNA.id: [Visit(7, "booked", slot(1, FIRST))]})
    call = run_flow(tmp_path, VISITS_FLOW, member_services(booked), [MEMBER_NUMBER, PIN, "4", "4", "4"])
    assert booked.changes == [] and "visits:move" not in call.path
    assert call.path[-2:] == ["visits:failed", "bye"]


def test_a_caller_on_file_books_the_slot_chosen_by_key(tmp_path):
    slots = MemoryAppointments(slots=[slot(1, FIRST), slot(2, SECOND, "Dr Li"), slot(3, THIRD)])
    services = MemoryServices(others={CALLER: PatientView(9, "P9", "Li Lei", member=False)}, appointments=slots)
    call = run_flow(tmp_path, BOOK_FLOW, services, ["2"])
    assert spoken_and_said(call) == [
        "Free times in Cardiology.",
        "For Dr Wang press 1:",
        said(FIRST),
        "For Dr Li press 2:",
        said(SECOND),
        "Choose.",
        "Booked with Dr Li on",
        said(SECOND),
    ]
    assert slots.changes == [("booked", 9, 2, CALL_UUID)]
    assert call.path[-2:] == ["book:booked", "bye"]


def test_a_slot_taken_meanwhile_offers_the_fresh_list(tmp_path):
    slots = MemoryAppointments(slots=[slot(1, FIRST), slot(2, SECOND, "Dr Li"), slot(3, THIRD)], taken_meanwhile={1})
    services = MemoryServices(others={CALLER: PatientView(9, "P9", "Li Lei", member=False)}, appointments=slots)
    call = run_flow(tmp_path, BOOK_FLOW, services, ["1", "1"])
    heard = spoken_and_said(call)
    taken = heard.index("That time was just taken.")
    assert heard[taken + 1 : taken + 4] == ["Free times in Cardiology.", "For Dr Li press 1:", said(SECOND)]
    assert slots.changes == [("booked", 9, 2, CALL_UUID)]
    assert call.path[-3:] == ["book:taken", "book:booked", "bye"]


def test_an_unknown_caller_cannot_book(tmp_path):
    slots = MemoryAppointments(slots=[slot(1, FIRST)])
    call = run_flow(tmp_path, BOOK_FLOW, MemoryServices(appointments=slots), [])
    assert spoken_and_said(call) == ["Please call the registration desk."]
    assert slots.changes == [] and "book:not_identified" in call.path


def test_a_chinese_caller_books_cardiology_on_the_shipped_hotline(tmp_path):
    slots = MemoryAppointments(slots=[slot(1, FIRST, code="CARD"), slot(2, SECOND, "Dr Li", code="CARD")])
    services = member_services(slots)
    registry = make_registry(services, NOW, tmp_path)
    app = registry.app_factory(CallInfo(CALL_UUID, MEMBER_PHONE, "7000", "main"))
    # 2 Chinese, 2 not as a member, 4 book a visit, 1 cardiology, 1 the first time offered
    call = drive(app, ScriptedCaller(keys=["2", "2", "4", "1", "1"]), caller_number=MEMBER_PHONE)
    heard = spoken_and_said(call)
    assert heard[heard.index("心内科最近的可预约时间如下。") :] == [
        "心内科最近的可预约时间如下。",
        "Dr Wang，请按1：",
        said(FIRST, "zh"),
        "Dr Li，请按2：",
        said(SECOND, "zh"),
        "请选择预约时间。",
        "您已成功预约心内科，Dr Wang，时间是",
        said(FIRST, "zh"),
        "感谢您致电市医院，再见。",
    ]
    assert slots.changes == [("booked", ANNA.id, 1, CALL_UUID)]
    # the hour is said in the site's zone, set on the channel before the first date
    zone = next(i for i, c in enumerate(call.commands) if c.arg == "timezone=Asia/Shanghai")
    assert zone < next(i for i, c in enumerate(call.commands) if c.app == "say")


def test_flow_check_names_the_line_of_a_bad_appointment_node(tmp_path):
    flow = tmp_path / "bad_booking.yaml"
    flow.write_text(
        "nodes:\n"
        "  book:\n    type: book\n    department: 'card iology'\n    slot_prompt: 'say:Press {{ slot.key }}'\n"
        "    choose_prompt: 'say:Choose.'\n    limit: 12\n"
        "    on_booked: visits\n"
        "  visits:\n    type: visits\n    prompt: 'say:Visit'\n    tries: 0\n"
        "    move_key: '1'\n    move_slot_prompt: 'say:Press {{ slot.key }}'\n"
    )
    errors = [
        str(e).replace(str(flow), "bad_booking.yaml")
        for e in check_flows(FLOWS_DIR, FIXTURES / "prompts", [str(flow)]).errors
    ]
    assert errors == [
        "bad_booking.yaml:4: node 'book': 'department' must be a department code, got 'card iology'",
        "bad_booking.yaml:7: node 'book': 'limit' must be 1 to 9 (one key each)",
        "bad_booking.yaml:10: node 'visits': missing required key 'options_prompt' for a visits node",
        "bad_booking.yaml:12: node 'visits': 'tries' must be at least 1",
        "bad_booking.yaml:13: node 'visits': 'move_key' must be one of the keys 0456789, got '1'",
        "bad_booking.yaml:14: node 'visits': 'move_slot_prompt' needs 'move_choose_prompt' too",
    ]
