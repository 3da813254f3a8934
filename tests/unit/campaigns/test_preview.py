"""Preview dialing: the `mode: preview` keys checked with their lines, and its reservations on SQLite and
PostgreSQL: never more reserved patients than free agents with the skill, one per agent across campaigns and
processes, a lapsed reservation given back, a skip recorded with its reason, a wrap-up code as the outcome."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd import store as acd_store
from ccctl.acd.agents import add_agent, add_queue, set_status
from ccctl.campaigns import preview_calls, preview_store, store
from ccctl.campaigns.jobs import CampaignDialer
from ccctl.campaigns.model import SKIP_REASONS
from ccctl.campaigns.pacer import preview_agents
from ccctl.campaigns.spec import CampaignFileError, load_spec
from ccctl.campaigns.web_words import CHINESE, ENGLISH, POLISH
from ccctl.cli import main
from ccctl.config import load_settings
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEntry, QueueEvent
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.campaigns import CampaignPreview, CampaignTarget, ContactAttempt
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.records.models.web import CallWrapUp

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
CAMPAIGN = """\
name: {name}
kind: notification
description: Check-up after heart surgery
mode: preview
agents: {{skill: care, preview_seconds: 60, not_reached: [callback]}}
targets: {{patients: {{specialty: cardio}}}}
channels: {{voice_attempts: 2}}
calling: {{windows: [{{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}}]}}
retry: {{skipped: 30, no_answer: 45}}
caps: {{concurrent: 10, per_second: 10}}
"""
PATIENTS = 5


def test_a_preview_campaign_needs_no_flow_and_reads_its_agents_keys():
    spec = load_spec("care.yaml", CAMPAIGN.format(name="care"))
    assert (spec.mode, spec.flow, spec.agent_skill) == ("preview", "", "care")
    assert (spec.preview_seconds, spec.preview_timeout, spec.not_reached_codes) == (60, "list", ("callback",))
    assert load_spec("c.yaml", CAMPAIGN.format(name="c").replace("preview_seconds: 60", "preview_seconds: 90, "
                     "preview_timeout: dial")).preview_timeout == "dial"  # fmt: skip


@pytest.mark.parametrize(
    ("agents", "says"),
    [
        ("{preview_seconds: 60}", "c.yaml:5: mode: preview needs agents: {skill: <the agents' skill>}"),
        ("{skill: care, preview_seconds: 3}", "c.yaml:5: preview_seconds must be a whole number of at least 10"),
        ("{skill: care, preview_timeout: ring}", "c.yaml:5: agents: preview_timeout must be one of list, dial"),
        ("{skill: care, not_reached: [1]}", "c.yaml:5: agents: not_reached is a list of wrap-up codes"),
        ("{skill: care, wait: 3}", "c.yaml:5: agents: unknown key 'wait'"),
    ],
)
def test_preview_mistakes_are_named_with_their_line(agents, says):
    text = CAMPAIGN.format(name="c").replace("agents: {skill: care, preview_seconds: 60, not_reached: [callback]}",
                                             f"agents: {agents}")  # fmt: skip
    with pytest.raises(CampaignFileError) as raised:
        load_spec("c.yaml", text)
    assert any(error.startswith(says) for error in raised.value.errors), raised.value.errors


def test_preview_keys_belong_to_preview_campaigns_and_machines_to_automated_ones():
    text = CAMPAIGN.format(name="c").replace("mode: preview", "mode: progressive\nflow: care-call")
    with pytest.raises(CampaignFileError, match=r"c.yaml:6: agents: preview_seconds is only read with mode: preview"):
        load_spec("c.yaml", text)
    text = CAMPAIGN.format(name="c") + "machine: hang_up\n"
    with pytest.raises(CampaignFileError, match=r"c.yaml:11: machine: is not read with mode: preview"):
        load_spec("c.yaml", text)


def test_an_agent_gets_at_most_one_patient_and_a_reserved_agent_none():
    assert preview_agents(["ann", "bob", "cid"], {"bob"}) == ["ann", "cid"]
    assert preview_agents(["ann", "ann"], set()) == ["ann"]
    assert preview_agents([], set()) == []


def seed(url: str, now: datetime = NOW) -> list[int]:
    """Five cardio patients, two campaigns over them; ann and bob free with `care`, cid free without it,
    dan with it but on a break."""
    engine = make_engine(url)
    ids = []
    with Session(engine) as session:
        for i in range(PATIENTS):
            patient = Patient(patient_code=f"P{i}", specialty="cardio")
            patient.phones.append(PatientPhone(number=f"+4860000000{i}", kind="mobile"))
            session.add(patient)
        session.flush()
        for name in ("care", "care2"):
            text = CAMPAIGN.format(name=name)
            campaign = store.add_campaign(session, load_spec(f"{name}.yaml", text), f"{name}.yaml", text, "admin",
                                          UTC, now)  # fmt: skip
            campaign.state = "running"
            ids.append(campaign.id)
        session.commit()
    engine.dispose()
    for name, extension, skills in (("ann", "1001", {"care": 1}), ("bob", "1002", {"care": 2}),
                                    ("cid", "1003", {"derma": 1}), ("dan", "1004", {"care": 1})):  # fmt: skip
        add_agent(url, name, extension, skills)
        set_status(url, name, "on_break" if name == "dan" else "available")
    return ids


def dialer(url: str, clock: list[datetime]) -> CampaignDialer:
    settings = load_settings("ccctl.yaml", environ={})
    settings = dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=url))
    return CampaignDialer(settings, None, lambda: "", clock=lambda: clock[0])


def previews(url: str) -> dict[str, tuple[int, str]]:
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(select(CampaignPreview.agent, CampaignPreview.target_id, CampaignPreview.state))
        found = {agent: (target, state) for agent, target, state in rows}
    engine.dispose()
    return found


def target(url: str, target_id: int) -> CampaignTarget:
    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        found = session.get(CampaignTarget, target_id)
    engine.dispose()
    return found


def test_never_more_reservations_than_free_agents_and_a_lapsed_one_goes_back_to_the_list(db_url):
    seed(db_url)
    clock = [NOW]
    first, second = dialer(db_url, clock), dialer(db_url, clock)  # second: another process, or a restart
    for _ in range(3):
        first.tick()
        second.tick()
        clock[0] += timedelta(seconds=1)
    held = previews(db_url)
    assert set(held) == {"ann", "bob"}  # cid lacks the skill, dan is on a break; one patient each
    assert len({target_id for target_id, _ in held.values()}) == 2
    assert all(state == "reserved" for _, state in held.values())
    assert all(target(db_url, target_id).state == "previewing" for target_id, _ in held.values())

    # bob goes on a break: his patient is given back at once; ann's lapses after preview_seconds
    set_status(db_url, "bob", "on_break")
    first.tick()
    assert set(previews(db_url)) == {"ann"}
    assert target(db_url, held["bob"][0]).state == "waiting"
    clock[0] = NOW + timedelta(seconds=61)
    engine = make_engine(db_url)
    with Session(engine) as session:
        spec = load_spec("care.yaml", CAMPAIGN.format(name="care"))
        campaign_id = session.get(CampaignTarget, held["ann"][0]).campaign_id
        assert preview_store.release(session, spec, campaign_id, clock[0]) == []  # back to the list, not dialled
        session.commit()
        lapsed = session.get(CampaignTarget, held["ann"][0])
        assert (lapsed.state, lapsed.attempts) == ("waiting", 0)  # no call was made: no attempt used
        assert session.scalars(select(ContactAttempt)).all() == []
    engine.dispose()
    first.tick()
    assert set(previews(db_url)) == {"ann"}  # free again: she gets the next patient due
    first.stop()
    second.stop()


def test_a_skip_is_an_attempt_with_its_reason_and_the_retry_waits(db_url):
    seed(db_url)
    clock = [NOW]
    job = dialer(db_url, clock)
    job.tick()
    target_id = previews(db_url)["ann"][0]
    spec = load_spec("care.yaml", CAMPAIGN.format(name="care"))
    engine = make_engine(db_url)
    with Session(engine) as session:
        with pytest.raises(preview_store.PreviewError, match="not reserved for bob"):
            preview_store.skip(session, spec, "bob", target_id, "not_now", NOW)
        with pytest.raises(preview_store.PreviewError, match="skip reason must be one of"):
            preview_store.skip(session, spec, "ann", target_id, "bored", NOW)
        preview_store.skip(session, spec, "ann", target_id, "in_hospital", NOW)
        session.commit()
        attempt = session.scalars(select(ContactAttempt)).one()
        assert (attempt.reason, attempt.outcome) == ("skipped by ann: in_hospital", "skipped")
        skipped = session.get(CampaignTarget, target_id)
        assert (skipped.state, skipped.attempts, skipped.last_outcome) == ("waiting", 1, "skipped")
        assert skipped.next_attempt_at.replace(tzinfo=UTC) == NOW + timedelta(minutes=30)  # retry.skipped
    engine.dispose()
    job.stop()


def pinned_entry(session: Session, call_uuid: str, patient_id: int) -> QueueEntry:
    """What the ACD's agent-pinned callback leaves once the patient answered and ann wrapped up."""
    entry = QueueEntry(queue="care", call_uuid=call_uuid, patient_id=patient_id, status="done", channel="voice")
    session.add(entry)
    session.flush()
    for kind in ("answered", "ended"):
        session.add(QueueEvent(at=NOW, queue="care", call_uuid=call_uuid, channel="voice", kind=kind))
    return entry


