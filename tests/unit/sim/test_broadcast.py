"""uuid_broadcast's leg word and hold music, as mod_commands / switch_ivr read them."""

from __future__ import annotations

import pytest

from ccctl.sim.broadcast import ECHO_ALEG, ECHO_BLEG, HOLD_BLEG, is_moh, leg_flags


@pytest.mark.parametrize(
    ("word", "flags"),
    [
        (None, ECHO_ALEG | HOLD_BLEG),  # no word: aleg and hold the partner
        ("aleg", ECHO_ALEG),
        ("bleg", ECHO_BLEG),
        ("both", ECHO_ALEG | ECHO_BLEG),
        ("holdb", HOLD_BLEG),  # alone it queues nothing on either leg
        ("aleg_holdb", ECHO_ALEG | HOLD_BLEG),  # switch_stristr matches substrings
        ("BOTH", ECHO_ALEG | ECHO_BLEG),
    ],
)
def test_leg_word(word, flags):
    assert leg_flags(word) == flags


def test_only_real_streams_are_hold_music():
    assert is_moh("local_stream://moh")
    assert not is_moh("silence") and not is_moh("INDICATE_HOLD") and not is_moh("") and not is_moh(None)


def test_uuid_break_replies_as_mod_commands_does():
    # as a real FreeSWITCH 1.10.12 answered `api uuid_break nope` (and break_function writes)
    from ccctl.sim.api_commands import run_api
    from ccctl.sim.switch import Switch

    switch = Switch()
    assert run_api(switch, "uuid_break", "") == "-USAGE: <uuid> [all]\n"
    assert run_api(switch, "uuid_break", "no-such-uuid all") == "-ERR No such channel!\n"
