"""SwitchNodes: a call's commands go to the node its channel is on; calls we place go to live nodes in turn."""

from __future__ import annotations

from ccctl.config import EslNode, EslSettings
from ccctl.esl.inbound import EslUnavailable, InboundState
from ccctl.esl.nodes import EveryNode, SwitchNodes


class FakeNode:
    """A switch's inbound client: the channels it holds, whether it is connected, the commands it got."""

    def __init__(self, address: str, channels: set[str] = frozenset()) -> None:
        self.state = InboundState(status="connected", address=address, connects=1)
        self.channels = set(channels)
        self.commands: list[str] = []

    def api(self, command: str, timeout: float | None = None) -> str:
        if self.state.status != "connected":
            raise EslUnavailable(f"inbound ESL to {self.state.address} is {self.state.status}")
        self.commands.append(command)
        verb, _, uuid = command.partition(" ")
        return ("true" if uuid in self.channels else "false") if verb == "uuid_exists" else "+OK"

    def bgapi(self, command: str, timeout: float | None = None) -> str:
        self.commands.append(f"bgapi {command}")
        return f"job-{len(self.commands)}@{self.state.address}"

    def wait_job(self, job_uuid: str, timeout: float | None = None) -> str:
        assert job_uuid.endswith(self.state.address), "a job is collected from the node that runs it"
        return "+OK placed"

    def on(self, name: str, handler) -> None:
        self.commands.append(f"on {name}")


def two_nodes() -> tuple[SwitchNodes, FakeNode, FakeNode]:
    a, b = FakeNode("10.0.0.11:8021", {"call-a"}), FakeNode("10.0.0.12:8021", {"call-b"})
    return SwitchNodes({"fs-a": a, "fs-b": b}), a, b


def test_a_call_learnt_from_its_socket_goes_to_its_node_without_asking():
    nodes, a, b = two_nodes()
    nodes.learn("call-b", "fs-b")
    assert nodes.client_for("call-b") is b and nodes.node_of("call-b") == "fs-b"
    assert nodes.client_for("fs-a") is a
    assert a.commands == b.commands == []
    nodes.forget("call-b")
    assert nodes.node_of("call-b") == ""


def test_an_unknown_call_is_found_on_the_node_that_has_it_and_remembered():
    nodes, a, b = two_nodes()
    assert nodes.client_for("call-b") is b
    assert nodes.node_of("call-b") == "fs-b"
    assert nodes.client_for("call-nowhere") is a  # the default node answers "no such channel"


def test_a_switchname_this_controller_does_not_drive_is_not_learnt():
    nodes, a, _ = two_nodes()
    nodes.learn("call-x", "fs-z")
    assert nodes.node_of("call-x") == ""


def test_a_call_is_known_gone_only_when_every_node_that_may_hold_it_answers():
    nodes, a, b = two_nodes()
    assert nodes.exists("call-a") is True
    assert nodes.exists("call-gone") is False
    b.state.status = "connecting"
    assert nodes.exists("call-gone") is None  # it may be on fs-b
    assert nodes.exists("call-a") is True  # learnt on fs-a: fs-b is not asked
    nodes.learn("call-b", "fs-b")
    assert nodes.exists("call-b") is None


def test_calls_we_place_go_to_live_nodes_in_turn():
    nodes, a, b = two_nodes()
    assert [nodes.next_live() for _ in range(4)] == [a, b, a, b]
    a.state.status = "disconnected"
    assert [nodes.next_live() for _ in range(3)] == [b, b, b]
    b.state.status = "disconnected"
    assert nodes.next_live() is None


def test_a_lost_node_and_its_return_are_told_once_each():
    nodes, a, b = two_nodes()
    told: list[tuple[str, str]] = []
    nodes.on_lost(lambda name: told.append(("lost", name)))
    nodes.on_back(lambda name: told.append(("back", name)))
    nodes.check()
    b.state.status = "connecting"
    nodes.check()
    nodes.check()
    b.state.status, b.state.connects = "connected", 2
    nodes.check()
    assert told == [("lost", "fs-b"), ("back", "fs-b")]
    assert [(s["name"], s["status"]) for s in nodes.states()] == [("fs-a", "connected"), ("fs-b", "connected")]


def test_without_esl_nodes_the_one_inbound_switch_is_the_only_node():
    single = SwitchNodes.from_settings(EslSettings(inbound_host="10.0.0.5", inbound_port=9021), "fs-a")
    assert [(s["name"], s["address"]) for s in single.states()] == [("fs-a", "10.0.0.5:9021")]
    several = SwitchNodes.from_settings(EslSettings(nodes=[EslNode("fs-a", "10.0.0.11"), EslNode("fs-b", "10.0.0.12")]))
    assert [(s["name"], s["address"]) for s in several.states()] == [
        ("fs-a", "10.0.0.11:8021"),
        ("fs-b", "10.0.0.12:8021"),
    ]


def test_a_node_that_connected_and_dropped_between_two_checks_is_lost_too():
    nodes, _, b = two_nodes()
    lost: list[str] = []
    nodes.on_lost(lost.append)
    b.state.status, b.state.connects = "connecting", 0
    nodes.check()  # fs-b not connected yet: nothing to tell
    b.state.connects = 1  # it connected and dropped again before the next look
    nodes.check()
    assert lost == ["fs-b"]


def test_campaign_calls_spread_over_live_nodes_and_their_commands_follow_each_call():
    nodes, a, b = two_nodes()
    every = EveryNode(nodes)
    jobs = [every.bgapi(f"originate sofia/trunk/06{i} &park") for i in range(3)]
    assert [every.wait_job(job) for job in jobs] == ["+OK placed"] * 3
    assert [c for c in a.commands if c.startswith("bgapi")] == [
        "bgapi originate sofia/trunk/060 &park",
        "bgapi originate sofia/trunk/062 &park",
    ]
    assert [c for c in b.commands if c.startswith("bgapi")] == ["bgapi originate sofia/trunk/061 &park"]
    uuid = "5d3c1f0e-0a1b-4c2d-8e9f-0123456789ab"
    nodes.learn(uuid, "fs-b")
    every.api(f"uuid_kill {uuid}")
    assert b.commands[-1] == f"uuid_kill {uuid}"
    every.on("CHANNEL_HANGUP_COMPLETE", print)
    assert a.commands[-1] == b.commands[-1] == "on CHANNEL_HANGUP_COMPLETE"
