"""Click-to-call through the emulator: an agent's "call now" (the function other code calls, and
`ccctl callbacks call`) rings the patient and bridges them to that agent only, with a call record; a busy
number goes back on the worklist with its attempt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from acd_site import AcdSite, acd_settings, add_agents, events, queue, wait_until
from click.testing import CliRunner
from emulated_site import stored_calls

from ccctl.acd.callbacks import CallbackError, file_callback, list_callbacks
from ccctl.acd.click_to_call import place_for_agent
from ccctl.cli import main
from ccctl.records.database import in_transaction
from ccctl.sim.originate import AgentEndpoint

PATIENT = "+48600100300"
BUSY = "+48600100301"
PHONES = {"1001": AgentEndpoint(answer_after=1, talk_seconds=3), "1002": AgentEndpoint(answer_after=1, talk_seconds=3)}


def kinds_of(url: str) -> list[tuple[str, str | None]]:
    return [(kind, agent) for _, kind, agent in events(url)]


def test_the_function_calls_a_patient_now_and_only_that_agent_is_rung(sqlite_url, tmp_path):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio")})
    queue(sqlite_url)
    with AcdSite(settings, dict(PHONES)) as site:
        assert site.controller.inbound.wait_connected(5)  # the router dials through it
        # ann is the longest idle agent: the router alone would ring her
        in_transaction(
            sqlite_url,
            CallbackError,
            lambda s: place_for_agent(s, "bob", PATIENT, None, "preview", "bob", "test", queue="cardio"),
        )
        assert wait_until(lambda: ("wrapup_end", "bob") in kinds_of(sqlite_url), timeout=30)
        site.wait_idle()
    assert kinds_of(sqlite_url) == [
        ("callback_requested", None),
        ("callback_pinned", "bob"),
        ("callback_made", None),  # the patient answered and heard the greeting
        ("offered", "bob"),
        ("answered", "bob"),
        ("ended", "bob"),
        ("wrapup_end", "bob"),
    ]
    calls = [(c["destination"], c["disposition"], c["path"]) for c in stored_calls(sqlite_url)]
    assert calls == [(PATIENT, "completed", ["callback:answered"])]
    assert list_callbacks(sqlite_url) == []  # made: off the worklist


def test_ccctl_callbacks_call_rings_the_patient_for_that_agent_and_a_busy_number_shows_its_attempt(
    sqlite_url, tmp_path
):
    settings = acd_settings(sqlite_url, tmp_path)
    add_agents(sqlite_url, {"ann": ("1001", "cardio"), "bob": ("1002", "cardio")})
    queue(sqlite_url, callback_key="1")
    settings_file = tmp_path / "ccctl.yaml"
    settings_file.write_text(f"database:\n  url: {sqlite_url}\n")
    later = datetime.now(UTC) + timedelta(hours=12)

    def ccctl(*args: str):
        return CliRunner().invoke(main, ["-c", str(settings_file), *args])

    def requested(number: str) -> int:
        """A callback the router does not dial before `later` (as one asked for while the hotline is closed)."""
        now = datetime.now(UTC)
        work = lambda session: file_callback(session, "cardio", number, None, "after_hours", now, after=later).id  # noqa: E731
        return in_transaction(sqlite_url, CallbackError, work)

    with AcdSite(settings, dict(PHONES)) as site:
        assert site.controller.inbound.wait_connected(5)
        site.switch.remotes[BUSY] = AgentEndpoint(answer_after=1, reject_cause="USER_BUSY")
        first, busy = requested(PATIENT), requested(BUSY)
        assert [r.state for r in list_callbacks(sqlite_url)] == ["pending", "pending"]
        called = ccctl("callbacks", "call", str(first), "--agent", "bob", "--as", "bob")
        assert called.output == f"callback {first}: calling for agent bob (dialled by ccctl serve's ACD)\n"
        assert wait_until(lambda: ("wrapup_end", "bob") in kinds_of(sqlite_url), timeout=30)
        assert ccctl("callbacks", "call", str(busy), "--agent", "ann").exit_code == 0
        assert wait_until(lambda: list_callbacks(sqlite_url)[0].state == "pending", timeout=30)
        site.wait_idle()
    (row,) = json.loads(ccctl("callbacks", "list", "--json").output)
    assert (row["id"], row["state"], row["attempts"], row["agent"]) == (busy, "pending", 1, "")
    assert "USER_BUSY" in row["last_attempt"]
    rung = [(kind, agent) for _, kind, agent in events(sqlite_url) if kind in ("offered", "answered")]
    assert rung == [("offered", "bob"), ("answered", "bob")]  # ann was never rung: her patient was busy
    # one call record: the patient who answered (the busy number never reached our socket)
    calls = [(c["destination"], c["disposition"], c["path"]) for c in stored_calls(sqlite_url)]
    assert calls == [(PATIENT, "completed", ["callback:answered"])]
