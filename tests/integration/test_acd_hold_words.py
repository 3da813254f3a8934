"""A Chinese caller waiting in a queue hears, in Chinese, their place in line, the expected wait and how to be
called back, and pressing the key there takes the callback (through the emulator, with the shipped Chinese
prompt set)."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import timedelta
from pathlib import Path

from acd_site import AcdSite, add_agents, entries, events, queue, wait_until
from emulated_site import site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.acd.agents import set_status
from ccctl.records.database import make_engine
from ccctl.records.models.acd import Agent, QueueEvent
from ccctl.records.models.base import utc_now
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint

REPO = Path(__file__).resolve().parents[2]
OFFER = "say:如需在轮到您时由我们给您回电，并保留您的排队位置，请按1。"

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


def busy_with_a_four_minute_call(url: str, agent: str) -> None:
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        session.scalar(select(Agent).where(Agent.name == agent)).state = "in_call"
        start = utc_now() - timedelta(minutes=30)
        for kind, seconds in (("answered", 0), ("ended", 210), ("wrapup_end", 240)):
            at = start + timedelta(seconds=seconds)
            session.add(QueueEvent(at=at, queue="cardio", call_uuid="earlier", kind=kind, agent_id=None))
    engine.dispose()


def test_a_chinese_caller_hears_the_callback_offer_in_chinese_and_takes_it(sqlite_url, tmp_path):
    flows = tmp_path / "flows"
    (flows / "prompt_text").mkdir(parents=True)
    shutil.copy(REPO / "ivr_flows" / "prompt_text" / "zh.yaml", flows / "prompt_text" / "zh.yaml")
    (flows / "main.yaml").write_text(FLOW)
    settings = site_settings(sqlite_url, tmp_path, flows_dir=str(flows))
    settings = dataclasses.replace(settings, acd=dataclasses.replace(settings.acd, router_tick_seconds=0.05))
    add_agents(sqlite_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio")})
    set_status(sqlite_url, "ann", "On Break")
    busy_with_a_four_minute_call(sqlite_url, "bob")  # logged in, on a call: the wait is about 4 minutes
    # the ACD's clock is the wall clock: a place announced every real second
    queue(sqlite_url, callback_key="1", announce_every_seconds=1, hold_prompt="silence_stream://10000")

    with AcdSite(settings, {"1001": AgentEndpoint(answer_after=1, talk_seconds=2)}) as site:
        handle = site.switch.place_call(CallerScript("13800000001", "7000", [], context="public"))
        assert wait_until(lambda: entries(sqlite_url) == {handle.uuid: "waiting"})
        # the place in line, the expected wait and the offer again, then the caller presses 1
        assert wait_until(lambda: handle.session.prompts.count(OFFER) >= 2)
        site.controller.inbound.api(f"uuid_send_dtmf {handle.uuid} 1")
        outcome = handle.wait(30)

    wait = "say:预计等待时间约为4分钟。"
    assert outcome.prompts[:2] == [wait, OFFER]  # before the first hold prompt
    again = outcome.prompts.index(OFFER, 2)
    assert outcome.prompts[again - 2 : again] == ["say:下一位就是您。", wait]  # after the place in line
    assert outcome.prompts[-1] == "say:轮到您时我们会给您回电。再见。"
    assert not any("You are number" in prompt or "press 1" in prompt for prompt in outcome.prompts)
    kinds = [kind for uuid, kind, _ in events(sqlite_url) if uuid == outcome.uuid]
    assert kinds[:2] == ["entered", "callback_requested"]
