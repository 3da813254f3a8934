"""Two `ccctl serve` on one PostgreSQL behind Kamailio and two real FreeSWITCH nodes: one controller killed
with callers waiting, then one node killed; and both controllers racing for the same agents at 20 calls/s.

Everything is a real process on loopback (tests/switch/two_nodes.py): Kamailio, fs-a and fs-b, a `ccctl serve`
beside each node (each node's calls go to its own controller, each controller drives both nodes), SIPp as
the patients and as the agents' phones registered with Kamailio. What is counted is what a supervisor reads:
the queue events and call records in the database, `ccctl status` and `ccctl agents status`.
"""

from __future__ import annotations

import json
import signal
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
import sipp
from sqlalchemy import text
from switch_site import QUEUE_FLOW, SwitchSite
from test_sip_front_on_switch import KAMAILIO
from two_nodes import node_status, phone_through_kamailio, two_nodes

from ccctl.records.database import make_engine

pytestmark = pytest.mark.skipif(
    not Path(KAMAILIO).exists(), reason="Kamailio not installed (scripts/install.sh --test)"
)

PATIENT = "0612345678"  # SwitchSite.patient's caller number
CALLERS = 4
AFTER_NODE_LOSS = 2
# the race: patients per second through Kamailio, for this many seconds, to four agents talking 1.5 s each
RATE = 20
RACE_SECONDS = 12
AGENTS = {"ann": "1001", "bob": "1002", "cyd": "1003", "dee": "1004"}
# a patient waits at most 5 s for an agent (checked after each 3 s hold tone), then hears goodbye; an agent
# comes free when their wrap-up lapses, to whichever controller's router looks first
RACE_QUEUE = {
    "max_wait_seconds": 5,
    "hold_prompt": "tone_stream://%(1000,2000,425)",
    "callback_key": "",
    "wrapup_seconds": 0.5,
}
# the hotline of the race: QUEUE_FLOW with tones for its words, so that the switches' CPU goes to the calls
# rather than to speech synthesis (two switches, two controllers and PostgreSQL share the test machine)
RACE_FLOW = QUEUE_FLOW.replace('"say:Hello"', '"tone_stream://%(300,0,440)"').replace(
    '"say:Nobody could take your call"', '"tone_stream://%(300,0,660)"'
)
RELEASES = ("no_answer", "ended", "abandoned")  # an offer is over at the first of these for its agent


def query(url: str, sql: str) -> list[tuple]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def waiting_owners(url: str) -> dict[str, str]:
    """Callers waiting in line: call uuid -> the controller (acd instance) that holds them."""
    return dict(query(url, "SELECT call_uuid, owner FROM queue_entries WHERE status = 'waiting'"))


def events_of_kind(url: str, kind: str) -> list[str]:
    """The call uuids of one kind of queue event, in the order they happened."""
    return [uuid for (uuid,) in query(url, f"SELECT call_uuid FROM queue_events WHERE kind = '{kind}' ORDER BY at")]