@pytest.mark.parametrize(("code", "state", "next_in"), [("resolved", "done", None), ("callback", "waiting", 45)])
def test_the_agents_wrap_up_code_is_the_outcome_and_a_not_reached_code_retries(db_url, code, state, next_in):
    seed(db_url)
    clock = [NOW]
    job = dialer(db_url, clock)
    job.tick()
    target_id = previews(db_url)["ann"][0]
    spec = load_spec("care.yaml", CAMPAIGN.format(name="care"))
    engine = make_engine(db_url)
    with Session(engine) as session:
        call = preview_store.start_call(session, spec, "ann", target_id, NOW)
        with pytest.raises(preview_store.PreviewError, match="not reserved for ann"):
            preview_store.start_call(session, spec, "ann", target_id, NOW)  # one call per reservation
        entry = pinned_entry(session, "cb-1", call.patient_id)
        preview_store.call_placed(session, target_id, entry.id, entry.call_uuid)
        campaign_id = session.get(CampaignTarget, target_id).campaign_id
        assert preview_store.resolve_calls(session, spec, campaign_id, NOW) == 0  # no wrap-up yet
        session.add(CallWrapUp(call_uuid="cb-1", agent="ann", code=code, notes=""))
        assert preview_store.resolve_calls(session, spec, campaign_id, NOW) == 1
        session.commit()
        attempt = session.scalars(select(ContactAttempt)).one()
        assert (attempt.reason, attempt.outcome, attempt.call_uuid) == ("preview call 1 of 2 by ann", code, "cb-1")
        called = session.get(CampaignTarget, target_id)
        assert (called.state, called.last_outcome, called.attempts) == (state, code, 1)
        if next_in is not None:
            assert called.next_attempt_at.replace(tzinfo=UTC) == NOW + timedelta(minutes=next_in)
        assert "ann" not in previews(db_url)  # ann is free for her next patient
    engine.dispose()
    job.stop()


