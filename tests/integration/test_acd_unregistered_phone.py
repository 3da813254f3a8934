"""An agent logged in a moment before their phone registered, through the emulator: the offer fails at once
(USER_NOT_REGISTERED), the agent rests instead of being offered again at every pass, is not put On Break, and
takes the caller once the phone is there."""

from __future__ import annotations

from acd_site import AcdSite, acd_settings, add_agents, agent_rows, alarms, events, queue, wait_until

from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint


def kinds(url: str) -> list[tuple[str, str | None]]:
    return [(kind, agent) for _, kind, agent in events(url)]


def test_an_agent_whose_phone_is_not_registered_yet_rests_and_then_takes_the_call(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio")})
    queue(sqlite_url)  # max_no_answer 3, no rest after an offer that rang out
    phone = AgentEndpoint(answer_after=1, talk_seconds=2, registered=False)
    with AcdSite(settings, {"1001": phone}) as site:
        call = site.switch.place_call(CallerScript("13800000001", "7000", [], context="public"))
        assert wait_until(lambda: ("no_answer", "ann") in kinds(sqlite_url))
        ann = agent_rows(sqlite_url)["ann"]
        assert (ann.status, ann.state, ann.no_answer_count) == ("available", "resting", 0)
        phone.registered = True  # the softphone registers
        outcome = call.wait(60)
        site.wait_idle()
    assert outcome is not None and outcome.answered
    assert kinds(sqlite_url) == [
        ("entered", None),
        ("offered", "ann"),
        ("no_answer", "ann"),
        ("offered", "ann"),
        ("answered", "ann"),
        ("ended", "ann"),
        ("wrapup_end", "ann"),
    ]
    ann = agent_rows(sqlite_url)["ann"]
    assert (ann.status, ann.calls_answered) == ("available", 1)
    assert alarms(sqlite_url) == []
