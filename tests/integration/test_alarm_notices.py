"""A running controller tells the supervisor on duty by e-mail (a real SMTP server) that the switch connection
is lost and that the SMS gateway is down, each once, however many times the alarms are checked."""

import dataclasses
import socket

import gevent
from email_servers import smtp_server  # noqa: F401 - the fixture
from emulated_site import site_settings

from ccctl.serve.controller import Controller
from ccctl.web.wallboard import watch_alarms


def wait_for(predicate, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if predicate():
            return
        gevent.sleep(0.1)
    raise AssertionError("not reached in time")


def test_the_supervisor_on_duty_gets_one_mail_per_alarm(sqlite_url, tmp_path, smtp_server):  # noqa: F811
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # nothing listens here: Kannel is down
        kannel = closed.getsockname()[1]
        settings = site_settings(sqlite_url, tmp_path)
        alarms = dataclasses.replace(
            settings.web.alarms, notify_email="duty@hospital.example", gateways=["sms"], notify_after_seconds=0.3
        )
        settings = dataclasses.replace(
            settings,
            # nothing listens on the inbound port either: the switch connection keeps failing
            esl=dataclasses.replace(settings.esl, inbound_port=1, reconnect_seconds=0.2),
            email=dataclasses.replace(settings.email, smtp_host=smtp_server.host, smtp_port=smtp_server.port),
            sms=dataclasses.replace(settings.sms, sendsms_url=f"http://127.0.0.1:{kannel}/cgi-bin/sendsms"),
            web=dataclasses.replace(settings.web, secret_key="x", alarms=alarms),
        )
        controller = Controller(settings, record_sink=lambda record: None)
        controller.start()
        watch = gevent.spawn(watch_alarms, controller.web_app, 0.1)
        try:
            wait_for(lambda: len(smtp_server.messages()) >= 2)
            gevent.sleep(1.0)  # ten more checks with both alarms still on
            mails = smtp_server.messages()
        finally:
            watch.kill()
            controller.stop(grace=1)
    assert sorted((m["To"], m["Subject"]) for m in mails) == [
        ("duty@hospital.example", "Contact center alarm: esl_lost"),
        ("duty@hospital.example", "Contact center alarm: gateway_down (sms)"),
    ]
    body = {m["Subject"]: m.get_content() for m in mails}
    assert body["Contact center alarm: gateway_down (sms)"].startswith(
        f"sms gateway down: 127.0.0.1:{kannel} unreachable"
    )
    assert "inbound ESL to FreeSWITCH 127.0.0.1:1" in body["Contact center alarm: esl_lost"]
