"""A progressive care-call campaign through the emulator and the ACD: two agents with skill `care`, six
patients who answer; a call is placed only for a free agent, and each answered patient talks to one.
Sampled all through the run, the campaign never has more calls ringing or waiting than free agents."""

from __future__ import annotations

import dataclasses
from collections import Counter

import gevent
from acd_site import AcdSite, add_agents, events, queue, wait_until
from click.testing import CliRunner
from emulated_site import site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.campaigns import store
from ccctl.campaigns.jobs import CampaignDialer
from ccctl.cli import main
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEntry
from ccctl.records.models.campaigns import Campaign, CampaignTarget
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.sim.originate import AgentEndpoint

HOTLINE = 'flow: main\nlanguage: en\nstart: bye\nnodes:\n  bye:\n    type: hangup\n    prompt: "say:Goodbye"\n'
CARE_FLOW = """\
flow: care-call
language: en
start: to_agent
nodes:
  to_agent:
    type: queue
    skill: care
    on_failure: bye
  bye:
    type: hangup
    prompt: "say:Sorry, we will call again."
"""
CAMPAIGN = """\
name: care
kind: notification
flow: care-call
mode: progressive
agents: {skill: care, abandon_percent: 3}
targets: {patients: {specialty: cardio}}
channels: {voice_attempts: 1}
calling:
  windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}]
caps: {concurrent: 10, per_second: 10}
"""
PATIENTS = 6


def seed(url: str) -> dict[str, AgentEndpoint]:
    engine = make_engine(url)
    phones = {}
    with Session(engine) as session:
        for i in range(PATIENTS):
            number = f"1370000000{i}"
            patient = Patient(patient_code=f"C{i}", given_name="Test", family_name=f"C{i}", specialty="cardio")
            patient.phones.append(PatientPhone(number=number, kind="mobile"))
            session.add(patient)
            phones[number] = AgentEndpoint(answer_after=1)
        session.commit()
    engine.dispose()
    return phones


def test_a_progressive_campaign_never_rings_more_patients_than_free_agents(sqlite_url, tmp_path):
    flows = tmp_path / "flows"
    (flows / "campaigns" / "flows").mkdir(parents=True)
    (flows / "main.yaml").write_text(HOTLINE)
    (flows / "campaigns" / "flows" / "care-call.yaml").write_text(CARE_FLOW)
    (flows / "campaigns" / "care.yaml").write_text(CAMPAIGN)
    settings = site_settings(sqlite_url, tmp_path, flows_dir=str(flows))
    settings = dataclasses.replace(settings, acd=dataclasses.replace(settings.acd, router_tick_seconds=0.05))
    settings_file = tmp_path / "ccctl.yaml"
    settings_file.write_text(f"database: {{url: '{sqlite_url}'}}\nflows_dir: '{flows}'\n")
    phones = seed(sqlite_url)
    queue(sqlite_url, "care", skills={"care": 1})
    add_agents(sqlite_url, {"ann": ("1001", "care:5"), "bob": ("1002", "care:5")})
    for args in (("add", str(flows / "campaigns" / "care.yaml")), ("start", "care")):
        result = CliRunner().invoke(main, ["--config", str(settings_file), "campaigns", *args])
        assert result.exit_code == 0, result.output

    agents = {ext: AgentEndpoint(answer_after=0.5, talk_seconds=3) for ext in ("1001", "1002")}
    samples: list[tuple[int, int, int]] = []
    with AcdSite(settings, agents, time_factor=20) as site:
        site.switch.remotes.update(phones)
        inbound = site.controller.inbound
        assert inbound.wait_connected(timeout=10)
        dialer = CampaignDialer(site.settings, inbound, lambda: site.controller.outbound_address_text)
        dialer.attach_events(inbound)
        engine = make_engine(sqlite_url)

        def sample() -> None:
            while True:
                with Session(engine) as session:
                    campaign_id = session.scalar(select(Campaign.id))
                    load = store.agent_load(session, campaign_id, "care", dialer.clock())
                    states = Counter(session.scalars(select(CampaignTarget.state)))
                samples.append((states["dialing"], states["dialing"] + states["talking"], load.free_agents))
                gevent.sleep(0.02)

        sampler = gevent.spawn(sample)
        dialer.start()
        assert wait_until(lambda: Counter(kind for _, kind, _ in events(sqlite_url))["answered"] == PATIENTS, 90)
        sampler.kill()
        site.wait_idle()
        dialer.stop()
        engine.dispose()

    answered_by = Counter(agent for _, kind, agent in events(sqlite_url) if kind == "answered")
    assert sum(answered_by.values()) == PATIENTS and set(answered_by) == {"ann", "bob"}
    # two agents: never more than two patients ringing, waiting or talking at once, counted over the run
    assert max(in_call for _, in_call, _ in samples) == 2, samples
    assert all(ringing <= 2 for ringing, _, _ in samples)
    assert any(free == 0 for _, _, free in samples)  # the agents were busy at times: the limit was exercised
    # each queued call carries the patient the campaign called: the agent's screen pop opens their record
    assert queued_patients(sqlite_url) == {f"C{i}" for i in range(PATIENTS)}


def queued_patients(url: str) -> set[str]:
    engine = make_engine(url)
    with Session(engine) as session:
        codes = session.scalars(select(Patient.patient_code).join(QueueEntry, QueueEntry.patient_id == Patient.id))
        found = set(codes)
    engine.dispose()
    return found
