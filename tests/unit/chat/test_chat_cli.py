"""`ccctl chat list/show/export`: transcripts found by patient or text, and every read audited."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from web_site import seed  # noqa: E402

from ccctl.chat.identity import attach_patient
from ccctl.chat.store import add_message, close, start_chat
from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.patients import Patient


def a_signed_in_chat(url: str, patient_id: int) -> int:
    engine = make_engine(url)
    with Session(engine) as db, db.begin():
        chat, _token = start_chat(db, "en")
        attach_patient(db, chat, patient_id, "pin")
        add_message(db, chat, "patient", "Can I bring my own blood pressure readings?")
        add_message(db, chat, "agent", "Yes, please bring them.", agent="agent1")
        close(db, chat)
        chat_id = chat.id
    engine.dispose()
    return chat_id


def test_a_transcript_is_found_by_its_text_shown_and_exported_and_each_read_is_audited(sqlite_url, tmp_path):
    ids = seed(sqlite_url)
    chat_id = a_signed_in_chat(sqlite_url, ids["anna"])
    settings = tmp_path / "ccctl.yaml"
    settings.write_text(f"database:\n  url: {sqlite_url}\n")

    def ccctl(*args):
        return CliRunner().invoke(main, ["-c", str(settings), *args])

    engine = make_engine(sqlite_url)
    with Session(engine) as db:
        code = db.get(Patient, ids["anna"]).patient_code
    found = ccctl("chat", "list", "--search", "blood pressure", "--as", "auditor")
    assert found.exit_code == 0, found.output
    assert str(chat_id) in found.output and code in found.output
    assert ccctl("chat", "list", "--search", "parking").output.strip() == "no chats"
    shown = ccctl("chat", "show", str(chat_id), "--as", "auditor")
    assert "agent agent1: Yes, please bring them." in shown.output
    out = tmp_path / "chat.json"
    exported = ccctl("chat", "export", str(chat_id), "-o", str(out), "--format", "json", "--as", "auditor")
    assert exported.exit_code == 0, exported.output
    assert [line["who"] for line in json.loads(out.read_text())["lines"]] == ["patient", "agent"]
    with Session(engine) as db:
        audited = [(a.actor, a.action, a.patient_id) for a in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    engine.dispose()
    for action in ("chat list", "chat show", "chat export"):
        assert ("auditor", action, ids["anna"] if action != "chat list" else None) in audited
    assert ccctl("chat", "show", "999").output.strip().endswith("chat 999: no such chat")