def test_campaigns_show_lists_the_reserved_patients_and_audits_the_listing(sqlite_url, tmp_path):
    clock = [datetime.now(UTC)]
    seed(sqlite_url, clock[0])
    job = dialer(sqlite_url, clock)
    job.tick()
    job.stop()
    settings_file = tmp_path / "ccctl.yaml"
    settings_file.write_text(f"database: {{url: '{sqlite_url}'}}\n")
    result = CliRunner().invoke(main, ["--config", str(settings_file), "campaigns", "show", "care", "--as", "sue"])
    assert result.exit_code == 0, result.output
    held = re.findall(r"^  (\w+): (P\d) reserved, (\d+) s left$", result.output, re.MULTILINE)
    assert "previews:  2" in result.output  # the first campaign takes both free agents
    assert {agent for agent, _, _ in held} == {"ann", "bob"} and all(int(left) <= 60 for _, _, left in held)
    engine = make_engine(sqlite_url)
    with Session(engine) as session:
        audits = session.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)).all()
    engine.dispose()
    codes = ", ".join(code for _, code, _ in held)
    assert ("sue", "campaign previews view", f"care: {codes}") in [tuple(a) for a in audits]


def test_every_word_of_the_preview_card_is_in_chinese_and_polish():
    keys = [key for key in ENGLISH if key.startswith(("preview_", "skip_", "kind_"))]
    assert {f"skip_{reason}" for reason in SKIP_REASONS} <= set(keys)
    for words in (CHINESE, POLISH):
        assert [key for key in keys if not words.get(key)] == []


def test_a_preview_call_the_patient_did_not_answer_retries_by_the_campaigns_rules_not_the_worklists(db_url):
    seed(db_url)
    add_queue(db_url, "care", "longest-idle-agent", {"care": 1}, {})
    clock = [NOW]
    job = dialer(db_url, clock)
    job.tick()
    target_id = previews(db_url)["ann"][0]
    spec = load_spec("care.yaml", CAMPAIGN.format(name="care"))
    engine = make_engine(db_url)
    with Session(engine) as session:
        call = preview_calls.place_call(session, spec, "ann", target_id, NOW, "ann", "web")
        session.commit()
        entry = session.scalars(select(QueueEntry)).one()
        assert (entry.queue, entry.pinned_agent_id is not None, entry.patient_id) == ("care", True, call.patient_id)
        # what the ACD writes when the patient's phone is busy: the try, and the callback back on the worklist
        acd_store.add_event(session, entry, "callback_failed", NOW, detail="-ERR USER_BUSY")
        acd_store.unpin(session, entry.id, NOW, "not answered")
        session.commit()
        campaign_id = session.get(CampaignTarget, target_id).campaign_id
        assert preview_store.resolve_calls(session, spec, campaign_id, NOW) == 1
        session.commit()
        session.refresh(entry)
        assert (entry.status, entry.callback_number) == ("cancelled", "")  # nobody else dials the patient
        attempt = session.scalars(select(ContactAttempt)).one()
        assert (attempt.outcome, attempt.call_uuid) == ("busy", entry.call_uuid)
        called = session.get(CampaignTarget, target_id)
        assert (called.state, called.attempts) == ("waiting", 1)
        assert called.next_attempt_at.replace(tzinfo=UTC) == NOW + timedelta(minutes=60)  # retry.busy
    engine.dispose()
    job.stop()
