"""Campaigns on the real switch under load: progressive pacing against free agents, and a controller killed
mid-campaign.

The patients' phones are one SIPp process answering every INVITE the trunk sends it: campaigns.dial puts the
patient's number in the request URI (`sofia/trunk/{number}@127.0.0.1:<port>`), and SIPp's message trace
tells how many calls each number received. The agents are SIPp softphones registered on the agents profile.
"""

from __future__ import annotations

import json
import re
import signal
import threading
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import sipp
from campaign_rows import voice_outcomes
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from switch_site import SippRun, SwitchSite, free_port

from ccctl.acd import store as acd_store
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, QueueEntry
from ccctl.records.models.campaigns import CampaignTarget
from ccctl.records.models.patients import Patient, PatientPhone

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
NOTICE_FLOW = """\
flow: notice
language: en
start: bye
nodes:
  bye:
    type: hangup
    prompt: "say:City Hospital. Your results are ready."
"""
WINDOWS = 'calling:\n  windows: [{days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00"}]\n'
PROGRESSIVE = (
    "name: care\nkind: notification\nflow: care-call\nmode: progressive\n"
    "agents: {skill: care, abandon_percent: 3}\ntargets: {patients: {specialty: cardio}}\n"
    "channels: {voice_attempts: 1}\ncaps: {concurrent: 10, per_second: 10}\n" + WINDOWS
)
SLOW = (
    "name: results\nkind: notification\nflow: notice\ntargets: {patients: {specialty: cardio}}\n"
    "channels: {voice_attempts: 1}\ncaps: {concurrent: 10, per_second: 1}\n" + WINDOWS
)
AGENTS = {"ann": "1001", "bob": "1002"}
STALE_MINUTES = 0.25


def numbers(count: int) -> dict[str, str]:
    """Patient code -> number on file (what reaches SIPp as the request URI's user part)."""
    return {f"C{i}": f"4860000{i:04d}" for i in range(count)}


def seed(url: str, phones: dict[str, str]) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        for code, number in phones.items():
            patient = Patient(patient_code=code, given_name="Test", family_name=code, specialty="cardio")
            patient.phones.append(PatientPhone(number=number, kind="mobile"))
            session.add(patient)
        session.commit()
    engine.dispose()


def site_with_patients(
    tmp_path: Path, campaign: str, flow: tuple[str, str], stale_minutes: float = 10.0
) -> tuple[SwitchSite, int]:
    port = free_port()
    flows = {"main.yaml": HOTLINE, f"campaigns/flows/{flow[0]}.yaml": flow[1], "campaigns/campaign.yaml": campaign}
    dial = f"sofia/trunk/{{number}}@127.0.0.1:{port}"
    campaigns = {"dial": dial, "ring_seconds": 20, "tick_seconds": 0.2, "stale_minutes": stale_minutes}
    settings = {"campaigns": campaigns, "acd": {"router_tick_seconds": 0.1}}
    return SwitchSite(tmp_path, flows, settings=settings), port


def patients_phone(site: SwitchSite, port: int, calls: int, ring_ms: int) -> SippRun:
    """Every patient: rings ring_ms, answers, listens until the switch hangs up; each message traced."""
    scenario = sipp.agent_phone_scenario("answer", ring_ms)
    args = ["-m", str(calls), "-p", str(port), "-key", "extension", "patient", "-trace_msg"]
    return site._sipp("patients", scenario, args)


def invites_received(phone: SippRun) -> Counter:
    """Calls per number as SIPp received them: distinct Call-IDs of INVITEs to sip:<digits>@ (a retransmitted
    INVITE counts once; re-INVITEs go to the phone's Contact, not to a number)."""
    calls: dict[str, set[str]] = {}
    for path in phone.workdir.glob("*_messages.log"):
        for block in path.read_text(errors="replace").split("\n\n"):
            request = re.search(r"^INVITE sip:(\d+)@", block, re.MULTILINE)
            call_id = re.search(r"^Call-ID:\s*(\S+)", block, re.MULTILINE | re.IGNORECASE)
            if request and call_id:
                calls.setdefault(request.group(1), set()).add(call_id.group(1))
    return Counter({number: len(ids) for number, ids in calls.items()})


def answered_by(url: str) -> dict[str, str]:
    """Patient code -> the agent their queued call was answered by (their queue entry's agent)."""
    engine = make_engine(url)
    with Session(engine) as session:
        rows = session.execute(
            select(Patient.patient_code, Agent.name)
            .join(QueueEntry, QueueEntry.patient_id == Patient.id)
            .join(Agent, Agent.id == QueueEntry.agent_id)
        ).all()
    engine.dispose()
    return dict(rows)


def switch_sample(site: SwitchSite) -> tuple[int, int, int]:
    """(patients' legs ringing or up, those bridged, agents' legs bridged) as `show channels` lists them;
    a leg already hanging up is not counted."""
    listing = json.loads(site.api("show channels as json") or "{}")
    rows = [row for row in listing.get("rows", []) if row.get("callstate") != "HANGUP"]
    patients = [r for r in rows if r.get("name", "").startswith("sofia/trunk/") and r.get("direction") == "outbound"]
    agents = [r for r in rows if r.get("name", "").startswith("sofia/agents/")]
    bridged = json.loads(site.api("show bridged_calls as json") or "{}").get("rows", [])
    in_bridge = {row.get("uuid") for row in bridged} | {row.get("b_uuid") for row in bridged}
    return (
        len(patients),
        sum(1 for r in patients if r["uuid"] in in_bridge),
        sum(1 for r in agents if r["uuid"] in in_bridge),
    )


