"""The api command that calls a patient back: dial string, entry id, keys kept out of the switch's log, and the
voice its greeting speaks with (an originated leg never runs the hotline's dialplan, which sets it for calls in)."""

from ccctl.acd.callback_call import originate_command


def test_the_callback_leg_carries_its_entry_its_voice_and_keeps_keys_out_of_the_log():
    command = originate_command(
        "sofia/trunk/{number}@10.0.0.9", "+48 (61) 234-567", 42, "127.0.0.1:8084", 30, ("flite", "kal")
    )
    assert command == (
        "originate {cc_callback_entry=42,originate_timeout=30,sensitive_dtmf=true,tts_engine=flite,tts_voice=kal}"
        "sofia/trunk/+4861234567@10.0.0.9 '&socket(127.0.0.1:8084 async full)'"
    )
