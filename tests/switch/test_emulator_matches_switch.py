"""The emulator against the real FreeSWITCH 1.10: one scripted controller, the same calls, the same events.

Each scenario runs twice: a SIPp patient calls the real switch (started on the project's rendered
configuration, no `ccctl serve`), then a CallerScript with the same keys and timing calls the emulator,
which routes through the same rendered dialplan and takes its callers from the same rendered trunk
profile. Both connect to the test's own outbound-socket listener, which sends the same commands and
notes what came back; the two notes must be equal, and so must the EXECUTE lines each switch logged
for the call (application, data and depth).
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sipp
from scripted_controller import Api, Execute, Heard, InboundAccess, ScriptedController
from switch_site import ESL_PASSWORD, SwitchSite

from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.sofia_profile import SofiaProfile
from ccctl.sim.switch import Switch

SHORT_TONE = "tone_stream://%(500,0,440)"
LONG_TONE = "tone_stream://%(10000,0,440)"
# about ten seconds of flite speech (the dialplan sets tts_engine and tts_voice)
LONG_SPEECH = "Your call matters to us. " * 10
EMULATOR_PASSWORD = "ClueCon"
# `<uuid> EXECUTE [depth=N] <channel name> app(data)`: the name differs (sofia port, loopback), the rest must not
EXECUTE_LINE = re.compile(r"^(?P<uuid>\S+) EXECUTE \[depth=(?P<depth>\d+)\] \S+ (?P<app>.*)$")


@dataclass(frozen=True)
class Scenario:
    steps: list
    patient: list  # the SIPp patient's steps after the answer
    caller: CallerScript  # the emulator's caller doing the same
    result_variables: tuple[str, ...] = field(default=())


def _caller(**script) -> CallerScript:
    return CallerScript(caller="0612345678", destination="7000", context="public", **script)


def _inside(app: str, arg: str) -> Scenario:
    """`app` runs; the controller's hangup, sent as soon as it started, runs inside it at its next frame."""
    return Scenario(
        steps=[Execute("answer"), Execute(app, arg, until="start"), Execute("hangup")],
        patient=[sipp.until_switch_hangs_up()],
        caller=_caller(),
    )


def _break_scenario(command: str) -> Scenario:
    """A long prompt plays, a short one waits behind it, then the break and the controller's hangup.

    Both prompts hold the channel's queue (event-lock): without it the real switch runs a command sent
    during a prompt inside that prompt at its next frame (see the nested-execute scenario), and whether
    the short prompt is still queued when the break lands would depend on a 20 ms race.
    """
    return Scenario(
        steps=[
            Execute("answer"),
            Execute("playback", LONG_TONE, until="start", event_lock=True),
            Execute("playback", SHORT_TONE, until="queued", event_lock=True),
            Api(command),
            Execute("hangup"),
        ],
        patient=[sipp.until_switch_hangs_up()],
        caller=_caller(),
    )


SCENARIOS = {
    "playback_then_controller_hangs_up": Scenario(
        steps=[Execute("answer"), Execute("playback", SHORT_TONE), Execute("hangup")],
        patient=[sipp.until_switch_hangs_up()],
        caller=_caller(),
    ),
    "play_and_get_digits_collects_keys": Scenario(
        steps=[
            Execute("answer"),
            Execute("play_and_get_digits", f"2 3 1 5000 # {SHORT_TONE} silence_stream://250 entered \\d+"),
            Execute("hangup"),
        ],
        # the keys come a second after the prompt ends, 300 ms apart
        # (no pause after the last key: the switch may hang up at once)
        patient=[sipp.wait(1500), *sipp.press("12#")[:-1], sipp.until_switch_hangs_up()],
        caller=_caller(keys=["12#"], reaction=1.0, key_interval=0.3),
        result_variables=("entered",),
    ),
    "caller_hangs_up_during_a_long_prompt": Scenario(
        steps=[Execute("answer"), Execute("playback", LONG_TONE)],
        patient=[sipp.wait(1500), sipp.hang_up()],
        caller=_caller(hangup_at_prompt=1, hangup_into_prompt=1.5),
    ),
    "uuid_break_stops_the_prompt_and_the_queued_one_plays": _break_scenario("uuid_break {uuid}"),
    "uuid_break_all_also_drops_the_queued_prompt": _break_scenario("uuid_break {uuid} all"),
    # switch_ivr_play_file, switch_ivr_speak_text_handle, switch_ivr_collect_digits_count and switch_ivr_sleep
    # call switch_ivr_parse_all_events every frame: a command sent meanwhile runs inside (EXECUTE [depth=2])
    "an_execute_sent_during_a_prompt_runs_inside_it": _inside("playback", LONG_TONE),
    "an_execute_sent_during_speech_runs_inside_it": _inside("speak", LONG_SPEECH),
    "an_execute_sent_during_digit_collection_runs_inside_it": _inside(
        "play_and_get_digits", "1 1 1 10000 # silence silence_stream://250 entered \\d+"
    ),
    "an_execute_sent_during_a_sleep_runs_inside_it": _inside("sleep", "10000"),
    "the_prompt_goes_on_after_a_command_that_ran_inside_it": Scenario(
        steps=[
            Execute("answer"),
            Execute("playback", LONG_TONE, until="start"),
            Execute("set", "ran_inside=yes"),
            Api("uuid_break {uuid}"),
            Execute("hangup"),
        ],
        patient=[sipp.until_switch_hangs_up()],
        caller=_caller(),
    ),
}
# emulator bugs these scenarios show, each reported with the FreeSWITCH source that explains it
EMULATOR_BUGS: dict[str, str] = {}


