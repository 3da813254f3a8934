"""Alarm notices to the supervisor on duty (once per alarm per period, e-mail and SMS) and the gateway checks."""

import dataclasses
import socket
from types import SimpleNamespace

import pytest

from ccctl.config import AlarmThresholds, ConfigError, Settings, load_settings
from ccctl.web.alarm_board import AlarmBoard
from ccctl.web.alarm_notify import AlarmNotifier, GatewayWatch, check_fax

DOWN = {"esl": {"inbound": {"status": "connecting", "address": "127.0.0.1:8021"}}}
UP = {"esl": {"inbound": {"status": "connected", "address": "127.0.0.1:8021"}}}


def settings_with(**alarms) -> Settings:
    settings = Settings()
    limits = dataclasses.replace(settings.web.alarms, **alarms)
    return dataclasses.replace(settings, web=dataclasses.replace(settings.web, alarms=limits))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def notified_board(settings: Settings, clock: Clock, mails: list, texts: list, mail_fails: bool = False):
    def mail(to, subject, text):
        if mail_fails:
            raise RuntimeError("SMTP 127.0.0.1:25 refused the connection")
        mails.append((to, subject, text))

    notifier = AlarmNotifier(settings, send_mail=mail, send_sms=lambda to, text: texts.append((to, text)), clock=clock)
    sends = []

    def notify(alarm):
        greenlet = notifier.started(alarm)
        if greenlet is not None:
            sends.append(greenlet)
            greenlet.join()

    return AlarmBoard(settings.web.alarms, notify=notify, clock=clock), sends


def test_the_supervisor_on_duty_hears_of_an_alarm_once_per_period_by_mail_and_sms():
    settings = settings_with(
        notify_email="duty@hospital.example", notify_sms="+48600999000", notify_every_minutes=30, notify_after_seconds=0
    )
    clock, mails, texts = Clock(), [], []
    board, _ = notified_board(settings, clock, mails, texts)
    board.update(DOWN, None)
    board.update(DOWN, None)  # still the same alarm
    ((to, subject, text),) = mails
    assert (to, subject) == ("duty@hospital.example", "Contact center alarm: esl_lost")
    assert text.startswith("inbound ESL to FreeSWITCH 127.0.0.1:8021 is connecting")
    assert texts == [
        ("+48600999000", "Contact center alarm: esl_lost: inbound ESL to FreeSWITCH 127.0.0.1:8021 is connecting")
    ]
    clock.now += 29 * 60  # it clears and returns within the period: no second notice
    board.update(UP, None)
    board.update(DOWN, None)
    assert len(mails) == 1 and len(texts) == 1
    clock.now += 2 * 60
    board.update(UP, None)
    board.update(DOWN, None)
    assert len(mails) == 2 and len(texts) == 2


def test_a_mail_server_that_is_down_does_not_silence_the_sms():
    settings = settings_with(notify_email="duty@hospital.example", notify_sms="+48600999000", notify_after_seconds=0)
    mails, texts = [], []
    board, _ = notified_board(settings, Clock(), mails, texts, mail_fails=True)
    board.update(DOWN, None)
    assert mails == [] and len(texts) == 1


def test_an_alarm_is_told_only_once_it_has_lasted_notify_after_seconds():
    settings = settings_with(notify_email="duty@hospital.example", notify_after_seconds=15)
    clock, mails = Clock(), []
    board, _ = notified_board(settings, clock, mails, [])
    board.update(DOWN, None)  # the switch link while the controller starts...
    clock.now += 5
    board.update(UP, None)  # ...connected within seconds: nobody is told
    board.update(DOWN, None)
    clock.now += 14
    board.update(DOWN, None)
    assert mails == []
    clock.now += 1
    board.update(DOWN, None)
    board.update(DOWN, None)
    assert [subject for _, subject, _ in mails] == ["Contact center alarm: esl_lost"]


