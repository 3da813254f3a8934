"""`ccctl demo`: the contact center on its embedded defaults with the emulator calling in.

Runs the controller (SQLite, wallboard on web.port) and the FreeSWITCH emulator in
one process; the emulator routes calls through the dialplan `ccctl fs render`
ships, so the demo exercises the same routing a real switch would.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import signal
import sys
import time
from pathlib import Path

import gevent
from gevent.event import Event as Flag

from ccctl.config import Settings
from ccctl.local_site.site import start_local_site
from ccctl.records.migrate import upgrade
from ccctl.serve.controller import Controller, ControllerError, build_flow_registry
from ccctl.serve.main import freeze_startup_heap
from ccctl.sim.callers import KnownMember, hotline_script
from ccctl.sim.originate import AgentEndpoint
from ccctl.sim.switch import Switch
from ccctl.sim.traffic import DriveSummary, drive

log = logging.getLogger("ccctl.local_site.demo")

DEMO_LOG = "var/ccctl-demo.log"
STATUS_EVERY_SECONDS = 1.0
DRAIN_SECONDS = 120.0
DEMO_ACTOR = "ccctl-demo"
DEMO_SUPERVISOR = "demo"
DEMO_PASSWORD = "demo-password"
# members the simulated callers use; seeded once into the demo database
DEMO_MEMBERS = [
    KnownMember(phone=f"1390000{n:04d}", member_number=f"{880000 + n}", pin=f"{(n * 7919) % 10000:04d}")
    for n in range(1, 13)
]
DEMO_NAMES = [
    ("Anna", "Kowalska"), ("Wei", "Zhang"), ("John", "Smith"), ("Maria", "Nowak"),
    ("Li", "Wang"), ("Peter", "Brown"), ("Ewa", "Wisniewska"), ("Mei", "Chen"),
    ("Tom", "Jones"), ("Piotr", "Lewandowski"), ("Fang", "Liu"), ("Sarah", "Taylor"),
]  # fmt: skip


def seed_demo_members(url: str) -> int:
    """Add the demo members (with their PINs) that are not in the database yet; how many were added."""
    from sqlalchemy.orm import Session

    from ccctl.patients import commands as patient_commands
    from ccctl.patients.repository import PatientData, find_by_member_number
    from ccctl.records.database import make_engine

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            missing = [m for m in DEMO_MEMBERS if find_by_member_number(session, m.member_number) is None]
    finally:
        engine.dispose()
    for member in missing:
        given, family = DEMO_NAMES[DEMO_MEMBERS.index(member)]
        data = PatientData(given, family, [member.phone], member_number=member.member_number)
        code = patient_commands.add(url, data, None, DEMO_ACTOR)
        patient_commands.set_pin(url, code, member.pin, DEMO_ACTOR)
    return len(missing)


def _demo_settings(settings: Settings) -> Settings:
    """The emulator plays FreeSWITCH: its event socket gets a free port the controller then uses."""
    return dataclasses.replace(settings, esl=dataclasses.replace(settings.esl, inbound_port=0))


def _status_line(controller: Controller, switch: Switch) -> str:
    calls = controller.stats.calls()
    return (
        f"calls active {calls['active']:>4} | completed {calls['completed']:>6} | abandoned {calls['abandoned']:>5}"
        f" | failed {calls['failed']:>4} | {controller.stats.cps():6.1f} cps | emulator active {switch.active:>4}"
    )


def _print_status(controller: Controller, switch: Switch, stop: Flag) -> None:
    tty = sys.stdout.isatty()
    last_plain = 0.0
    while not stop.wait(STATUS_EVERY_SECONDS):
        line = _status_line(controller, switch)
        if tty:
            sys.stdout.write("\r" + line)
            sys.stdout.flush()
        elif time.monotonic() - last_plain >= 10:
            print(line, flush=True)
            last_plain = time.monotonic()
    if tty:
        sys.stdout.write("\n")


def _final_table(controller: Controller, summary: DriveSummary, seconds: float) -> str:
    calls = controller.stats.calls()
    ended = calls["completed"] + calls["abandoned"]
    rows = [
        ("calls placed by the emulator", summary.placed),
        ("calls the controller handled", calls["total"]),
        ("completed (ran to their end)", ended),
        ("  flow finished", calls["completed"]),
        ("  caller hung up first", calls["abandoned"]),
        ("failed", calls["failed"] + calls["dropped"]),
        ("emulator: failed calls", summary.failed),
        ("emulator: unfinished calls", summary.unfinished),
        ("seconds", round(seconds, 1)),
    ]
    width = max(len(label) for label, _ in rows)
    lines = [f"{label:<{width}}  {value:>8}" for label, value in rows]
    for failure in summary.failures[:5]:
        lines.append(f"  failure: {failure.get('reason', failure)}")
    return "\n".join(lines)


def shifted_clock(start_at: dt.datetime | None):
    """A clock that starts at `start_at` and runs on from there (None: the real local time)."""
    if start_at is None:
        return dt.datetime.now
    origin = time.monotonic()
    return lambda: start_at + dt.timedelta(seconds=time.monotonic() - origin)


def run_demo(
    settings: Settings,
    calls: int = 0,
    rate: float = 2.0,
    time_factor: float = 1.0,
    seed=None,
    start_at: dt.datetime | None = None,
) -> bool:
    """Run until `calls` calls have ended (0: until Ctrl-C); True when no call failed.

    `start_at` sets the local time the flows see, e.g. a Sunday night for the closed path.
    """
    Path(DEMO_LOG).parent.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=DEMO_LOG,
        level=settings.log_level.upper(),
        force=True,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = _demo_settings(settings)
    upgrade(settings.database.url)
    seed_demo_members(settings.database.url)
    from ccctl.acd.demo_seed import seed_demo_acd

    seed_demo_acd(settings.database.url)
    from ccctl.web.user_commands import ensure_user

    # the demo database is local and bound to 127.0.0.1: a known supervisor login opens the wallboard
    ensure_user(settings.database.url, DEMO_SUPERVISOR, "supervisor", DEMO_PASSWORD)
    # the agents' phones (user/...): answer after a few rings, talk, hang up
    agent = AgentEndpoint(answer_after=4.0, talk_seconds=60.0)
    try:
        registry = build_flow_registry(settings, shifted_clock(start_at))
        site = start_local_site(settings, registry, time_factor=time_factor, seed=seed, agent=agent)
    except ControllerError as exc:
        raise SystemExit(f"ccctl: {exc}") from None
    switch, controller, settings = site.switch, site.controller, site.settings
    controller.start_jobs()
    freeze_startup_heap()
    print(
        f"ccctl demo: wallboard on http://{controller.web_address_text}/wallboard"
        f"  (log in as {DEMO_SUPERVISOR} / {DEMO_PASSWORD}; log: {DEMO_LOG}; Ctrl-C to stop)",
        flush=True,
    )
    stop = Flag()
    for signum in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(signum, stop.set)
    status = gevent.spawn(_print_status, controller, switch, stop)
    started = time.monotonic()
    dids = [h.did for h in settings.hotlines]
    profile = lambda rng: hotline_script(rng, rng.choice(dids), DEMO_MEMBERS)  # noqa: E731
    driver = gevent.spawn(drive, switch, rate, calls=calls or None, seconds=None if calls else 10**9, profile=profile)
    gevent.wait([driver, stop], count=1)
    summary = driver.value if driver.ready() else DriveSummary()
    if not driver.ready():
        driver.kill()
    stop.set()
    status.join()
    _drain(controller)
    site.stop()
    print(_final_table(controller, summary, time.monotonic() - started))
    return controller.stats.failed == 0 and controller.stats.dropped == 0 and summary.failed == 0


def _drain(controller: Controller) -> None:
    deadline = time.monotonic() + DRAIN_SECONDS
    while controller.stats.active and time.monotonic() < deadline:
        gevent.sleep(0.05)