@pytest.fixture(scope="module")
def switches(tmp_path_factory):
    """The real switch and the emulator, both routing DID 7000 to ports["esl_out"] by the rendered dialplan."""
    site = SwitchSite(tmp_path_factory.mktemp("emulator-vs-switch"), {})
    try:
        site.start_switch_without_controller()
        conf = site.root / "conf"
        public = (conf / "dialplan" / "public.xml").read_text()
        trunk = (conf / "sip_profiles" / "trunk.xml").read_text()
        emulator = Switch(
            Dialplan.from_xml(public, source="dialplan/public.xml"),
            hostname="vm",
            trunk=SofiaProfile.from_xml(trunk, source="sip_profiles/trunk.xml"),
            log_path=str(site.root / "emulator-freeswitch.log"),
        ).start()
        try:
            yield site, emulator
        finally:
            emulator.stop()
    finally:
        site.stop()


@dataclass
class Run:
    """What the controller heard, and the EXECUTE lines the switch logged for the call."""

    heard: Heard
    executed: list[str]


def on_real_switch(site: SwitchSite, scenario: Scenario) -> Run:
    access = InboundAccess("127.0.0.1", site.ports["esl_in"], ESL_PASSWORD)
    controller = ScriptedController("127.0.0.1", site.ports["esl_out"], access, scenario.result_variables)
    try:
        patient = site.patient(scenario.patient)
        heard = controller.run(scenario.steps)
    finally:
        controller.close()
    assert patient.wait(30) == 0, patient.errors()
    return Run(heard, executed(site.freeswitch_log(), controller.uuid))


def on_emulator(site: SwitchSite, emulator: Switch, scenario: Scenario) -> Run:
    host, port = emulator.esl_address
    access = InboundAccess(host, port, EMULATOR_PASSWORD)
    controller = ScriptedController("127.0.0.1", site.ports["esl_out"], access, scenario.result_variables)
    try:
        call = emulator.place_call(scenario.caller)
        heard = controller.run(scenario.steps)
    finally:
        controller.close()
    assert call.wait(10) is not None, "the emulated call did not end after the controller left"
    log = Path(emulator.log.path).read_text()
    return Run(heard, executed(log, controller.uuid))


def executed(log: str, uuid: str) -> list[str]:
    """The call's EXECUTE lines (switch_core_session_exec) without the channel name: `[depth=N] app(data)`."""
    lines = (EXECUTE_LINE.match(line) for line in log.splitlines())
    return [f"[depth={m['depth']}] {m['app']}" for m in lines if m and m["uuid"] == uuid]


def comparable(run: Run) -> dict[str, list[str]]:
    """What must be equal. Run-to-run noise left out, both from mod_event_socket's read_packet:
    - the linger notice is written when the listener thread notices the channel is down, between
      events taken from its queue, so it lands anywhere after CHANNEL_HANGUP: its place is checked
      (after CHANNEL_HANGUP), its text compared apart from the events;
    - a command's reply and the events queued before the command was read interleave as the thread
      happens to run: replies are compared in command order, apart from the events;
    - CHANNEL_PARK: socket_function parks the channel as soon as `connect` is read, and the event
      dispatch thread may hand the event to the listener before or after it has read `myevents`, so
      the first event is CHANNEL_PARK or nothing (the first call after the switch starts often misses it).
    """
    heard = run.heard
    notices = [line for line in heard.events if line.startswith("notice ")]
    events = [line for line in heard.events if not line.startswith("notice ")]
    if events and events[0].startswith("CHANNEL_PARK "):
        events = events[1:]
    hangup = next((i for i, line in enumerate(heard.events) if line.startswith("CHANNEL_HANGUP ")), None)
    first_notice = next((i for i, line in enumerate(heard.events) if line.startswith("notice ")), None)
    placed = hangup is not None and first_notice is not None and first_notice > hangup
    return {
        "events": events,
        "notices": notices,
        "replies": heard.replies,
        "notice after hangup": [str(placed)],
        "executed": run.executed,
    }