def test_without_anyone_on_duty_set_nothing_is_sent():
    mails, texts = [], []
    board, sends = notified_board(Settings(), Clock(), mails, texts)
    board.update(DOWN, None)
    assert sends == [] and mails == [] and texts == []


def test_unreachable_mail_and_sms_gateways_raise_gateway_down_alarms():
    with socket.socket() as listening, socket.socket() as closed:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        free = closed.getsockname()[1]
        settings = settings_with(gateways=["mail", "sms"])
        email = dataclasses.replace(settings.email, smtp_host="127.0.0.1", smtp_port=listening.getsockname()[1])
        sms = dataclasses.replace(settings.sms, sendsms_url=f"http://127.0.0.1:{free}/cgi-bin/sendsms")
        settings = dataclasses.replace(settings, email=email, sms=sms)
        watch = GatewayWatch(settings)
        assert {name: s["status"] for name, s in watch.check_now().items()} == {"mail": "up", "sms": "down"}
        alarms = AlarmBoard(settings.web.alarms, gateways=watch.current).update(UP, None)
    (alarm,) = alarms
    assert (alarm.kind, alarm.subject) == ("gateway_down", "sms")
    assert alarm.text.startswith(f"sms gateway down: 127.0.0.1:{free} unreachable")


def test_the_fax_gateway_is_asked_of_the_switch():
    settings = settings_with(gateways=["fax"])

    def switch(answer):
        return SimpleNamespace(state=SimpleNamespace(status="connected"), api=lambda command, timeout: answer)

    assert check_fax(settings, switch("Name trunk\nState NOREG\nStatus UP\n")) == ""
    assert check_fax(settings, switch("Invalid Gateway!\n")) == "fax gateway trunk: down"
    assert check_fax(settings, switch("Name trunk\nState FAIL_WAIT\n")) == "fax gateway trunk: down"
    assert check_fax(settings, None) == "fax gateway trunk: the switch connection is down"


def test_an_unknown_gateway_name_is_refused_at_load(tmp_path):
    config = tmp_path / "ccctl.yaml"
    config.write_text("web:\n  alarms:\n    gateways: [mail, pager]\n")
    with pytest.raises(ConfigError, match="'web.alarms.gateways' has 'pager': use mail, sms or fax"):
        load_settings(config, environ={})
    assert AlarmThresholds().gateways == []


def test_a_notice_is_written_in_the_supervisors_language_else_in_the_sites():
    mails, texts = [], []
    settings = settings_with(notify_email="duty@hospital.example", notify_sms="+48600999000", notify_language="zh")
    AlarmNotifier(settings, send_mail=lambda *mail: mails.append(mail), send_sms=lambda *sms: texts.append(sms)).send(
        AlarmBoard(settings.web.alarms).update(DOWN, None)[0]
    )
    ((_, subject, text),) = mails
    assert subject == "呼叫中心告警：esl_lost"
    assert text.startswith("到 FreeSWITCH 127.0.0.1:8021 的入站 ESL 连接状态：connecting\n\n开始于 ")
    assert texts == [
        ("+48600999000", "呼叫中心告警：esl_lost: 到 FreeSWITCH 127.0.0.1:8021 的入站 ESL 连接状态：connecting")
    ]

    site = settings_with(notify_email="duty@hospital.example")  # no language of the supervisor's: the site's
    site = dataclasses.replace(site, hotlines=[dataclasses.replace(site.hotlines[0], language="pl")])
    notifier = AlarmNotifier(site, send_mail=lambda *mail: mails.append(mail))
    assert notifier.language == "pl"
    notifier.send(AlarmBoard(site.web.alarms).update(DOWN, None)[0])
    (_, subject, text) = mails[-1]
    assert subject == "Alarm centrum kontaktowego: esl_lost"
    assert text.startswith("połączenie ESL do FreeSWITCH 127.0.0.1:8021: connecting\n\nod ")