def free_agents(engine: Engine) -> int:
    """Agents free for a call with the campaign's skill, as the ACD reads its rows (idle, or a wrap-up over)."""
    with Session(engine) as session:
        return sum(1 for agent in acd_store.free_agents(session, datetime.now(UTC)) if "care" in agent.skills)


def test_a_progressive_campaign_never_rings_more_patients_than_free_agents(tmp_path):
    phones = numbers(8)
    site, port = site_with_patients(tmp_path, PROGRESSIVE, ("care-call", CARE_FLOW))
    samples: list[tuple[int, int, int, int]] = []
    with site:
        url = site._settings()["database"]["url"]
        seed(url, phones)
        settings = ("wrapup_seconds=0", "announce_every_seconds=0", "no_answer_timeout=10")
        site.ccctl("queues", "add", "care", "--skills", "care", *[a for s in settings for a in ("--set", s)])
        for name, extension in AGENTS.items():
            site.ccctl("agents", "add", name, "--extension", extension, "--skills", "care:5")
        agent_phones = [site.agent_phone(ext, ring_ms=300, talk_ms=2500, calls=len(phones)) for ext in AGENTS.values()]
        for name in AGENTS:
            site.ccctl("agents", "login", name)
        patients = patients_phone(site, port, len(phones), ring_ms=1200)
        site.ccctl("campaigns", "add", str(site.root / "flows/campaigns/campaign.yaml"))

        done, engine = threading.Event(), make_engine(url)

        def sample() -> None:
            while not done.is_set():
                samples.append((*switch_sample(site), free_agents(engine)))
                done.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        site.ccctl("campaigns", "start", "care")
        everyone = {code: ["answered"] for code in phones}
        site.wait_for(lambda: voice_outcomes(url) == everyone, 90, f"every patient answered ({voice_outcomes(url)})")
        assert patients.wait(20) == 0, patients.errors()  # the last two talked to their agents and hung up
        done.set()
        sampler.join(5)
        engine.dispose()
        for phone in agent_phones:
            phone.stop()
        taken = answered_by(url)

    assert invites_received(patients) == Counter({number: 1 for number in phones.values()})
    # each patient reached talked to one of the two agents, and both agents took calls
    assert set(taken) == set(phones) and set(taken.values()) == set(AGENTS), taken
    # progressive_room: a call is placed only for a free agent not spoken for by a patient ringing or waiting,
    # so the patients ringing or waiting never outnumber the agents not talking to a patient
    for legs, bridged, agents_bridged, _ in samples:
        assert legs - bridged <= len(AGENTS) - agents_bridged, samples
    assert max(legs for legs, *_ in samples) == len(AGENTS), samples  # the limit was reached
    assert any(bridged == agents_bridged == len(AGENTS) for _, bridged, agents_bridged, _ in samples), samples
    assert any(free == 0 for *_, free in samples), samples  # with both agents busy at times


def target_states(url: str) -> Counter:
    engine = make_engine(url)
    with Session(engine) as session:
        states = Counter(session.scalars(select(CampaignTarget.state)))
    engine.dispose()
    return states


def test_a_controller_killed_mid_campaign_calls_no_one_twice(tmp_path):
    phones = numbers(10)
    # the calls the killed controller left are released after STALE_MINUTES (as failed, their one call used)
    site, port = site_with_patients(tmp_path, SLOW, ("notice", NOTICE_FLOW), stale_minutes=STALE_MINUTES)
    with site:
        url = site._settings()["database"]["url"]
        seed(url, phones)
        # room for a second call to anyone: SIPp answers it too, and its trace counts it
        patients = patients_phone(site, port, 2 * len(phones), ring_ms=1000)
        site.ccctl("campaigns", "add", str(site.root / "flows/campaigns/campaign.yaml"))
        site.ccctl("campaigns", "start", "results")
        site.wait_for(lambda: sum(map(len, voice_outcomes(url).values())) >= 4, 30, "four calls placed", every=0.1)
        site.stop_serve(signal.SIGKILL)
        killed_at = voice_outcomes(url)
        site.start_serve()
        site.wait_for(
            lambda: len(voice_outcomes(url)) == len(phones), 30, f"every patient called ({voice_outcomes(url)})"
        )
        # the killed controller's calls are released (on to the SMS step, none set here), the others done
        site.wait_for(lambda: target_states(url) == {"done": len(phones)}, 60, "every target done", every=1)
        found = voice_outcomes(url)
        patients.stop()

    assert invites_received(patients) == Counter({number: 1 for number in phones.values()})
    assert {code: len(rows) for code, rows in found.items()} == {code: 1 for code in phones}, found
    assert 4 <= len(killed_at) < len(phones), killed_at  # the kill came mid-campaign
