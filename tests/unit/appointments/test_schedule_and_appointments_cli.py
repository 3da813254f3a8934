"""`ccctl schedule import|list` and `ccctl appointments ...` end to end through the click CLI (SQLite)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from schedule_fixtures import add_patient, session_on
from sqlalchemy import select

from ccctl.cli import main
from ccctl.records.models.appointments import Appointment, Department, Slot
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.channels import SmsMessage

HEADER = "department_code,department_name,department_name_zh,doctor_code,doctor_name,date,start,end,slot_minutes,expert"
# a few days ahead: inside the lookahead, and Warsaw's offset that day is whatever zoneinfo says
DAY = date.today() + timedelta(days=3)
HOLIDAY = DAY + timedelta(days=1)


@pytest.fixture
def ccctl(sqlite_url, tmp_path, monkeypatch):
    """Run `ccctl -c <settings: the test database, Warsaw, an SMS gateway that refuses> ARGS...`."""
    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "flows" / "calendars").mkdir(parents=True)
    (tmp_path / "flows" / "calendars" / "holidays.yaml").write_text(
        f"holidays:\n  - date: {HOLIDAY.isoformat()}\n    name: Founders Day\n"
    )
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(
        f"database:\n  url: {sqlite_url}\nflows_dir: {tmp_path / 'flows'}\n"
        "appointments:\n  timezone: Europe/Warsaw\n  lookahead_days: 30\n"
        "sms:\n  sendsms_url: http://127.0.0.1:9/cgi-bin/sendsms\n  request_timeout: 2\n"
    )

    def run(*args: str):
        return CliRunner().invoke(main, ["-c", str(settings), *args])

    return run


def write_schedule(tmp_path, *rows: str):
    path = tmp_path / "schedule.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def good_schedule(tmp_path):
    return write_schedule(
        tmp_path,
        f"CARD,Cardiology,心内科,D1,Dr Novak,{DAY},09:00,10:00,20,no",
        f"CARD,Cardiology,心内科,D2,Dr Wong,{DAY},14:00,14:30,15,yes",
        f"CARD,Cardiology,心内科,D1,Dr Novak,{HOLIDAY},09:00,09:30,15,no",
    )


def test_import_makes_departments_doctors_and_slots_in_site_time_and_again_adds_nothing(ccctl, sqlite_url, tmp_path):
    path = good_schedule(tmp_path)
    first = ccctl("schedule", "import", str(path))
    assert first.exit_code == 0, first.stderr
    assert first.stdout == (
        f"imported 7 slots (2 blocked, 0 already there), 1 new departments, 2 new doctors from {path}\n"
    )
    assert first.stderr == f"warning: {path}:4: {HOLIDAY} is a holiday (Founders Day): 2 slots imported blocked\n"
    again = ccctl("schedule", "import", str(path))
    assert again.stdout.startswith("imported 0 slots (0 blocked, 7 already there), 0 new departments, 0 new doctors")
    with session_on(sqlite_url) as session:
        slots = session.scalars(select(Slot).order_by(Slot.starts_at)).all()
        assert session.scalars(select(Department.names)).one() == {"zh": "心内科"}
    nine_local_in_utc = datetime.combine(DAY, time(9), tzinfo=ZoneInfo("Europe/Warsaw")).astimezone(UTC)
    assert slots[0].starts_at == nine_local_in_utc
    assert nine_local_in_utc.hour in (7, 8)  # Warsaw is UTC+1 or +2: stored in UTC, not as typed
    assert [s.blocked for s in slots] == [False] * 5 + [True] * 2

    listing = ccctl("schedule", "list")
    assert listing.exit_code == 0, listing.stderr
    assert "CARD        Cardiology        2           5" in listing.stdout
    assert "D2      Dr Wong   CARD        yes" in listing.stdout
    assert f"{DAY}  CARD        D1               3  09:00" in listing.stdout
    assert f"{DAY}  CARD        D2               2  14:00" in listing.stdout
    assert str(HOLIDAY) not in listing.stdout
    slots_of_d2 = ccctl("schedule", "slots", "--department", "CARD", "--doctor", "D2").stdout.splitlines()
    assert [line.split()[2:4] for line in slots_of_d2[1:]] == [["14:00", "15"], ["14:15", "15"]]


def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_stored(ccctl, sqlite_url, tmp_path):
    path = write_schedule(
        tmp_path,
        f"CARD,Cardiology,,D1,Dr Novak,{DAY},09:00,10:00,20,no",
        f"CARD,Cardiology,,D1,Dr Novak,{DAY}x,09:00,10:00,20,no",
        f"CARD,Cardiology,,D1,Dr Novak,{DAY},11:00,10:00,20,no",
        f"PED,Paediatrics,,D1,Dr Novak,{DAY},12:00,13:00,20,no",
        f"PED,Paediatrics,,D3,Dr Lis,{DAY},12:00,13:00,twenty,no",
    )
    result = ccctl("schedule", "import", str(path))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"{path}:3: column 'date': expected a date YYYY-MM-DD, got '{DAY}x'",
        f"{path}:4: column 'end': 10:00 is not after start 11:00",
        f"{path}:5: column 'department_code': doctor D1 is in CARD on line 2",
        f"{path}:6: column 'slot_minutes': expected whole minutes 5-480, got 'twenty'",
        f"ccctl: {path}: 4 problems, nothing imported",
    ]
    with session_on(sqlite_url) as session:
        assert session.scalars(select(Slot)).all() == []
        assert session.scalars(select(Department)).all() == []


def test_staff_book_move_confirm_and_cancel_are_audited_and_the_patient_texted(ccctl, sqlite_url, tmp_path):
    assert ccctl("schedule", "import", str(good_schedule(tmp_path))).exit_code == 0
    with session_on(sqlite_url) as session:
        patient = add_patient(session, "P-7", language="pl")
        first, second = session.scalars(select(Slot.id).order_by(Slot.starts_at).limit(2)).all()

    booked = ccctl("appointments", "book", "--patient", "P-7", "--slot", str(first), "--as", "alice")
    assert booked.exit_code == 0, booked.stderr
    assert booked.stdout.splitlines() == [
        f"appointment 1 booked: slot {first}, {DAY} 09:00, CARD",
        "patient told by sms: failed",  # the test's gateway refuses: the booking stands
    ]
    taken = ccctl("appointments", "book", "--patient", "P-7", "--slot", str(first))
    assert (taken.exit_code, taken.stderr) == (1, f"ccctl: slot {first} was just booked by someone else\n")
    moved = ccctl("appointments", "move", "1", "--slot", str(second), "--as", "alice")
    assert moved.stdout.splitlines()[0] == f"appointment 2 moved: slot {second}, {DAY} 09:20, CARD"
    assert ccctl("appointments", "confirm", "2", "--as", "alice").exit_code == 0
    listing = ccctl("appointments", "list", "--patient", "P-7", "--as", "bob", "--json")
    upcoming = json.loads(listing.stdout)["upcoming"]
    assert [(a["id"], a["status"], a["slot"]["id"]) for a in upcoming] == [(2, "confirmed", second)]
    cancelled = ccctl("appointments", "cancel", "2", "--as", "alice")
    assert cancelled.stdout.startswith(f"appointment 2 cancelled: slot {second}")
    assert "no upcoming visits" in ccctl("appointments", "list", "--patient", "P-7").stdout

    with session_on(sqlite_url) as session:
        audit = [(a.actor, a.action, a.patient_id) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        texts = [m.body for m in session.scalars(select(SmsMessage).order_by(SmsMessage.id))]
        statuses = [a.status for a in session.scalars(select(Appointment).order_by(Appointment.id))]
    assert audit[:5] == [
        ("alice", "appointment booked", patient),
        ("alice", "appointment moved", patient),
        ("alice", "appointment confirmed", patient),
        ("bob", "appointments read", patient),
        ("alice", "appointment cancelled", patient),
    ]
    assert texts[0] == f"Wizyta zarezerwowana: Cardiology, Dr Novak, {DAY:%d.%m.%Y} godz. 09:00. Nr 1."
    assert len(texts) == 4
    assert statuses == ["moved", "cancelled"]