def differences(real: dict[str, list[str]], emulated: dict[str, list[str]]) -> str:
    return "\n".join(
        "\n".join(difflib.unified_diff(real[part], emulated[part], f"real {part}", f"emulated {part}", lineterm=""))
        for part in real
        if real[part] != emulated[part]
    )


def _marked(name: str):
    bug = EMULATOR_BUGS.get(name)
    return pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=bug)) if bug else name


@pytest.mark.parametrize("name", [_marked(name) for name in SCENARIOS])
def test_the_emulator_sends_what_the_real_switch_sends(switches, name):
    site, emulator = switches
    scenario = SCENARIOS[name]
    real = comparable(on_real_switch(site, scenario))
    emulated = comparable(on_emulator(site, emulator, scenario))
    assert real == emulated, differences(real, emulated)


def test_an_execute_sent_during_a_recording_runs_inside_it(switches):
    """switch_ivr_record_file_event parses the queued commands every frame, like the prompts above."""
    site, emulator = switches
    scenario = _inside("record", f"{site.root / 'inside.wav'} 10")
    real = comparable(on_real_switch(site, scenario))
    emulated = comparable(on_emulator(site, emulator, scenario))
    assert real == emulated, differences(real, emulated)
    assert real["executed"][-2:] == [f"[depth=1] record({site.root / 'inside.wav'} 10)", "[depth=2] hangup()"]


def test_answering_a_trunk_call_reports_early_media_first(switches):
    """The trunk profile negotiates late (inbound-late-negotiation): sofia_answer_channel sets up the media
    (sofia_media_tech_media -> switch_channel_mark_pre_answered) before it answers, so CHANNEL_PROGRESS_MEDIA
    comes just before CHANNEL_ANSWER, on the emulator's trunk callers too."""
    site, emulator = switches
    scenario = Scenario(
        steps=[Execute("answer"), Execute("hangup")], patient=[sipp.until_switch_hangs_up()], caller=_caller()
    )
    real = comparable(on_real_switch(site, scenario))
    emulated = comparable(on_emulator(site, emulator, scenario))
    assert real == emulated, differences(real, emulated)
    answered = [line.split(" ")[0] for line in real["events"][:3]]
    assert answered == ["CHANNEL_EXECUTE", "CHANNEL_PROGRESS_MEDIA", "CHANNEL_ANSWER"], real["events"]


def test_uuid_dump_reads_like_the_switchs(switches):
    """`uuid_dump <uuid> json`, as ccctl's queue adoption reads it after a crash: the same CHANNEL_DATA event
    from the same place, the same channel headers in the same order and the values adoption takes. The
    caller-profile rows of a sofia call (Caller-Username, Caller-Network-Addr...) and the sip_ variables
    are the endpoint's own and are not compared."""
    site, emulator = switches
    scenario = Scenario(
        steps=[Execute("answer"), Api("uuid_dump {uuid} json"), Execute("hangup")],
        patient=[sipp.until_switch_hangs_up()],
        caller=_caller(),
    )
    real = _dump(on_real_switch(site, scenario))
    emulated = _dump(on_emulator(site, emulator, scenario))
    assert _channel_headers(emulated) == _channel_headers(real)
    stable = {name: real.get(name) for name in DUMP_VALUES}
    assert {name: emulated.get(name) for name in DUMP_VALUES} == stable
    for dump in (real, emulated):
        created, answered = (int(dump[f"Caller-Channel-{t}-Time"]) for t in ("Created", "Answered"))
        assert 0 < created <= answered


# values of a uuid_dump that do not change from run to run (queue adoption reads the last four)
DUMP_VALUES = (
    "Event-Name",
    "Event-Calling-File",
    "Event-Calling-Function",
    "Event-Calling-Line-Number",
    "Channel-State",
    "Channel-Call-State",
    "Answer-State",
    "Call-Direction",
    "Caller-Source",
    "Caller-Context",
    "Caller-Caller-ID-Number",
    "Caller-Destination-Number",
    "variable_cc_hotline",
)


def _dump(run: Run) -> dict[str, str]:
    reply = next(line for line in run.heard.replies if line.startswith("api uuid_dump"))
    return json.loads(reply.split(": ", 1)[1])


def _channel_headers(dump: dict[str, str]) -> list[str]:
    """The header names before the caller profile: the event's own and switch_channel_event_set_basic_data's."""
    names = list(dump)
    return names[: next(i for i, name in enumerate(names) if name.startswith("Caller-"))]