def test_callers_of_a_killed_controller_are_served_by_the_other_in_order_and_a_killed_node_is_left_out(
    tmp_path, empty_postgres_url
):
    db = empty_postgres_url
    with two_nodes(tmp_path, db, controllers=2) as (kamailio, node_a, node_b):
        node_a.ccctl("agents", "logout", "ann")
        phone = phone_through_kamailio(kamailio, node_a, "ann", "1001", calls=CALLERS + AFTER_NODE_LOSS, talk_ms=1000)
        # one every 2 s: their order in line is their order of arrival; Kamailio gives each node two
        patients = node_a.patient(
            [sipp.until_switch_hangs_up()], caller=PATIENT, calls=CALLERS, rate=0.5, address=kamailio.address
        )
        owners = node_a.wait_for(lambda: len(waiting_owners(db)) == CALLERS and waiting_owners(db), 40, "4 in line")
        node_of = {call["uuid"]: call["node"] for call in node_a.calls()}
        on_b = {uuid for uuid in owners if node_of[uuid] == "fs-b"}
        assert 0 < len(on_b) < CALLERS and len(set(owners.values())) == 2, (node_of, owners)

        # the controller beside fs-b dies with its callers waiting; the one beside fs-a takes them back
        node_b.stop_serve(signal.SIGKILL)
        node_a.wait_for(lambda: set(events_of_kind(db, "readopted")) == on_b, 30, "fs-b's callers taken back")
        node_a.ccctl("agents", "login", "ann")
        assert patients.wait(90) == 0, patients.errors() + node_a.serve_output()[-3000:]

        calls = {call["uuid"]: call for call in node_a.wait_for_calls(CALLERS)}
        assert sorted(calls) == sorted(owners)
        for uuid, call in calls.items():
            assert (call["disposition"], call["error"]) == ("completed", ""), call
            # fs-b's callers: the flow's path to the queue, then taken back and answered under the other controller
            taken_back = ["readopted", "queue:answered"] if uuid in on_b else ["to_agent:answered"]
            assert (
                call["path"][-len(taken_back) :] == taken_back
                and call["path"].count("readopted") == len(taken_back) - 1
            ), call
        # ann took them one at a time, in the order they entered the line
        entered = [uuid for (uuid,) in query(db, "SELECT call_uuid FROM queue_entries ORDER BY entered_at")]
        assert events_of_kind(db, "answered") == entered
        answered_by = query(db, "SELECT DISTINCT a.name FROM queue_events e JOIN agents a ON a.id = e.agent_id"
                                " WHERE e.kind = 'answered'")  # fmt: skip
        assert answered_by == [("ann",)]
        controllers = json.loads(node_a.ccctl("status", "--json").stdout)["controllers"]
        assert sorted(row["health"] for row in controllers) == ["alive", "silent"], controllers

        # fs-b dies: the controller shows the node lost (the wallboard's node_lost alarm); behind Kamailio no
        # agent was reached only through it, so ann stays available and the next patients reach her via fs-a
        lost = "alarm: FreeSWITCH node fs-b"
        raised = node_a.serve_output().count(lost)  # when the controller started, the node was still connecting
        node_b.fs.send_signal(signal.SIGKILL)
        node_b.fs.wait()
        node_a.wait_for(lambda: ("fs-b", "connected") not in node_status(node_a), 20, "fs-b shown lost")
        assert node_status(node_a)[0] == ("fs-a", "connected")
        node_a.wait_for(lambda: node_a.serve_output().count(lost) > raised, 20, "the node_lost alarm")
        ann = json.loads(node_a.ccctl("agents", "status", "--json").stdout)[0]
        assert (ann["name"], ann["status"]) == ("ann", "available"), ann
        patients = node_a.patient(
            [sipp.until_switch_hangs_up()], caller=PATIENT, calls=AFTER_NODE_LOSS, rate=0.5, address=kamailio.address
        )
        assert patients.wait(60) == 0, patients.errors() + node_a.serve_output()[-3000:]
        assert phone.wait(30) == 0, phone.errors()
        later = [c for c in node_a.wait_for_calls(CALLERS + AFTER_NODE_LOSS) if c["uuid"] not in calls]
        assert [(c["disposition"], c["node"]) for c in later] == [("completed", "fs-a")] * AFTER_NODE_LOSS, later


