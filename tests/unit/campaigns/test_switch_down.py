"""While no switch node is connected (serve just started, FreeSWITCH restarting) the dialer claims nobody: a
patient's only call is not spent on an originate that cannot reach the switch, and they are called once it
is back."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from test_store import UTC_ZONE

from ccctl.campaigns import store
from ccctl.campaigns.jobs import CampaignDialer
from ccctl.campaigns.spec import load_spec
from ccctl.config import load_settings
from ccctl.esl.inbound import EslUnavailable
from ccctl.records.database import make_engine
from ccctl.records.models.campaigns import CampaignTarget, ContactAttempt
from ccctl.records.models.patients import Patient, PatientPhone

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
CAMPAIGN = """\
name: results
flow: notice
targets: {patients: {specialty: cardio}}
channels: {voice_attempts: 1}
calling: {windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}]}
caps: {concurrent: 10, per_second: 10}
"""


class SwitchComingUp:
    """The inbound connection before its first connect: every command raises, as InboundClient's do."""

    def __init__(self) -> None:
        self.up = False
        self.dialled = 0

    def live(self) -> bool:
        return self.up

    def bgapi(self, command: str, timeout: float | None = None) -> str:
        if not self.up:
            raise EslUnavailable("inbound ESL to 127.0.0.1:8021 is connecting")
        self.dialled += 1
        return f"job-{self.dialled}"

    def wait_job(self, job_uuid: str, timeout: float | None = None) -> str:
        return f"+OK uuid-{job_uuid}"

    def api(self, command: str, timeout: float | None = None) -> str:
        return "+OK"


def rows(db_url: str) -> tuple[list[tuple[str, int]], list[str]]:
    """(state, attempts) of each target, and the voice attempts' outcomes."""
    engine = make_engine(db_url)
    with Session(engine) as session:
        targets = [(t.state, t.attempts) for t in session.scalars(select(CampaignTarget))]
        outcomes = list(session.scalars(select(ContactAttempt.outcome).where(ContactAttempt.channel == "voice")))
    engine.dispose()
    return targets, outcomes


def test_no_patient_is_claimed_while_the_switch_is_not_connected(db_url):
    spec = load_spec("results.yaml", CAMPAIGN)
    engine = make_engine(db_url)
    with Session(engine) as session:
        for i in range(2):
            patient = Patient(patient_code=f"P{i}", specialty="cardio")
            patient.phones.append(PatientPhone(number=f"+1555000{i}", kind="mobile"))
            session.add(patient)
        session.flush()
        store.add_campaign(session, spec, "results.yaml", CAMPAIGN, "admin", UTC_ZONE, NOW).state = "running"
        session.commit()
    engine.dispose()
    settings = load_settings("ccctl.yaml", environ={})
    settings = dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=db_url))
    switch = SwitchComingUp()
    clock = [NOW]
    dialer = CampaignDialer(settings, switch, lambda: "127.0.0.1:8084", clock=lambda: clock[0])

    assert dialer.tick() == 0
    assert rows(db_url) == ([("waiting", 0), ("waiting", 0)], [])  # nobody claimed, no attempt spent

    switch.up = True
    clock[0] += timedelta(seconds=1)
    assert dialer.tick() == 2
    dialer.stop()  # waits for both calls' results
    assert switch.dialled == 2
    assert rows(db_url) == ([("dialing", 1), ("dialing", 1)], ["dialing", "dialing"])
