"""`ccctl callbacks`: the worklist of callers who asked to be called back, and closing one by hand."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from settable_clock import SettableClock
from sqlalchemy import select

from ccctl.acd.agents import add_agent, add_queue, parse_skills, set_status
from ccctl.acd.callbacks import CallbackError, file_callback, mask_number
from ccctl.acd.engine import AcdEngine
from ccctl.config import AcdSettings
from ccctl.records.database import in_transaction
from ccctl.records.models.acd import QueueEvent
from ccctl.records.models.audit import AuditEntry

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    return SettableClock(T0)


@pytest.fixture
def acd(sqlite_url, clock):
    engine = AcdEngine(sqlite_url, AcdSettings(reservation_seconds=10), clock=clock)
    add_queue(sqlite_url, "cardio", "longest-idle-agent", {"cardio": 1}, {"callback_key": "1"})
    add_queue(sqlite_url, "derma", "longest-idle-agent", {"derma": 1}, {"callback_key": "1"})
    yield engine
    engine.stop()


def ask_callback(acd, clock, queue: str, uuid: str, number: str) -> int:
    ticket = acd.enqueue(queue, uuid, 0, None)
    clock.now += timedelta(minutes=1)
    acd.calls.request_callback(ticket.entry_id, number)
    return ticket.entry_id


def audit_rows(url: str) -> list[tuple[str, str, str]]:
    query = select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail).order_by(AuditEntry.id)
    return in_transaction(url, RuntimeError, lambda s: [tuple(r) for r in s.execute(query)])


def test_numbers_are_masked_to_their_last_digits():
    assert mask_number("+48601000001") == "+********001"
    assert mask_number("1234") == "****"
    assert mask_number("") == ""


def test_the_worklist_lists_pending_callbacks_oldest_first_with_masked_numbers(ccctl, sqlite_url, acd, clock):
    assert ccctl("callbacks", "list").output == "no callbacks waiting\n"
    first = ask_callback(acd, clock, "cardio", "call-1", "+48601000001")
    second = ask_callback(acd, clock, "derma", "call-2", "+48601000002")
    lines = ccctl("callbacks", "list").output.splitlines()
    assert lines[0].split() == ["ID", "ASKED", "DUE", "QUEUE", "ATTEMPTS", "STATE", "NUMBER"]
    assert [line.split()[0] for line in lines[1:]] == [str(first), str(second)]
    assert lines[1].split()[-4:] == ["cardio", "0", "pending", "+********001"]
    assert "+48601000001" not in ccctl("callbacks", "list", "--json").output
    (only,) = json.loads(ccctl("callbacks", "list", "--queue", "derma", "--json").output)
    assert (only["id"], only["queue"], only["state"], only["number"]) == (second, "derma", "pending", "+********002")
    assert only["requested_at"].endswith("+00:00")
    assert audit_rows(sqlite_url) == []  # masked numbers: nothing of the caller was read

    shown = json.loads(ccctl("callbacks", "show", str(first), "--json", "--as", "maria").output)
    assert (shown["number"], shown["state"]) == ("+48601000001", "pending")
    assert audit_rows(sqlite_url) == [("maria", "callback show", f"callback {first}")]


def test_a_callback_done_by_hand_leaves_the_worklist_and_the_acd_never_dials_it(ccctl, sqlite_url, acd, clock):
    first = ask_callback(acd, clock, "cardio", "call-1", "+48601000001")
    second = ask_callback(acd, clock, "cardio", "call-2", "+48601000002")
    refused = ccctl("callbacks", "done", str(first))
    assert refused.exit_code == 2 and "--note" in refused.output
    done = ccctl("callbacks", "done", str(first), "--note", "booked for Monday", "--as", "maria")
    assert (done.exit_code, done.output) == (0, f"callback {first} done\n")
    assert ccctl("callbacks", "cancel", str(second), "--as", "maria").output == f"callback {second} cancelled\n"
    again = ccctl("callbacks", "done", str(first), "--note", "twice")
    assert (again.exit_code, again.output) == (1, f"ccctl: callback {first} is done already\n")
    unknown = ccctl("callbacks", "cancel", "999")
    assert unknown.output == "ccctl: no callback 999 (ccctl callbacks list --all)\n"

    assert ccctl("callbacks", "list").output == "no callbacks waiting\n"
    closed = json.loads(ccctl("callbacks", "list", "--all", "--json").output)
    assert [(r["id"], r["state"], r["number"]) for r in closed] == [(first, "done", ""), (second, "cancelled", "")]
    assert audit_rows(sqlite_url) == [
        ("maria", "callback done", f"callback {first}"),
        ("maria", "callback cancelled", f"callback {second}"),
    ]
    kinds = in_transaction(
        sqlite_url, RuntimeError, lambda s: s.execute(select(QueueEvent.kind, QueueEvent.detail)).all()
    )
    assert ("callback_done", "booked for Monday") in [tuple(k) for k in kinds]

    add_agent(sqlite_url, "ann", "1001", parse_skills("cardio"))
    set_status(sqlite_url, "ann", "Available")
    assert acd.route_once() == []  # neither caller is dialled any more


def test_callbacks_call_pins_one_to_an_agent_who_must_be_free(ccctl, sqlite_url, acd, clock):
    first = ask_callback(acd, clock, "cardio", "call-1", "+48601000001")
    add_agent(sqlite_url, "ann", "1001", parse_skills("cardio"))
    set_status(sqlite_url, "ann", "Available")
    called = ccctl("callbacks", "call", str(first), "--agent", "ann", "--as", "maria")
    assert (called.exit_code, called.output) == (
        0,
        f"callback {first}: calling for agent ann (dialled by ccctl serve's ACD)\n",
    )
    line = ccctl("callbacks", "list").output.splitlines()[1]
    assert line.split()[-4:] == ["0", "calling", "ann", "+********001"]
    again = ccctl("callbacks", "call", str(first), "--agent", "ann")
    assert (again.exit_code, again.output) == (1, f"ccctl: callback {first} is being called by agent ann already\n")
    nobody = ccctl("callbacks", "call", str(first), "--agent", "zed")
    assert nobody.exit_code == 1
    refused = ccctl("callbacks", "done", str(first), "--note", "by hand")
    assert refused.output == f"ccctl: callback {first} is being dialled by the ACD now; let that call end first\n"
    assert ("maria", "callback call", f"callback {first} for ann") in audit_rows(sqlite_url)


def test_a_callback_past_its_due_time_is_marked_overdue(ccctl, sqlite_url, acd, clock):
    now = datetime.now(UTC)

    def ask(session, due) -> int:
        return file_callback(session, "cardio", "+48601000001", None, "after_hours", now, due=due).id

    late = in_transaction(sqlite_url, CallbackError, lambda s: ask(s, now - timedelta(minutes=5)))
    on_time = in_transaction(sqlite_url, CallbackError, lambda s: ask(s, now + timedelta(hours=4)))
    rows = {r["id"]: r for r in json.loads(ccctl("callbacks", "list", "--json").output)}
    assert (rows[late]["overdue"], rows[on_time]["overdue"]) == (True, False)
    lines = {line.split()[0]: line for line in ccctl("callbacks", "list").output.splitlines()[1:]}
    assert "OVERDUE" in lines[str(late)] and "OVERDUE" not in lines[str(on_time)]
    shown = ccctl("callbacks", "show", str(late), "--as", "maria").output.splitlines()
    assert shown[1].startswith("due:") and shown[1].endswith(" OVERDUE")
    assert shown[2] == "number:  +48601000001"
