"""`ccctl bench campaigns`: a reminder campaign against the emulator, calls placed per second vs the configured rate.

A fresh SQLite file with `patients` patients, one campaign over all of them (08:00-20:00 in each patient's zone,
`rate` calls a second, `concurrent` at once), the emulator answering with a realistic mix (60% answer and press 1,
15% busy, 25% never answer) and the dialer on the real clock. Every fifth patient lives in a zone where it is
night now (their `time_zone` field): none of them may be called. Reported: calls placed and their rate over the
steady part of the run (the first second's full bucket left out), the error against the configured rate, numbers
dialled more often than their attempts allow (must be 0), calls placed outside the patient's window in their own
zone (must be 0), database statements the dialer ran per call, and the dialer's CPU per call (pacer alone and
whole tick).
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import gevent
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from ccctl.campaigns.jobs import CampaignDialer
from ccctl.campaigns.pacer import Pacer
from ccctl.config import load_settings
from ccctl.local_site.site import LocalSite
from ccctl.records.database import make_engine
from ccctl.records.migrate import upgrade
from ccctl.records.models.campaigns import Campaign
from ccctl.records.models.patients import Patient, PatientPhone
from ccctl.serve.controller import build_flow_registry
from ccctl.sim.originate import AgentEndpoint

ROOT = Path(__file__).resolve().parents[1]
OPENS_HOUR, CLOSES_HOUR = 8, 20  # the campaign's window, in each patient's zone
NIGHT_EVERY = 5  # every fifth patient is in a zone where it is night now
HOTLINE = "flow: main\nlanguage: en\nstart: bye\nnodes:\n  bye: {type: hangup, prompt: 'say:Goodbye'}\n"
CAMPAIGN = """\
name: bench
kind: reminder
flow: reminder
targets: {{patients: {{specialty: bench}}}}
channels: {{voice_attempts: 1}}
calling:
  windows: [{{days: [mon, tue, wed, thu, fri, sat, sun], from: "{opens}", to: "{closes}"}}]
