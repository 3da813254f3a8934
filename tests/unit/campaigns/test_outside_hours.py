"""Patients outside their calling hours never crowd out those who may be called: the dialer reads the
soonest due first, and puts the ones it may not call now back by a few minutes instead of reading them
again on every tick."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session
from test_store import UTC_ZONE

from ccctl.campaigns import store
from ccctl.campaigns.jobs import EXTRA_DUE_ROWS, OUTSIDE_HOURS_RECHECK_MINUTES, CampaignDialer
from ccctl.campaigns.spec import load_spec
from ccctl.config import load_settings
from ccctl.records.database import make_engine
from ccctl.records.models.patients import Patient, PatientPhone

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)  # 10:00 in London, 18:00 in Shanghai
NIGHT = EXTRA_DUE_ROWS + 10  # more than one tick reads
CAMPAIGN = """\
name: flu
flow: reminder
targets: {patients: {specialty: cardio}}
calling: {windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: "09:00", to: "17:00"}]}
caps: {concurrent: 50, per_second: 1}
"""


class RecordingSwitch:
    """The dialer's SwitchApi: every originate answers +OK at once; the numbers are kept."""

    def __init__(self) -> None:
        self.dialled: list[str] = []

    def bgapi(self, command: str, timeout: float | None = None) -> str:
        self.dialled.append(command.split("sofia/gateway/trunk/")[1].split(" ")[0])
        return f"job-{len(self.dialled)}"

    def wait_job(self, job_uuid: str, timeout: float | None = None) -> str:
        return f"+OK uuid-{job_uuid}"

    def api(self, command: str, timeout: float | None = None) -> str:
        return "+OK"

    def live(self) -> bool:
        return True


def test_patients_outside_their_hours_are_put_back_and_the_others_are_called(db_url):
    spec = load_spec("flu.yaml", CAMPAIGN)
    engine = make_engine(db_url)
    with Session(engine) as session:
        for i in range(NIGHT + 3):  # the first ones listed live where it is evening already
            zone = "Asia/Shanghai" if i < NIGHT else "Europe/London"
            patient = Patient(patient_code=f"P{i:02d}", specialty="cardio", custom_fields={"time_zone": zone})
            patient.phones.append(PatientPhone(number=f"+1555{i:04d}", kind="mobile"))
            session.add(patient)
        session.flush()
        campaign = store.add_campaign(session, spec, "flu.yaml", CAMPAIGN, "admin", UTC_ZONE, NOW)
        campaign.state = "running"
        campaign_id = campaign.id
        session.commit()
    engine.dispose()

    settings = load_settings("ccctl.yaml", environ={})
    settings = dataclasses.replace(settings, database=dataclasses.replace(settings.database, url=db_url))
    switch = RecordingSwitch()
    clock = [NOW]
    dialer = CampaignDialer(settings, switch, lambda: "127.0.0.1:8084", clock=lambda: clock[0])
    for _ in range(5):
        dialer.tick()
        clock[0] += timedelta(seconds=1)
    dialer.stop()
    assert sorted(switch.dialled) == [f"+1555{i:04d}" for i in range(NIGHT, NIGHT + 3)]

    engine = make_engine(db_url)
    with Session(engine) as session:
        due_later = store.due_targets(session, campaign_id, NOW + timedelta(minutes=1), 100, UTC_ZONE)
        again = store.due_targets(
            session, campaign_id, NOW + timedelta(minutes=OUTSIDE_HOURS_RECHECK_MINUTES, seconds=5), 100, UTC_ZONE
        )
    engine.dispose()
    assert due_later == []  # nobody is read again on the next ticks
    assert len(again) == NIGHT  # but they are looked at again a few minutes later
