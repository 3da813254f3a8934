"""esl.max_calls: a controller at its limit closes a new call's socket at once, and `ccctl status` says so."""

import socket

import gevent
from serve_status import status_of

from ccctl.config import Settings
from ccctl.serve.client import format_status
from ccctl.serve.controller import Controller


def test_a_call_over_max_calls_is_closed_at_once_and_counted(tmp_path):
    settings = Settings()
    settings.database.url = f"sqlite:///{tmp_path / 'ccctl.db'}"  # never the checkout's var/
    settings.web.secret_key = "test-secret"  # else one is written into var/ of the checkout
    settings.esl.outbound_port = settings.web.port = 0
    settings.esl.max_calls = 1
    controller = Controller(settings, record_sink=lambda record: None, connect_inbound=False)
    controller.start()
    try:
        first = socket.create_connection(controller.outbound_address)  # a call: the controller sends `connect`
        assert first.recv(100).startswith(b"connect")
        second = socket.create_connection(controller.outbound_address)
        second.settimeout(5)
        assert second.recv(100) == b""  # closed without a word: FreeSWITCH goes on to the after-socket step
        outbound = status_of(controller)["esl"]["outbound"]
        assert (outbound["max_calls"], outbound["refused"]) == (1, 1)
        assert "1 calls refused over esl.max_calls (1)" in format_status(status_of(controller))
        first.close()
        gevent.sleep(0.1)
    finally:
        controller.stop(grace=1)