retry: {{busy: 600, no_answer: 600, failed: 600}}
caps: {{concurrent: {concurrent}, per_second: {rate}}}
"""


class CountingSwitch:
    """The dialer's SwitchApi over the controller's inbound client, noting when each number was dialled."""

    def __init__(self, inbound) -> None:
        self.inbound = inbound
        self.placed: list[tuple[float, str]] = []
        self.placed_at: list[datetime] = []

    def bgapi(self, command: str, timeout: float | None = None) -> str:
        self.placed.append((time.monotonic(), command.split("sofia/gateway/trunk/")[1].split(" ")[0]))
        self.placed_at.append(datetime.now(UTC))
        return self.inbound.bgapi(command, timeout=timeout)

    def wait_job(self, job_uuid: str, timeout: float | None = None) -> str:
        return self.inbound.wait_job(job_uuid, timeout=timeout)


def zones_now(now: datetime) -> tuple[str, str]:
    """(a zone where it is mid-day now, one where it is the middle of the night), as Etc/GMT offsets."""

    def zone_at(hour: int) -> str:
        offset = (hour - now.hour + 12) % 24 - 12  # local = UTC + offset, in -12..+11
        return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"  # Etc/GMT-8 is UTC+8

    return zone_at(13), zone_at(2)


def _seed(url: str, patients: int, day_zone: str, night_zone: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session:
        session.execute(
            insert(Patient),
            [
                {
                    "patient_code": f"B{i:06d}",
                    "specialty": "bench",
                    "custom_fields": {"time_zone": night_zone if i % NIGHT_EVERY == 0 else day_zone},
                }
                for i in range(patients)
            ],
        )
        ids = [row[0] for row in session.execute(Patient.__table__.select().with_only_columns(Patient.id))]
        session.execute(
            insert(PatientPhone), [{"patient_id": pid, "number": f"1390{pid:07d}", "kind": "mobile"} for pid in ids]
        )
        session.commit()
    engine.dispose()


def _phones(patients: int, seed: int = 7) -> dict[str, AgentEndpoint]:
    rng = random.Random(seed)
    answer = AgentEndpoint(answer_after=2, keys="1", keys_after=1)
    busy = AgentEndpoint(answer_after=1, reject_cause="USER_BUSY")
    silent = AgentEndpoint(answers=False)
    return {f"1390{pid:07d}": rng.choices((answer, busy, silent), (60, 15, 25))[0] for pid in range(1, patients + 1)}


def run(patients: int = 1000, rate: float = 20.0, concurrent: int = 200, seconds: float = 30.0) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="ccctl-bench-campaigns-"))
    try:
        return _text(_run(folder, patients, rate, concurrent, seconds))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path, patients: int, rate: float, concurrent: int, seconds: float) -> dict:
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    day_zone, night_zone = zones_now(datetime.now(UTC))
    _seed(url, patients, day_zone, night_zone)
    reachable = patients - len(range(0, patients, NIGHT_EVERY))
    flows = folder / "flows"
    (flows / "campaigns" / "flows").mkdir(parents=True)
    (flows / "main.yaml").write_text(HOTLINE)
    shutil.copy(ROOT / "ivr_flows" / "campaigns" / "flows" / "reminder.yaml", flows / "campaigns" / "flows")
    settings = load_settings(ROOT / "ccctl.yaml", environ={})
    settings = dataclasses.replace(
        settings,
        database=dataclasses.replace(settings.database, url=url),
        esl=dataclasses.replace(settings.esl, outbound_port=0, inbound_port=0),
        web=dataclasses.replace(settings.web, port=0),
        sms=dataclasses.replace(settings.sms, sendsms_url=""),
        campaigns=dataclasses.replace(settings.campaigns, tick_seconds=0.05),
        flows_dir=str(flows),
        recordings_dir=str(folder / "recordings"),
    )
    from ccctl.campaigns.commands import add, set_state

    spec_file = flows / "campaigns" / "bench.yaml"
    spec_file.write_text(
        CAMPAIGN.format(concurrent=concurrent, rate=rate, opens=f"{OPENS_HOUR:02d}:00", closes=f"{CLOSES_HOUR:02d}:00")
    )
    add(settings, str(spec_file), "bench")
    set_state(settings, "bench", "running")

    site = LocalSite(settings, build_flow_registry(settings), time_factor=50.0, seed=7)
    site.switch.remotes.update(_phones(patients))
    site.start()
    try:
        site.controller.inbound.wait_connected(timeout=10)
        switch = CountingSwitch(site.controller.inbound)
        dialer = CampaignDialer(site.settings, switch, lambda: site.controller.outbound_address_text)
        statements = Counter()
        event.listen(dialer.engine, "after_cursor_execute", lambda *a: statements.update([a[2].split()[0].upper()]))
        pacer_seconds = [0.0]
        original = Pacer.calls_to_place

        def timed(self, *args, **kw):
            started = time.process_time()
            try:
                return original(self, *args, **kw)
            finally:
                pacer_seconds[0] += time.process_time() - started

        Pacer.calls_to_place = timed
        tick_cpu = 0.0
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline and len(switch.placed) < reachable:
                started = time.process_time()
                dialer.tick()
                tick_cpu += time.process_time() - started
                gevent.sleep(site.settings.campaigns.tick_seconds)
        finally:
            Pacer.calls_to_place = original
        gevent.sleep(2)
        dialer.stop()
    finally:
        site.stop(grace=2)
    outside = _outside_window(url, switch, night_zone)
    return _result(url, switch.placed, rate, patients, statements, pacer_seconds[0], tick_cpu) | outside


def _outside_window(url: str, switch: CountingSwitch, night_zone: str) -> dict:
    """Calls placed when the patient's own clock was outside the campaign's window (must be 0)."""
    engine = make_engine(url)
    with Session(engine) as session:
        zones = {
            number: fields.get("time_zone", "UTC")
            for number, fields in session.execute(
                select(PatientPhone.number, Patient.custom_fields).join(Patient, Patient.id == PatientPhone.patient_id)
            )
        }
    engine.dispose()
    outside = 0
    for (_, number), at in zip(switch.placed, switch.placed_at, strict=True):
        local = at.astimezone(ZoneInfo(zones[number]))
        outside += not OPENS_HOUR <= local.hour < CLOSES_HOUR
    night = sum(1 for zone in zones.values() if zone == night_zone)
    return {"patients_at_night": night, "called_outside_window": outside}


def _result(url, placed, rate, patients, statements, pacer_cpu, tick_cpu) -> dict:
    times = [t for t, _ in placed]
    steady = [t for t in times if t - times[0] >= 1.0] if times else []
    achieved = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 2 else 0.0
    per_number = Counter(number for _, number in placed)
    engine = make_engine(url)
    with Session(engine) as session:
        campaign = session.query(Campaign).filter_by(name="bench").one()
        from ccctl.campaigns.store import report

        outcome = report(session, campaign)
    engine.dispose()
    calls = max(1, len(placed))
    writes = statements["INSERT"] + statements["UPDATE"]
    result = {
        "patients": patients,
        "configured_rate": rate,
        "placed": len(placed),
        "achieved_rate": round(achieved, 2),
        "rate_error_percent": round(abs(achieved - rate) / rate * 100, 2) if achieved else None,
        "dialled_twice": sum(1 for n in per_number.values() if n > 1),
        "db_writes_per_call": round(writes / calls, 2),
        "db_statements_per_call": round(sum(statements.values()) / calls, 2),
        "pacer_cpu_ms_per_call": round(pacer_cpu * 1000 / calls, 3),
        "dialer_cpu_ms_per_call": round(tick_cpu * 1000 / calls, 3),
        "attempts": outcome["attempts"],
    }
    return result


def _text(result: dict) -> dict:
    lines = [f"{key:26} {value}" for key, value in result.items() if key not in ("attempts", "text")]
    lines += [f"attempts {a['channel']:5} {a['outcome']:12} {a['count']}" for a in result["attempts"]]
    result["text"] = "\n".join(lines)
    return result
