"""The rendered dialplan: which extension a dialled number reaches, run through the expressions with re."""

from __future__ import annotations

import re

import pytest
from fs_document import actions, context, route, variables_set
from fs_rendering import Rendered

from ccctl.config import Settings
from ccctl.deploy.fs_render import AgentExtensions, build_model


def _socket_target(rendered: Rendered) -> str:
    return f"{rendered.settings.esl.outbound_host}:{rendered.settings.esl.outbound_port} async full"


def _assert_goes_to_ccctl(rendered: Rendered, extension) -> None:
    steps = actions(extension)
    assert steps[-2] == ("socket", _socket_target(rendered))
    # only reached when the socket fails or ccctl drops it: a queued caller (socket_resume=true)
    # parks for another ccctl to take back, any other call must not sit there
    assert steps[-1] == ("execute_extension", "ccctl_after_socket_${socket_resume} XML ccctl_socket_loss")
    loss = context(rendered.assembly.document(), "ccctl_socket_loss")
    assert actions(route(loss, "ccctl_after_socket_true")) == [("park", None)]
    for unset in ("ccctl_after_socket_", "ccctl_after_socket_false"):
        assert actions(route(loss, unset)) == [("hangup", "NORMAL_TEMPORARY_FAILURE")]
    fs = rendered.settings.freeswitch
    variables = variables_set(extension)
    # a flite site starts with its flite voice, a tts_commandline one with espeak-ng's English; the flow then
    # sets its language's (ccctl.ivr.prompts.language_voice)
    expected = (fs.tts_engine, fs.tts_voice) if fs.tts_engine == "flite" else ("tts_commandline", "en-us")
    assert (variables["tts_engine"], variables["tts_voice"]) == expected
    assert variables["hangup_after_bridge"] == "false"
    # switch_channel.c reads sensitive_dtmf as each key arrives and logs it ("RECV DTMF") unless true:
    # set before the socket, it covers every key the caller presses, member PINs included
    assert variables["sensitive_dtmf"] == "true"
    assert steps.index(("set", "sensitive_dtmf=true")) < steps.index(("socket", _socket_target(rendered)))


def _near_misses(number: str) -> list[str]:
    return [number + "0", number[:-1], "9" + number, number.lstrip("+"), "", "*21"]


def _is_unallocated(extension) -> bool:
    return actions(extension) == [("hangup", "UNALLOCATED_NUMBER")]


@pytest.mark.parametrize("caller_context", ["public", "agents"])
def test_each_hotline_did_reaches_ccctl_with_its_name(rendered: Rendered, caller_context):
    # from the carrier (public) and from an agent's phone (agents) alike
    dialplan_context = context(rendered.assembly.document(), caller_context)
    for hotline in rendered.settings.hotlines:
        extension = route(dialplan_context, hotline.did)
        assert variables_set(extension)["cc_hotline"] == hotline.name
        _assert_goes_to_ccctl(rendered, extension)


def test_other_numbers_from_the_trunk_are_unallocated(rendered: Rendered):
    public = context(rendered.assembly.document(), "public")
    dids = {h.did for h in rendered.settings.hotlines}
    for hotline in rendered.settings.hotlines:
        for number in _near_misses(hotline.did):
            if number not in dids:
                assert _is_unallocated(route(public, number)), number
    assert _is_unallocated(route(public, "1000"))  # agent extensions are not reachable from outside


def test_agents_reach_each_other_by_extension(rendered: Rendered):
    agents = context(rendered.assembly.document(), "agents")
    first, last = (int(n) for n in rendered.settings.freeswitch.agent_extensions.split("-"))
    for number in range(first, last + 1):
        extension = route(agents, str(number))
        assert ("bridge", "user/${destination_number}@${domain_name}") in actions(extension)
    for number in (first - 1, last + 1, first * 10):
        assert _is_unallocated(route(agents, str(number))), number


@pytest.mark.parametrize("code, feature", [("*21", "agent_login"), ("*22", "agent_logout"), ("*23", "agent_break")])
def test_feature_codes_reach_ccctl_with_the_feature(rendered: Rendered, code, feature):
    agents = context(rendered.assembly.document(), "agents")
    extension = route(agents, code)
    assert variables_set(extension)["cc_feature"] == feature
    assert "cc_hotline" not in variables_set(extension)
    _assert_goes_to_ccctl(rendered, extension)
    assert _is_unallocated(route(agents, code + "1"))


def _extensions(text: str) -> AgentExtensions:
    settings = Settings()
    settings.freeswitch.agent_extensions = text
    return build_model(settings).agents


@pytest.mark.parametrize(
    "text, ids",
    [
        ("1000-1099", [str(n) for n in range(1000, 1100)]),
        ("0-99", [str(n) for n in range(100)]),
        ("7-1234", [str(n) for n in range(7, 1235)]),
        ("0100-0199", [f"{n:04d}" for n in range(100, 200)]),
        ("1995-2013", [str(n) for n in range(1995, 2014)]),
        ("5", ["5"]),
    ],
)
def test_agent_expression_matches_exactly_the_range(text, ids):
    agents = _extensions(text)
    assert agents.ids == ids
    pattern = re.compile(agents.expression)
    candidates = {str(n) for n in range(0, 2500)} | {f"{n:04d}" for n in range(0, 2500)}
    assert {c for c in candidates if pattern.search(c)} == set(ids)
