"""Several switches: each node that is not connected is a node_lost alarm naming it."""

from ccctl.config import AlarmThresholds
from ccctl.web.alarm_board import evaluate


def node(name: str, status: str, address: str) -> dict:
    return {"name": name, "status": status, "address": address, "last_error": ""}


def test_a_lost_node_raises_an_alarm_naming_it_and_the_others_stay_quiet():
    status = {
        "esl": {
            "inbound": {"status": "connected", "address": "10.0.0.11:8021"},
            "nodes": [node("fs-a", "connected", "10.0.0.11:8021"), node("fs-b", "connecting", "10.0.0.12:8021")],
        }
    }
    alarms = evaluate(status, None, AlarmThresholds(), None)
    assert [(a.kind, a.subject, a.text) for a in alarms] == [
        ("node_lost", "fs-b", "FreeSWITCH node fs-b (10.0.0.12:8021) is connecting")
    ]


def test_the_first_node_lost_is_one_alarm_not_two():
    status = {
        "esl": {
            "inbound": {"status": "disconnected", "address": "10.0.0.11:8021"},
            "nodes": [node("fs-a", "disconnected", "10.0.0.11:8021"), node("fs-b", "connected", "10.0.0.12:8021")],
        }
    }
    assert [(a.kind, a.subject) for a in evaluate(status, None, AlarmThresholds(), None)] == [("node_lost", "fs-a")]


def test_one_switch_keeps_its_esl_lost_alarm():
    status = {
        "esl": {
            "inbound": {"status": "connecting", "address": "10.0.0.11:8021"},
            "nodes": [node("", "connecting", "10.0.0.11:8021")],
        }
    }
    assert [a.kind for a in evaluate(status, None, AlarmThresholds(), None)] == ["esl_lost"]
