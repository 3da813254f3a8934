"""`ccctl flow simulate`: one call through the FreeSWITCH emulator into an in-process controller.

An admin tries a flow change before it goes live: the caller keys what --keys says, and the
result lists the path, every prompt played, the keys used (PINs masked) and how the call ended.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import gevent

from ccctl.callflow import CallInfo, CallRecord
from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.ivr.interpreter import FlowRun
from ccctl.ivr.nodes.authenticate import PIN_VAR
from ccctl.ivr.registry import FlowRegistry
from ccctl.kb.knowledge import KnowledgeBase
from ccctl.local_site.simulate_report import Handoff, Prompt, SimulationResult, format_simulation
from ccctl.sim.callers import CallerScript
from ccctl.sim.switch import CallOutcome

# the emulator's time runs this much faster than the wall clock: prompts and timeouts pass quickly
TIME_FACTOR = 50.0
# the simulated caller hangs up after this long (simulated seconds) if the flow never ends
CALLER_PATIENCE_SECONDS = 900.0
WAIT_SECONDS = CALLER_PATIENCE_SECONDS / TIME_FACTOR + 30.0
KEY_CHARACTERS = frozenset("0123456789*#")
DIGIT_APPS = ("play_and_get_digits", "read")
PIN_MASK = "<PIN>"

if TYPE_CHECKING:
    from ccctl.local_site.site import LocalSite


class SimulationError(UserError):
    """The simulation could not run; str() is one line naming the setting or option at fault."""


@dataclass
class SimulationRequest:
    """What `ccctl flow simulate` was asked: the hotline, the caller's keys and number, the local time."""

    hotline: str
    keys: str = ""  # per input prompt, comma-separated: "1,2,880001#,,3" ("" = silence)
    caller: str = "13800000001"
    at: dt.datetime | None = None
    message_seconds: float = 10.0
    scratch: bool = False


def parse_keys(text: str) -> list[str]:
    """--keys as one entry per input prompt; refuses anything a keypad cannot send (without echoing it)."""
    if not text.strip():
        return []
    entries = [entry.strip() for entry in text.split(",")]
    for number, entry in enumerate(entries, start=1):
        if not set(entry) <= KEY_CHARACTERS:
            raise SimulationError(f"--keys entry {number}: only 0-9, * and # are keys (entries are comma-separated)")
    return entries


def simulate_call(settings: Settings, request: SimulationRequest) -> SimulationResult:
    """Place one call on the hotline through the emulator and report what the caller met.

    Flows that do not pass the check raise FlowCheckFailed (every error in .errors)."""
    keys = parse_keys(request.keys)
    hotline = settings.hotline_named(request.hotline)
    if hotline is None:
        names = ", ".join(h.name for h in settings.hotlines) or "none"
        raise SimulationError(f"no hotline '{request.hotline}' in {settings.source} (hotlines: {names})")
    # every flow error, as `flow check` lists them (FlowCheckFailed.errors), before a site is started
    FlowRegistry(
        settings.flows_dir,
        settings.prompts_dir or None,
        hotline_flows={h.name: h.flow for h in settings.hotlines},
        kb=KnowledgeBase.from_settings(settings),
    )
    with _call_database(settings, request.scratch) as settings:
        runs, records, outcome = _run_call(settings, request, hotline.did, keys)
    run = runs[0] if runs else None
    record = records[0] if records else None
    return _result(request, keys, outcome, run, record)


@contextlib.contextmanager
def _call_database(settings: Settings, scratch: bool) -> Iterator[Settings]:
    """The settings the simulated site runs on: free ports, and the configured or a scratch database."""
    from ccctl.records.migrate import current_revision, upgrade

    esl = dataclasses.replace(settings.esl, outbound_port=0, inbound_port=0)
    web = dataclasses.replace(settings.web, port=0)
    # no ACD: on a shared database it would ring real agents for the simulated caller, or take real callers
    acd = dataclasses.replace(settings.acd, enabled=False)
    settings = dataclasses.replace(settings, esl=esl, web=web, acd=acd)
    if not scratch:
        try:
            migrated = current_revision(settings.database.url) is not None
        except Exception as exc:  # the URL may hold a password: name the key and the error type only
            raise SimulationError(f"cannot open database.url from {settings.source} ({type(exc).__name__})") from None
        if not migrated:
            raise SimulationError(
                f"database.url in {settings.source} has no tables yet: run `ccctl db upgrade`, or simulate with --scratch"
            )
        yield settings
        return
    from ccctl.local_site.demo import seed_demo_members

    with tempfile.TemporaryDirectory(prefix="ccctl-simulate-") as scratch_dir:
        url = f"sqlite:///{Path(scratch_dir) / 'scratch.db'}"
        upgrade(url)
        seed_demo_members(url)
        database = dataclasses.replace(settings.database, url=url)
        yield dataclasses.replace(settings, database=database, recordings_dir=str(Path(scratch_dir) / "recordings"))


