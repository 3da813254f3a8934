"""A Chinese caller waiting in a queue hears, in Chinese, their place in line and how to be called back, and
pressing the key there takes the callback (through the emulator, with the shipped Chinese prompt set)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from acd_site import AcdSite, add_agents, entries, events, queue, wait_until
from emulated_site import site_settings

from ccctl.acd.agents import set_status
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint

REPO = Path(__file__).resolve().parents[2]

FLOW = """\
flow: main
description: a Chinese line into one queue
language: zh
languages: [zh]
start: to_agent
nodes:
  to_agent:
    type: queue
    skill: cardio
    on_failure: bye
  bye:
    type: hangup
"""


def test_a_chinese_caller_hears_the_callback_offer_in_chinese_and_takes_it(sqlite_url, tmp_path):
    flows = tmp_path / "flows"
    (flows / "prompt_text").mkdir(parents=True)
    shutil.copy(REPO / "ivr_flows" / "prompt_text" / "zh.yaml", flows / "prompt_text" / "zh.yaml")
    (flows / "main.yaml").write_text(FLOW)
    settings = site_settings(sqlite_url, tmp_path, flows_dir=str(flows))
    settings = dataclasses.replace(settings, acd=dataclasses.replace(settings.acd, router_tick_seconds=0.05))
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    set_status(sqlite_url, "ann", "On Break")
    # the ACD's clock is the wall clock: a place announced every real second
    queue(sqlite_url, callback_key="1", announce_every_seconds=1, hold_prompt="silence_stream://10000")

    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1, talk_seconds=2)}) as site:
        handle = site.switch.place_call(CallerScript("13800000001", "7000", [], context="public"))
        assert wait_until(lambda: entries(sqlite_url) == {handle.uuid: "waiting"})
        assert wait_until(
            lambda: "say:您目前排在第1位。" in handle.session.prompts or "say:下一位就是您。" in handle.session.prompts
        )
        site.controller.inbound.api(f"uuid_send_dtmf {handle.uuid} 1")
        outcome = handle.wait(30)

    offer = "say:如需在轮到您时由我们给您回电，并保留您的排队位置，请按1。"
    assert outcome.prompts[0] == offer  # before the first hold prompt
    assert outcome.prompts.count(offer) >= 2  # again after the place in line
    assert outcome.prompts[-1] == "say:轮到您时我们会给您回电。再见。"
    assert not any("You are number" in prompt or "press 1" in prompt for prompt in outcome.prompts)
    assert [kind for _, kind, _ in events(sqlite_url)][:2] == ["entered", "callback_requested"]
