"""Answering machines: the campaign file's machine settings checked at load, and what the switch is told
when mod_avmd hears the beep."""

from __future__ import annotations

import pytest

from ccctl.campaigns.jobs import machine_command
from ccctl.campaigns.spec import CampaignFileError, load_spec
from ccctl.sim.digit_apps import separate_args

BASE = (
    "name: vm\nflow: reminder\ntargets: {patients: {specialty: cardio}}\n"
    "calling: {windows: [{days: [mon], from: '09:00', to: '10:00'}]}\n"
)


def spec_of(tmp_path, extra: str):
    path = tmp_path / "vm.yaml"
    path.write_text(BASE + extra)
    return load_spec(path)


def test_a_campaign_without_machine_does_not_listen_for_one(tmp_path):
    assert spec_of(tmp_path, "").machine == ""


def test_leave_message_keeps_its_message_and_hang_up_needs_none(tmp_path):
    spec = spec_of(tmp_path, "machine: leave_message\nmachine_message: 'say:Please call 7000.'\n")
    assert (spec.machine, spec.machine_message) == ("leave_message", "say:Please call 7000.")
    assert spec_of(tmp_path, "machine: hang_up\n").machine == "hang_up"


@pytest.mark.parametrize(
    ("extra", "line", "says"),
    [
        ("machine: voicemail\n", 5, "machine must be one of leave_message, hang_up"),
        ("machine: leave_message\n", 5, "leave_message needs machine_message"),
        ("machine: hang_up\nmachine_message: 'say:Hi'\n", 6, "only spoken with machine: leave_message"),
    ],
)
def test_machine_mistakes_name_their_line(tmp_path, extra, line, says):
    with pytest.raises(CampaignFileError) as raised:
        spec_of(tmp_path, extra)
    assert f"vm.yaml:{line}: " in str(raised.value) and says in str(raised.value)


def test_the_message_is_one_broadcast_argument_then_the_hangup(tmp_path):
    spec = spec_of(tmp_path, "machine: leave_message\nmachine_message: 'say:Your visit, tomorrow: call {us}.'\n")
    command = machine_command(spec, "abc-123")
    name, uuid, path, legs = separate_args(command, 8)
    assert (name, uuid, legs) == ("uuid_broadcast", "abc-123", "aleg")
    # tts_safe: no brace reaches FreeSWITCH's variable expansion
    assert path == "playback!normal_clearing::say:Your visit, tomorrow: call (us)."


def test_hang_up_kills_the_call_as_a_normal_clearing(tmp_path):
    assert machine_command(spec_of(tmp_path, "machine: hang_up\n"), "abc-123") == "uuid_kill abc-123 NORMAL_CLEARING"


@pytest.mark.parametrize(
    ("engine", "voice", "expected"),
    [
        ("flite", "slt", "tts_engine=flite,tts_voice=slt"),
        ("tts_commandline", "slt", "tts_engine=tts_commandline,tts_voice=en-us"),
    ],
)
def test_a_message_left_before_any_flow_runs_speaks_with_a_voice_the_site_has(engine, voice, expected):
    """The voicemail message plays before the campaign's flow picks the patient's voice: a tts_commandline site
    has no flite voice 'slt', so the call starts with espeak-ng's English voice."""
    from ccctl.campaigns.jobs import originate_command
    from ccctl.config import Settings

    settings = Settings()
    settings.freeswitch.tts_engine, settings.freeswitch.tts_voice = engine, voice
    command = originate_command(settings, "13800000001", 1, 2, "127.0.0.1:8084")
    assert expected in command
