"""play_and_get_digits and read against simulated callers: timeouts, retries, terminators, regex."""

from __future__ import annotations

import pytest

from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.digit_apps import separate_args
from ccctl.sim.switch import Switch


def _run(actions: str, script: CallerScript):
    """Route 7000 through `actions` (no controller) and return (outcome, channel variables)."""
    plan = Dialplan.from_xml(
        '<include><context name="default"><extension name="t"><condition field="destination_number" '
        f'expression="^7000$"><action application="answer"/>{actions}</condition></extension></context></include>'
    )
    switch = Switch(plan, time_factor=200, hostname="vm")
    handle = switch.place_call(script)
    outcome = handle.wait(10)
    assert outcome is not None
    return outcome, handle.session.channel.variables


def _pagd(arg: str) -> str:
    return f'<action application="play_and_get_digits" data="{arg}"/>'


def test_silence_after_every_try_fails_and_leaves_the_variable_unset():
    outcome, variables = _run(_pagd("1 1 2 3000 # say:Choose say:Invalid choice \\d"), CallerScript(keys=["", ""]))
    assert variables["read_result"] == "failure"
    assert "choice" not in variables
    # prompt, invalid, prompt, invalid: each try ends with the invalid-input file
    assert outcome.prompts == ["say:Choose", "say:Invalid", "say:Choose", "say:Invalid"]


def test_invalid_then_valid_keeps_the_rejected_input_in_var_invalid():
    outcome, variables = _run(_pagd("1 1 3 3000 # say:Choose say:Invalid choice ^[12]$"), CallerScript(keys=["9", "2"]))
    assert (variables["choice"], variables["choice_invalid"], variables["read_result"]) == ("2", "9", "success")
    assert outcome.digits_sent == ["9", "2"]
    assert outcome.prompts == ["say:Choose", "say:Invalid", "say:Choose"]


def test_terminator_ends_input_and_is_reported():
    _, variables = _run(_pagd("2 6 1 3000 # say:Number say:Invalid member_no \\d+"), CallerScript(keys=["1234#"]))
    assert (variables["member_no"], variables["read_terminator_used"]) == ("1234", "#")


def test_max_digits_ends_input_without_a_terminator():
    _, variables = _run(_pagd("3 3 1 3000 # say:PIN say:Invalid pin \\d+"), CallerScript(keys=["4711"]))
    assert variables["pin"] == "471"
    assert "read_terminator_used" not in variables


def test_too_few_digits_before_the_digit_timeout_fail_but_are_kept():
    _, variables = _run(_pagd("4 6 1 3000 # say:Number say:Invalid member_no \\d+ 1000"), CallerScript(keys=["12"]))
    assert (variables["read_result"], variables["member_no"]) == ("failure", "12")


def test_read_app_collects_into_its_variable():
    _, variables = _run('<action application="read" data="1 4 say:Code code 3000 #"/>', CallerScript(keys=["77#"]))
    assert (variables["code"], variables["read_result"]) == ("77", "success")


def test_caller_hanging_up_during_collection_ends_the_call_as_the_caller():
    outcome, _ = _run(
        _pagd("1 1 3 3000 # say:Choose say:Invalid choice \\d"),
        CallerScript(hangup_at_prompt=1, hangup_into_prompt=0.3),
    )
    assert (outcome.hung_up_by, outcome.hangup_cause, outcome.answered) == ("caller", "NORMAL_CLEARING", True)


def test_unknown_application_hangs_up_with_destination_out_of_order():
    outcome, _ = _run(
        '<action application="no_such_app" data="x"/><action application="playback" data="a.wav"/>', CallerScript()
    )
    assert outcome.hangup_cause == "DESTINATION_OUT_OF_ORDER"
    assert [app for app, _ in outcome.apps] == ["answer"]


@pytest.mark.parametrize(
    "data, parts",
    [
        (
            "1 1 3 5000 # 'say:Press 1, or 2.' silence_stream://250 cc \\d",
            ["1", "1", "3", "5000", "#", "say:Press 1, or 2.", "silence_stream://250", "cc", "\\d"],
        ),
        ("a  b   c", ["a", "b", "c"]),
        ("a b c d", ["a", "b", "c d"]),
    ],
)
def test_arguments_split_like_switch_separate_string(data, parts):
    assert separate_args(data, 9 if len(parts) == 9 else 3) == parts
