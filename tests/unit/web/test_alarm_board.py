"""Alarms from plain status and ACD snapshot dicts, against the thresholds of settings."""

import logging

from ccctl.config import AlarmThresholds
from ccctl.web.alarm_board import AlarmBoard, evaluate

LIMITS = AlarmThresholds(caller_wait_seconds=60, queue_full_callers=3, service_level_target=0.8, agent_max_no_answer=2)
CONNECTED = {"esl": {"inbound": {"status": "connected", "address": "127.0.0.1:8021"}}}


def queue(name="general", waits=(), level=None) -> dict:
    return {
        "name": name,
        "waiting": [{"call_uuid": f"c{i}", "wait_seconds": w, "priority": 0} for i, w in enumerate(waits)],
        "longest_wait_seconds": max(waits, default=0),
        "agents_by_state": {},
        "service_level_today": level,
        "abandoned_today": 0,
        "answered_today": 0,
    }


def kinds(alarms) -> list[tuple[str, str]]:
    return [(a.kind, a.subject) for a in alarms]


def test_quiet_system_has_no_alarms():
    assert evaluate(CONNECTED, {"queues": [queue(waits=(5,), level=0.95)], "agents": []}, LIMITS, 50.0) == []
    assert evaluate(CONNECTED, None, LIMITS, None) == []


def test_lost_freeswitch_link_and_low_disk():
    lost = {"esl": {"inbound": {"status": "connecting", "address": "10.1.1.1:8021"}}}
    alarms = evaluate(lost, None, LIMITS, 4.2)
    assert kinds(alarms) == [("esl_lost", ""), ("disk_low", ".")]
    assert alarms[0].text == "inbound ESL to FreeSWITCH 10.1.1.1:8021 is connecting"
    assert alarms[1].text == "disk of .: 4.2% free (under 10.0%)"


def test_queue_alarms_name_the_queue():
    snapshot = {"queues": [queue("cardio", waits=(61, 10, 3), level=0.5)], "agents": []}
    alarms = evaluate(CONNECTED, snapshot, LIMITS, 50.0)
    assert kinds(alarms) == [("caller_waiting", "cardio"), ("queue_full", "cardio"), ("service_level", "cardio")]
    assert alarms[0].text == "queue cardio: a caller waits 61 s (over 60 s)"
    assert alarms[2].text == "queue cardio: service level 50% under the target 80%"


def test_agent_letting_offers_ring_out():
    snapshot = {"queues": [], "agents": [{"name": "ola", "no_answer_count": 2}, {"name": "jan", "no_answer_count": 1}]}
    assert kinds(evaluate(CONNECTED, snapshot, LIMITS, None)) == [("agent_no_answer", "ola")]


def test_board_logs_an_alarm_when_it_starts_and_when_it_ends(caplog):
    board = AlarmBoard(AlarmThresholds(disk_free_percent=0.0))
    lost = {"esl": {"inbound": {"status": "disconnected", "address": "x:1"}}}
    with caplog.at_level(logging.INFO, logger="ccctl.alarms"):
        board.update(lost, None)
        board.update(lost, None)
        board.update(CONNECTED, None)
    assert [r.getMessage() for r in caplog.records] == [
        "alarm: inbound ESL to FreeSWITCH x:1 is disconnected",
        "alarm cleared: inbound ESL to FreeSWITCH x:1 is disconnected",
    ]
