"""A Controller on ephemeral ports driven over TCP by switches replaying the real FreeSWITCH transcripts."""

import socket
import urllib.request

import gevent
import pytest
import transcript
from replay_switch import ReplaySwitch

from ccctl.callflow import Execute, Finish
from ccctl.config import Settings
from ccctl.records.migrate import upgrade
from ccctl.serve.client import StatusUnavailable, fetch_status, format_status
from ccctl.serve.controller import Controller

BASIC_TONE = "tone_stream://%(200,100,440);loops=2"


class BasicTranscriptFlow:
    """The commands basic.txt recorded: answer, a tone, hang up."""

    def __init__(self):
        self.path = []
        self._commands = [Execute("answer"), Execute("playback", BASIC_TONE), Finish()]

    def start(self, call):
        return self._next()

    def resume(self, result):
        self.path.append(f"{result.app}={result.response}")
        return self._next()

    def _next(self):
        return self._commands.pop(0)


@pytest.fixture
def controller(tmp_path):
    settings = Settings()
    settings.esl.outbound_port = 0
    settings.web.port = 0
    settings.database.url = f"sqlite:///{tmp_path / 'ccctl.db'}"  # the console keeps its sessions there
    settings.web.secret_key = "test-secret"  # else one is written into var/ of the checkout
    upgrade(settings.database.url)
    records = []
    ctl = Controller(
        settings, app_factory=lambda call: BasicTranscriptFlow(), record_sink=records.append, connect_inbound=False
    )
    ctl.start()
    ctl.records = records
    yield ctl
    ctl.stop(grace=1)


def dial(ctl: Controller, section) -> ReplaySwitch:
    """Connect to the controller as FreeSWITCH's `socket` application would and replay one call."""
    sock = socket.create_connection(ctl.outbound_address)
    switch = ReplaySwitch(sock, section)
    gevent.spawn(switch.play).join(timeout=10)
    return switch


def wait_for_records(ctl, count):
    with gevent.Timeout(5):
        while len(ctl.records) < count:
            gevent.sleep(0.005)


def test_basic_call_through_the_controller(controller):
    switch = dial(controller, transcript.load("basic").sections["outbound"])
    wait_for_records(controller, 1)
    assert switch.mismatch == ""
    [record] = controller.records
    assert record.uuid == "b6010214-1d63-4a93-af4e-1e47b972a484"
    assert record.hotline == "main"
    assert record.caller_number == "13800000001"
    assert record.destination == "7000"
    assert record.disposition == "completed"
    assert record.hangup_cause == "NORMAL_CLEARING"
    assert record.path == ["answer=_none_", "playback=FILE PLAYED"]
    assert record.answered_at is not None and record.error == ""
    calls = controller.status()["calls"]
    assert (calls["completed"], calls["active"], calls["total"]) == (1, 0, 1)


def test_caller_hangup_through_the_controller(controller):
    section = transcript.load("caller_hangup").sections["outbound"]
    # the flow plays basic's tone; the replayer checks application names only
    dial(controller, section)
    wait_for_records(controller, 1)
    assert controller.records[0].disposition == "abandoned"
    assert controller.status()["calls"]["abandoned"] == 1


@pytest.mark.parametrize(
    "garbage",
    [
        b"Content-Type command/reply\n\n",
        b"Content-Length: 4000\nContent-Type: command/reply\n\nEvent-Name: CHANNEL_DATA\n",
    ],
    ids=["malformed", "truncated"],
)
def test_broken_connection_is_dropped_and_the_next_call_served(controller, garbage):
    sock = socket.create_connection(controller.outbound_address)
    assert sock.recv(100) == b"connect\n\n"
    sock.sendall(garbage)
    sock.shutdown(socket.SHUT_WR)
    with gevent.Timeout(5):
        assert sock.recv(100) == b""  # the controller hung up on this connection only
    sock.close()
    dial(controller, transcript.load("basic").sections["outbound"])
    wait_for_records(controller, 1)
    assert controller.records[0].disposition == "completed"
    assert controller.status()["calls"]["dropped"] == 1


def test_status_endpoint_and_client(controller):
    dial(controller, transcript.load("basic").sections["outbound"])
    wait_for_records(controller, 1)
    host, port = controller.web_address
    settings = Settings()
    settings.web.host, settings.web.port = host, port
    data = fetch_status(settings)
    assert data["calls"]["completed"] == 1
    assert data["esl"]["outbound"]["listening"] == controller.outbound_address_text
    assert data["esl"]["inbound"]["status"] == "disabled"
    assert data["cps"] == pytest.approx(0.1)
    text = format_status(data)
    assert "0 active, 1 completed, 0 abandoned, 0 failed, 1 total" in text
    assert f"listening on {host}:{controller.outbound_address[1]}" in text
    with urllib.request.urlopen(f"http://{host}:{port}/") as page:
        assert b'action="/login"' in page.read()  # the console's front door


def test_status_client_names_the_address_when_nothing_answers():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings()
    settings.web.port = port
    with pytest.raises(StatusUnavailable) as caught:
        fetch_status(settings)
    assert str(caught.value) == f"no ccctl serve answering on http://127.0.0.1:{port} (connection refused)"
