"""Transfers of a live queued call through the emulator, the way a supervisor runs them: `ccctl transfer`.

Blind: the first agent's leg is hung up and the caller rings the new agent, or waits in the new queue.
Warm: the first agent consults the new one (att_xfer, the caller on hold), then completes or cancels.
"""

from __future__ import annotations

import pytest
from acd_site import AcdSite, acd_settings, add_agents, agent_rows, entries, events, queue, wait_until
from click.testing import CliRunner
from emulated_site import by_uuid, stored_calls

from ccctl.acd.agents import set_status
from ccctl.cli import main
from ccctl.sim.callers import CallerScript
from ccctl.sim.originate import AgentEndpoint

LONG_TALK = 3000  # emulated seconds: the first agent never hangs up by themselves in these tests


def caller() -> CallerScript:
    return CallerScript("13800000001", "7000", [], context="public")


def _cli(site, *args: str):
    host, port = site.switch.esl_address
    env = {
        "CCCTL_DATABASE__URL": site.settings.database.url,
        "CCCTL_ESL__INBOUND_HOST": host,
        "CCCTL_ESL__INBOUND_PORT": str(port),
        "CCCTL_ESL__PASSWORD": site.settings.esl.password,
        "CCCTL_ESL__COMMAND_TIMEOUT": "5",
        "CCCTL_FREESWITCH__DOMAIN": site.switch.domain,
    }
    return CliRunner().invoke(main, ["transfer", *args], env=env)


def _caller_hangs_up(site, call) -> None:
    site.switch.hangup_soon(site.switch.channels[call.uuid], "NORMAL_CLEARING", "caller")
    assert call.wait(30) is not None


def _ann_talks_bob_free(site, db_url: str):
    """A patient's call answered by ann; bob comes back from his break."""
    call = site.switch.place_call(caller())
    assert wait_until(lambda: _talking(db_url, "ann"))
    set_status(db_url, "bob", "Available")
    return call


def _talking(db_url: str, name: str) -> bool:
    return agent_rows(db_url)[name].state == "in_call"


