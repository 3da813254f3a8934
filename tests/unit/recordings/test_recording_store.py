"""Recording paths, metadata rows, `ccctl recordings list|get` and the audit rows every read leaves.

Runs on SQLite and on a real PostgreSQL (db_url).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from ccctl.cli import main
from ccctl.recordings.store import RecordingError, finish_recording, recording_path, register_recording
from ccctl.records.audit import audit_trail
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.patients import Patient
from ccctl.sim.session_recording import silent_wav

MONDAY = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_path_is_the_utc_day_of_the_call():
    late_evening_in_new_york = datetime(2026, 11, 30, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    path = recording_path("/srv/rec", "0f1e2d3c-aaaa", late_evening_in_new_york)
    assert str(path) == "/srv/rec/2026/12/01/0f1e2d3c-aaaa.wav"


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "", "x" * 65])
def test_a_uuid_that_is_not_a_file_name_is_refused(bad):
    with pytest.raises(RecordingError, match="cannot be a file name"):
        recording_path("recordings", bad, MONDAY)


@pytest.fixture
def db(db_url):
    engine = make_engine(db_url)
    with Session(engine, expire_on_commit=False) as session:
        yield session
    engine.dispose()


def _patient(db: Session, code: str) -> int:
    patient = Patient(patient_code=code, given_name="Ada", family_name="Lovelace")
    db.add(patient)
    db.flush()
    return patient.id


def _recordings(db: Session, tmp_path) -> dict[str, int]:
    """Three recordings: two of P1 (agents alice, bob), one of P2 a day later (alice, queue cardio)."""
    p1, p2 = _patient(db, "P1"), _patient(db, "P2")
    rows = [
        ("11111111-a", "alice", "general", p1, MONDAY),
        ("22222222-b", "bob", "general", p1, MONDAY + timedelta(hours=1)),
        ("33333333-c", "alice", "cardio", p2, MONDAY + timedelta(days=1)),
    ]
    for uuid, agent, queue, patient_id, started in rows:
        path = recording_path(tmp_path / "rec", uuid, started)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(silent_wav(1.0))
        register_recording(db, uuid, path, agent, queue, patient_id, started)
    finish_recording(db, "11111111-a")
    db.commit()
    return {"P1": p1, "P2": p2}


def _cli(db_url: str, *args: str):
    return CliRunner().invoke(main, ["recordings", *args], env={"CCCTL_DATABASE__URL": db_url})


def test_register_twice_updates_the_one_row(db, db_url, tmp_path):
    patient = _patient(db, "P9")
    first = register_recording(db, "44444444-d", tmp_path / "a.wav", "alice", "general", patient, MONDAY)
    again = register_recording(db, "44444444-d", tmp_path / "b.wav", "bob", "general", patient, MONDAY)
    db.commit()
    assert first == again
    out = json.loads(_cli(db_url, "list", "--json").output)
    assert [(r["call_uuid"], r["agent"], r["path"]) for r in out] == [("44444444-d", "bob", str(tmp_path / "b.wav"))]


def test_list_filters_and_audits_each_recording_shown(db, db_url, tmp_path):
    patients = _recordings(db, tmp_path)

    by_patient = _cli(db_url, "list", "--patient", "P1", "--as", "supervisor1", "--json")
    by_agent_and_day = _cli(db_url, "list", "--agent", "alice", "--from", "2026-11-24", "--to", "2026-11-24")
    table = _cli(db_url, "list", "--queue", "general")

    assert by_patient.exit_code == 0, by_patient.output
    rows = json.loads(by_patient.output)
    assert [(r["call_uuid"], r["agent"], r["patient"]) for r in rows] == [
        ("22222222-b", "bob", "P1"),
        ("11111111-a", "alice", "P1"),
    ]
    assert rows[1]["duration_seconds"] == 1.0 and rows[1]["size_bytes"] == len(silent_wav(1.0))
    assert "33333333-c" in by_agent_and_day.output and "11111111-a" not in by_agent_and_day.output
    lines = table.output.splitlines()
    assert lines[0].split() == ["started", "(UTC)", "call", "uuid", "length", "agent", "queue", "patient", "archive"]
    assert lines[2].split() == ["2026-11-23", "09:30:00", "11111111-a", "0:01", "alice", "general", "P1", "local"]
    assert "Ada" not in table.output and "Lovelace" not in table.output
    trail = [(row.actor, row.action, row.detail) for row in audit_trail(db, patients["P1"])]
    assert ("supervisor1", "recording.list", "recording 22222222-b") in trail
    assert ("supervisor1", "recording.list", "recording 11111111-a") in trail


def test_get_copies_the_file_and_audits_the_read(db, db_url, tmp_path):
    patients = _recordings(db, tmp_path)
    out = tmp_path / "out" / "call.wav"

    result = _cli(db_url, "get", "33333333-c", "--out", str(out), "--as", "qa-lead")

    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(out)
    assert out.read_bytes() == silent_wav(1.0)
    trail = [(row.actor, row.action, row.detail) for row in audit_trail(db, patients["P2"])]
    assert trail == [("qa-lead", "recording.get", "recording 33333333-c")]


def test_get_refuses_a_file_that_changed_since_it_was_recorded(db, db_url, tmp_path):
    _recordings(db, tmp_path)
    damaged = recording_path(tmp_path / "rec", "11111111-a", MONDAY)
    damaged.write_bytes(b"RIFF" + b"\0" * 100)

    result = _cli(db_url, "get", "11111111-a", "--out", str(tmp_path / "x.wav"))

    assert result.exit_code == 1
    assert "recording 11111111-a: the copy's SHA-256 does not match the one recorded" in result.output
    assert not (tmp_path / "x.wav").exists()


def test_get_of_an_unknown_call_says_so_and_audits_nothing(db, db_url, tmp_path):
    _recordings(db, tmp_path)
    result = _cli(db_url, "get", "99999999-z")
    assert result.exit_code == 1
    assert result.output.strip() == "ccctl: no recording of call 99999999-z"
    assert db.query(AuditEntry).count() == 0


def test_bad_date_names_the_option(db, db_url, tmp_path):
    result = _cli(db_url, "list", "--from", "yesterday")
    assert result.exit_code == 1
    assert "--from: 'yesterday' is not a date or time" in result.output