def _run_call(settings: Settings, request: SimulationRequest, did: str, keys: list[str]):
    from ccctl.local_site.demo import shifted_clock
    from ccctl.local_site.site import start_local_site
    from ccctl.serve.controller import ControllerError, build_flow_registry
    from ccctl.sim.originate import AgentEndpoint

    runs: list[FlowRun] = []
    records: list[CallRecord] = []
    try:
        registry = build_flow_registry(settings, shifted_clock(request.at))
    except ControllerError as exc:
        raise SimulationError(str(exc)) from None

    def flow_run_for(call: CallInfo) -> FlowRun:
        run = registry.app_factory(call)
        runs.append(run)
        return run

    # the agent's phone answers after two rings' worth and talks briefly, so the call ends on its own
    agent = AgentEndpoint(answer_after=2.0, talk_seconds=5.0)
    try:
        site = start_local_site(
            settings,
            registry,
            app_factory=flow_run_for,
            record_sink=records.append,
            time_factor=TIME_FACTOR,
            agent=agent,
        )
    except ControllerError as exc:
        registry.services.close()
        raise SimulationError(str(exc)) from None
    try:
        script = CallerScript(
            request.caller,
            did,
            keys,
            hangup_after=CALLER_PATIENCE_SECONDS,
            message_seconds=request.message_seconds,
            context="public",
        )
        outcome = _place_call(site, script)
    finally:
        site.stop(grace=1.0)
    return runs, records, outcome


def _place_call(site: LocalSite, script: CallerScript) -> CallOutcome:
    """The call's outcome once the controller has also finished with it (its record written)."""
    outcome = site.switch.place_call(script).wait(WAIT_SECONDS)
    if outcome is None:
        raise SimulationError(f"the simulated call did not end within {WAIT_SECONDS:g} s")
    deadline = time.monotonic() + 10.0
    while site.controller.stats.active and time.monotonic() < deadline:
        gevent.sleep(0.02)
    return outcome


def _result(
    request: SimulationRequest, keys: list[str], outcome: CallOutcome, run: FlowRun | None, record: CallRecord | None
) -> SimulationResult:
    attempts = [arg for app, arg in outcome.apps if app in DIGIT_APPS]
    used = [PIN_MASK if f" {PIN_VAR} " in arg else (keys[i] if i < len(keys) else "") for i, arg in enumerate(attempts)]
    patient = run.context.patient if run is not None and run.context is not None else None
    return SimulationResult(
        hotline=request.hotline,
        flow_version=run.flow.version if run is not None else "",
        caller=request.caller,
        at=(request.at or dt.datetime.now()).isoformat(timespec="minutes"),
        path=list(run.path) if run is not None else [],
        prompts=[Prompt.from_target(target) for target in outcome.prompts if not target.startswith("silence_stream:")],
        keys=used,
        unused_keys=max(0, len(keys) - len(attempts)),
        disposition=record.disposition if record else "not reached",
        hangup_cause=outcome.hangup_cause,
        hung_up_by=outcome.hung_up_by,
        patient_code=patient.patient_code if patient else None,
        member=bool(patient and patient.member),
        handoffs=_handoffs(outcome.apps, outcome.bridged_to),
        voice_messages=[arg.split(" ")[0] for app, arg in outcome.apps if app == "record"],
        error=(run.error if run is not None else "") or outcome.failure,
        scratch=request.scratch,
    )


def _handoffs(apps: list[tuple[str, str]], bridged_to: list[str]) -> list[Handoff]:
    handoffs: list[Handoff] = []
    skill = ""
    for app, arg in apps:
        if app in ("set", "multiset") and "cc_skill=" in arg:
            # set cc_skill=X, or multiset ^^|cc_skill=X|continue_on_fail=true (the hand-off sets both)
            skill = arg.split("cc_skill=", 1)[1].split("|", 1)[0].split(" ", 1)[0]
        elif app == "bridge":
            handoffs.append(Handoff(kind="queue", skill=skill, target=arg))
        elif app == "transfer":
            handoffs.append(Handoff(kind="transfer", skill="", target=arg))
    if handoffs and bridged_to:
        handoffs[-1] = dataclasses.replace(handoffs[-1], answered_by=bridged_to[-1])
    return handoffs


__all__ = [
    "SimulationError",
    "SimulationRequest",
    "SimulationResult",
    "parse_keys",
    "simulate_call",
    "format_simulation",
]
