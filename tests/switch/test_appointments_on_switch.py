"""Booking by keypad on the real switch: a Chinese caller on file books cardiology's next slot.

The schedule and the patient come in through the operator's commands (`ccctl schedule import`,
`ccctl patients add`); the caller presses 1 while the choose prompt's play_and_get_digits runs,
and the booking is in the database, held by the slot, made by this call.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sipp
from switch_site import CCCTL, SwitchSite

CALLER = "0612345678"  # the number SwitchSite's patients call from

BOOK_FLOW = """\
flow: main
description: book the next cardiology slot in Chinese
language: zh
start: who
nodes:
  who:
    type: lookup
    by: caller_number
    found: book
    not_found: bye
  book:
    type: book
    department: CARD
    slot_prompt: "tone_stream://%(100,0,440)"
    choose_prompt: "say:Choose"
    booked_prompt: "say:Booked"
    limit: 2
    timeout: 8
    tries: 1
    on_booked: bye
    on_none: bye
    on_failure: bye
  bye:
    type: hangup
    prompt: "say:Goodbye"
"""


def import_cardiology(site: SwitchSite) -> datetime:
    """Cardiology with one doctor, 09:00-10:00 the day after tomorrow in 30-minute slots; the first slot's time."""
    day = (date.today() + timedelta(days=2)).isoformat()
    schedule = site.root / "schedule.csv"
    schedule.write_text(
        "department_code,department_name,department_name_zh,doctor_code,doctor_name,date,start,end,slot_minutes\n"
        f"CARD,Cardiology,心内科,D7,Dr Wang,{day},09:00,10:00,30\n"
    )
    site.ccctl("schedule", "import", str(schedule))
    return datetime.combine(date.fromisoformat(day), time(9, 0), ZoneInfo("Asia/Shanghai"))


def zh_sounds(site: SwitchSite, visit: datetime) -> None:
    """mod_say_zh's sound files (short beeps) where the rendered <language name="zh"> looks for them: every
    digit, but only the weekday and the part of the day of `visit` in the site's zone, so a date said in
    another zone or on another day asks for a file that is not there (and the switch logs it)."""
    weekday = (visit.weekday() + 1) % 7  # tm_wday: Sunday is 0
    part = "morning" if visit.hour < 6 else "am" if visit.hour < 12 else "pm" if visit.hour < 18 else "evening"
    names = [
        *(f"digits/{n}.wav" for n in [*range(11), 100, 1000, 10000, 100000000]),
        *(f"time/{name}.wav" for name in ("year", "month", "day", "2s", "hour", "minute", part)),
        f"time/day-{weekday}.wav",
    ]
    for name in names:
        path = site.root / "sounds/zh/cn/sinmei" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["sox", "-q", "-n", "-r", "8000", "-c", "1", str(path), "synth", "0.05", "sine", "500"], check=True
        )


def test_a_chinese_caller_books_the_next_cardiology_slot_by_keypad(tmp_path):
    settings = {"appointments": {"timezone": "Asia/Shanghai", "confirm_by": []}}
    with SwitchSite(tmp_path, {"main.yaml": BOOK_FLOW}, settings=settings) as site:
        first_slot = import_cardiology(site)
        zh_sounds(site, first_slot)
        site.ccctl("patients", "add", "--given", "Lei", "--family", "Li", "--phone", CALLER, "--language", "zh")
        patient = site.patient([sipp.wait(3000), *sipp.press("1"), sipp.until_switch_hangs_up()], caller=CALLER)
        assert patient.wait(60) == 0, patient.errors()
        [call] = site.wait_for_calls(1)
        assert call["disposition"] == "completed", call
        assert call["path"][-2:] == ["book:booked", "bye"], call
        with sqlite3.connect(site.root / "cc.db") as db:
            booked = db.execute(
                "SELECT s.starts_at, a.status, a.source, a.booked_by, a.held_slot_id = a.slot_id "
                "FROM appointments a JOIN slots s ON s.id = a.slot_id"
            ).fetchall()
            first = db.execute("SELECT min(starts_at) FROM slots").fetchone()[0]
        [(starts_at, status, source, booked_by, held)] = booked
        assert (starts_at, status, source, held) == (first, "booked", "ivr", 1)
        assert booked_by == f"ivr:{call['uuid']}"
        # the switch said the slot's time in Chinese, in the site's zone: every sound file it asked for is there
        log = site.freeswitch_log()
        assert f"say(zh CURRENT_DATE_TIME PRONOUNCED {int(first_slot.timestamp())})" in log
        assert "Error Opening File" not in log and "Timezone" not in log


VISITS_FLOW = """\
flow: main
description: a member logs in, hears their next visit and cancels it
language: en
start: login
nodes:
  login:
    type: authenticate
    member_prompt: "say:Member number"
    pin_prompt: "say:PIN"
    member_min_length: 6
    member_max_length: 10
    pin_min_length: 4
    pin_max_length: 6
    attempts: 1
    timeout: 6
    on_success: visits
    on_failure: bye
    on_locked: bye
  visits:
    type: visits
    prompt: "tone_stream://%(100,0,440)"
    options_prompt: "say:To cancel press two"
    cancelled_prompt: "say:Cancelled"
    timeout: 8
    tries: 1
    on_none: bye
    on_done: bye
    on_failure: bye
  bye:
    type: hangup
    prompt: "say:Goodbye"
"""
MEMBER_NUMBER = "12345678"
PIN = "2589"


def test_a_member_hears_their_next_visit_and_cancels_it_by_keypad(tmp_path):
    settings = {"appointments": {"timezone": "Europe/Warsaw", "confirm_by": []}}
    with SwitchSite(tmp_path, {"main.yaml": VISITS_FLOW}, settings=settings) as site:
        import_cardiology(site)
        code = site.ccctl(
            "patients", "add", "--given", "Anna", "--family", "Nowak", "--member-number", MEMBER_NUMBER
        ).stdout.split()[-1]
        subprocess.run(
            [*CCCTL, "-c", str(site.config), "patients", "set-pin", code, "--pin-stdin"],
            cwd=site.root,
            input=PIN + "\n",
            text=True,
            capture_output=True,
            check=True,
            timeout=60,
        )
        [slot, *_] = json.loads(site.ccctl("schedule", "slots", "--department", "CARD", "--json").stdout)
        site.ccctl("appointments", "book", "--patient", code, "--slot", str(slot["id"]))

        steps = [sipp.wait(1500), *sipp.press(MEMBER_NUMBER + "#"), sipp.wait(2000), *sipp.press(PIN + "#")]
        patient = site.patient([*steps, sipp.wait(6000), *sipp.press("2"), sipp.until_switch_hangs_up()])
        assert patient.wait(60) == 0, patient.errors()
        [call] = site.wait_for_calls(1)
        assert call["disposition"] == "completed", call
        assert "visits:cancelled" in call["path"], call
        visits = json.loads(site.ccctl("appointments", "list", "--patient", code, "--json").stdout)
        assert visits["upcoming"] == [], visits  # the cancelled visit is no longer ahead of the patient
        # the slot is free again for the next caller
        assert slot["id"] in [
            s["id"] for s in json.loads(site.ccctl("schedule", "slots", "--department", "CARD", "--json").stdout)
        ]