def test_two_controllers_racing_for_four_agents_at_20_calls_a_second_never_offer_one_twice(
    tmp_path, empty_postgres_url
):
    db = empty_postgres_url
    with two_nodes(tmp_path, db, controllers=2, flow=RACE_FLOW, **RACE_QUEUE) as (kamailio, node_a, node_b):
        phones = []
        for name, extension in AGENTS.items():
            if name != "ann":
                node_a.ccctl("agents", "add", name, "--extension", extension, "--skills", "cardio:5")
                node_a.ccctl("agents", "login", name)
            phones.append(phone_through_kamailio(kamailio, node_a, name, extension, calls=1000, talk_ms=1500))
        placed = RATE * RACE_SECONDS
        patients = node_a.patient(
            [sipp.until_switch_hangs_up()], caller=PATIENT, calls=placed, rate=RATE, address=kamailio.address
        )
        assert patients.wait(RACE_SECONDS + 60) == 0, patients.errors() + node_a.serve_output()[-3000:]
        calls = node_a.wait_for(lambda: ended_calls(node_a, placed), 30, f"{placed} ended call records")
        for phone in phones:
            phone.stop()
        # nobody is left reserved for a caller who is gone: every agent is free again
        states = {row["name"]: row["state"] for row in json.loads(node_a.ccctl("agents", "status", "--json").stdout)}
        assert states == dict.fromkeys(AGENTS, "idle"), states

    # every patient's call ended as a patient would want it: talked to an agent or told nobody could
    assert len(calls) == placed, len(calls)
    assert {c["disposition"] for c in calls} <= {"completed", "abandoned"}, [c for c in calls if c["error"]]
    events = query(
        db,
        "SELECT e.call_uuid, e.kind, COALESCE(a.name, ''), e.at, q.owner FROM queue_events e"
        " JOIN queue_entries q ON q.call_uuid = e.call_uuid LEFT JOIN agents a ON a.id = e.agent_id"
        " ORDER BY e.at, e.id",
    )
    offers = offer_intervals(events)
    assert [o for o in offers if o[3] is None] == [], "an offer that never ended"
    assert overlapping(offers, key=lambda o: o[1]) == [], "an agent offered two callers at once"
    assert overlapping(offers, key=lambda o: o[0]) == [], "a caller offered to two agents at once"
    # it was a race: both controllers offered callers to the same agents, again and again
    owners_per_agent = defaultdict(set)
    for uuid, agent, *_ in offers:
        owners_per_agent[agent].add(next(owner for call, _, _, _, owner in events if call == uuid))
    summary = {agent: sorted(owners) for agent, owners in owners_per_agent.items()}
    answered = sum(1 for _, kind, *_ in events if kind == "answered")
    assert any(len(owners) == 2 for owners in owners_per_agent.values()), summary
    assert answered >= 2 * len(AGENTS), answered


def ended_calls(site: SwitchSite, count: int) -> list[dict] | None:
    calls = json.loads(site.ccctl("calls", "list", "--limit", str(count * 2), "--json").stdout)
    ended = [c for c in calls if c["disposition"] != "in-progress"]
    return calls if len(ended) >= count else None


Offer = tuple[str, str, datetime, datetime | None]  # call uuid, agent, offered at, let go at


def offer_intervals(events: list[tuple]) -> list[Offer]:
    """Each offer of a caller to an agent, from its offered event to the first event that let the agent go
    (the agent's no_answer or end of talk, or the caller's abandon); None when nothing did."""
    by_call = defaultdict(list)
    for uuid, kind, agent, at, _ in events:
        by_call[uuid].append((kind, agent, at))
    offers = []
    for uuid, happened in by_call.items():
        for index, (kind, agent, at) in enumerate(happened):
            if kind != "offered":
                continue
            ends = [
                later
                for later_kind, later_agent, later in happened[index + 1 :]
                if later_kind == "abandoned" or (later_kind in RELEASES and later_agent == agent)
            ]
            offers.append((uuid, agent, at, ends[0] if ends else None))
    return offers


def overlapping(offers: list[Offer], key) -> list[tuple[Offer, Offer]]:
    """Pairs of offers with the same key (agent or caller) where the second began before the first let go."""
    grouped = defaultdict(list)
    for offer in offers:
        grouped[key(offer)].append(offer)
    pairs = []
    for group in grouped.values():
        group.sort(key=lambda o: o[2])
        pairs += [(a, b) for a, b in zip(group, group[1:], strict=False) if a[3] is not None and b[2] < a[3]]
    return pairs