def _site(db_url, tmp_path, bob_talk: float = 5, callback_key: str = ""):
    settings = acd_settings(db_url, tmp_path)
    add_agents(db_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio,dermato")})
    queue(db_url, callback_key=callback_key)
    queue(db_url, "dermato", skills={"dermato": 1})
    phones = {
        "1001": AgentEndpoint(answer_after=1, talk_seconds=LONG_TALK),
        "1002": AgentEndpoint(answer_after=1, talk_seconds=bob_talk),
    }
    set_status(db_url, "bob", "On Break")  # the first call goes to ann
    return AcdSite(settings, phones)


def _talks(kinds: list[tuple]) -> list[tuple]:
    """Without the wrap-up ends (stamped when wrap-up runs out, so after later events)."""
    return [kind for kind in kinds if kind[0] != "wrapup_end"]


def _kinds(db_url: str) -> list[tuple[str, str | None]]:
    return [(kind, agent) for _, kind, agent in events(db_url)]


def test_blind_transfer_to_a_queue_puts_the_caller_in_line_there(db_url, tmp_path):
    with _site(db_url, tmp_path) as site:
        call = _ann_talks_bob_free(site, db_url)

        result = _cli(site, "ann", "--to-queue", "dermato")

        assert result.exit_code == 0, result.output
        assert "call of ann transferred to dermato; ann is off the call" in result.output
        outcome = call.wait(30)
        site.wait_idle()
    assert outcome.answered
    kinds = _kinds(db_url)
    assert kinds[:4] == [("entered", None), ("offered", "ann"), ("answered", "ann"), ("transfer_requested", "ann")]
    after = kinds[kinds.index(("transfer_requested", "ann")) + 1 :]
    assert ("transferred", "ann") in after and ("entered", None) in after
    assert _talks(after)[-3:] == [("offered", "bob"), ("answered", "bob"), ("ended", "bob")]
    assert ("wrapup_end", "ann") in after and ("wrapup_end", "bob") in after
    assert entries(db_url) == {outcome.uuid: "done"}
    rows = agent_rows(db_url)
    assert rows["ann"].calls_answered == 1 and rows["bob"].calls_answered == 1


def test_blind_transfer_to_an_agent_rings_that_agent(db_url, tmp_path):
    with _site(db_url, tmp_path) as site:
        call = _ann_talks_bob_free(site, db_url)

        result = _cli(site, "1001", "--to-agent", "bob")

        assert result.exit_code == 0, result.output
        assert "call of ann transferred to bob" in result.output
        outcome = call.wait(30)
        site.wait_idle()
    kinds = _kinds(db_url)
    assert ("transfer_requested", "ann") in kinds and ("transferred", "ann") in kinds
    assert _talks(kinds)[-4:] == [("transferred", "ann"), ("offered", "bob"), ("answered", "bob"), ("ended", "bob")]
    assert entries(db_url) == {outcome.uuid: "done"}


def test_a_transfer_is_refused_with_the_reason_and_nothing_changes(db_url, tmp_path):
    with _site(db_url, tmp_path) as site:
        call = site.switch.place_call(caller())
        assert wait_until(lambda: _talking(db_url, "ann"))

        on_break = _cli(site, "ann", "--to-agent", "bob")
        no_call = _cli(site, "bob", "--to-queue", "cardio")
        no_queue = _cli(site, "ann", "--to-queue", "pediatrics")
        nothing_to_finish = _cli(site, "ann", "--complete")
        both = _cli(site, "ann", "--to-agent", "bob", "--to-queue", "cardio")

        assert _talking(db_url, "ann") and call.uuid in site.switch.sessions  # ann still talks to the caller
        _caller_hangs_up(site, call)
    assert on_break.exit_code == 1
    assert "agent 'bob' is not free to take a call (status On Break, state idle)" in on_break.output
    assert "agent 'bob' has no live queued call to transfer" in no_call.output
    assert "queue 'pediatrics': no such queue" in no_queue.output
    assert "agent 'ann' has no warm transfer under way" in nothing_to_finish.output
    assert "name one target: --to-agent NAME or --to-queue NAME" in both.output
    assert ("transfer_requested", "ann") not in _kinds(db_url)


@pytest.mark.parametrize("finish", ["--complete", "--cancel"])
def test_warm_transfer_consults_then_hands_over_or_goes_back(db_url, tmp_path, finish):
    with _site(db_url, tmp_path, bob_talk=LONG_TALK) as site:
        call = _ann_talks_bob_free(site, db_url)

        consult = _cli(site, "ann", "--to-agent", "bob", "--warm")

        assert consult.exit_code == 0, consult.output
        assert "ann is consulting bob; the caller is on hold" in consult.output
        assert agent_rows(db_url)["bob"].state == "reserved"  # no other call reaches bob meanwhile
        assert wait_until(lambda: any("/1002@" in ch.name and ch.answered for ch in site.switch.channels.values()))

        done = _cli(site, "ann", finish)

        assert done.exit_code == 0, done.output
        if finish == "--complete":
            assert "caller handed over to bob; ann is off the call" in done.output
            assert wait_until(lambda: _talking(db_url, "bob"))
            assert agent_rows(db_url)["ann"].state in ("wrapup", "idle")
            assert ("transferred", "bob") in _kinds(db_url)
        else:
            assert "transfer to bob cancelled; ann is back with the caller" in done.output
            assert wait_until(lambda: agent_rows(db_url)["bob"].state == "idle")
            assert _talking(db_url, "ann") and ("transfer_failed", "ann") in _kinds(db_url)
        _caller_hangs_up(site, call)
        site.wait_idle()


def test_a_patient_handed_over_by_a_warm_transfer_whose_new_agent_hangs_up_has_a_completed_call(db_url, tmp_path):
    """As on the real switch: bob ends the talk; the queue offers a callback key, which is unset only for a
    patient still on the line."""
    with _site(db_url, tmp_path, bob_talk=LONG_TALK, callback_key="9") as site:
        call = _ann_talks_bob_free(site, db_url)
        assert _cli(site, "ann", "--to-agent", "bob", "--warm").exit_code == 0
        assert wait_until(lambda: any("/1002@" in ch.name and ch.answered for ch in site.switch.channels.values()))
        assert _cli(site, "ann", "--complete").exit_code == 0
        assert wait_until(lambda: _talking(db_url, "bob"))
        [bob_leg] = [ch for ch in site.switch.channels.values() if "/1002@" in ch.name and ch.up]
        site.switch.hangup_soon(bob_leg, "NORMAL_CLEARING", "agent")
        assert call.wait(30) is not None
        site.wait_idle()
    record = by_uuid(stored_calls(db_url))[call.uuid]
    assert (record["disposition"], record["error"]) == ("completed", "")
