"""A hotline call end to end: emulator -> rendered dialplan -> controller -> database (SQLite and PostgreSQL)."""

import pytest
from emulated_site import EmulatedSite, by_uuid, site_settings, stored_calls

from ccctl.ivr.welcome import DIGIT_PROMPT, GOODBYE, WELCOME
from ccctl.serve.controller import welcome_for_every_hotline
from ccctl.sim.callers import CallerScript


def test_full_call_is_answered_runs_its_flow_and_is_stored(db_url, tmp_path):
    settings = site_settings(db_url, tmp_path)
    with EmulatedSite(settings, welcome_for_every_hotline) as site:
        outcome = site.switch.place_call(CallerScript("13800000001", "7000", ["2"], context="public")).wait(30)
        site.wait_idle()
    assert outcome is not None and outcome.failure == ""
    assert outcome.answered and outcome.controller_connected
    assert outcome.hung_up_by == "controller" and outcome.hangup_cause == "NORMAL_CLEARING"
    assert [p for p in outcome.prompts] == [WELCOME, DIGIT_PROMPT, GOODBYE]
    row = by_uuid(stored_calls(db_url))[outcome.uuid]
    assert row["hotline"] == "main" and row["destination"] == "7000"
    assert row["disposition"] == "completed"
    assert row["path"] == ["answer", "welcome", "choice", "choice=2", "goodbye"]
    assert row["answered_at"] is not None and row["ended_at"] >= row["answered_at"]


@pytest.mark.parametrize("prompt", [1, 2, 3])
def test_caller_hanging_up_at_each_prompt_is_recorded_as_abandoned(db_url, tmp_path, prompt):
    settings = site_settings(db_url, tmp_path)
    script = CallerScript(
        "13800000002", "7000", ["1"], hangup_at_prompt=prompt, hangup_into_prompt=0.3, context="public"
    )
    with EmulatedSite(settings, welcome_for_every_hotline) as site:
        outcome = site.switch.place_call(script).wait(30)
        site.wait_idle()
        stats = site.controller.stats.calls()
    assert outcome.hung_up_by == "caller"
    row = by_uuid(stored_calls(db_url))[outcome.uuid]
    assert row["disposition"] == "abandoned"
    assert row["hangup_cause"] == "NORMAL_CLEARING"
    assert len(row["path"]) == {1: 2, 2: 3, 3: 4}[prompt]
    assert stats["abandoned"] == 1 and stats["failed"] == 0 and stats["active"] == 0


def test_caller_hanging_up_before_the_answer_is_still_recorded(sqlite_url, tmp_path):
    settings = site_settings(sqlite_url, tmp_path)
    script = CallerScript("13800000003", "7000", [], hangup_after=0.0, context="public")
    with EmulatedSite(settings, welcome_for_every_hotline) as site:
        outcome = site.switch.place_call(script).wait(30)
        site.wait_idle()
    rows = by_uuid(stored_calls(sqlite_url))
    assert outcome.hung_up_by == "caller"
    # also when the caller left before the controller's `connect` was read: the switch's disconnect notice
    # names the call, so it has its row (with no number: the notice carries none)
    assert rows[outcome.uuid]["disposition"] == "abandoned"
    if not outcome.controller_connected:
        assert (rows[outcome.uuid]["caller_number"], rows[outcome.uuid]["path"]) == ("", [])


def test_unknown_number_never_reaches_the_controller(sqlite_url, tmp_path):
    settings = site_settings(sqlite_url, tmp_path)
    with EmulatedSite(settings, welcome_for_every_hotline) as site:
        outcome = site.switch.place_call(CallerScript("13800000004", "7999", [], context="public")).wait(30)
        site.wait_idle()
    assert outcome.hangup_cause == "UNALLOCATED_NUMBER" and not outcome.controller_connected
    assert stored_calls(sqlite_url) == []


def test_many_concurrent_calls_all_stored(sqlite_url, tmp_path):
    settings = site_settings(sqlite_url, tmp_path)
    with EmulatedSite(settings, welcome_for_every_hotline) as site:
        handles = [
            site.switch.place_call(CallerScript(f"1380000{i:04d}", "7000", ["1"], context="public")) for i in range(60)
        ]
        outcomes = [h.wait(60) for h in handles]
        site.wait_idle()
    assert all(o is not None and o.failure == "" for o in outcomes)
    rows = by_uuid(stored_calls(sqlite_url))
    assert {o.uuid for o in outcomes} <= set(rows)
    assert {rows[o.uuid]["disposition"] for o in outcomes} == {"completed"}
