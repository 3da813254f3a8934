"""`api uuid_dump` on the emulator's inbound Event Socket, in mod_commands' formats.

uuid_dump_function writes the channel as a CHANNEL_DATA event: url-encoded `Name: value` lines by
default, `[value]` unencoded with `plain`, one JSON object with `json` (what ccctl's queue adoption
reads after a crash), or XML.
"""

from __future__ import annotations

import json
import socket
import time
import xml.etree.ElementTree as ET
from urllib.parse import unquote

import pytest

from ccctl.esl.protocol import FrameReader
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.switch import Switch

PARKED = """<include><context name="public"><extension name="wait">
  <condition field="destination_number" expression="^7000$">
    <action application="set" data="cc_hotline=main"/>
    <action application="set" data="cc_note=seen at 10:30 &amp; again"/>
    <action application="answer"/>
    <action application="park"/>
  </condition>
</extension></context></include>"""


class Inbound:
    """An authenticated inbound Event Socket connection."""

    def __init__(self, address, password: str = "ClueCon") -> None:
        self.sock = socket.create_connection(address, timeout=5)
        self.reader = FrameReader(self.sock)
        self.reader.read_frame()  # auth/request
        self.sock.sendall(f"auth {password}\n\n".encode())
        assert self.reader.read_frame().reply_text.startswith("+OK")

    def api(self, command: str) -> str:
        self.sock.sendall(f"api {command}\n\n".encode())
        frame = self.reader.read_frame()
        assert frame.content_type == "api/response"
        return frame.body.decode()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def parked_call():
    """A caller answered and parked on the emulator, and an inbound connection to it."""
    switch = Switch(Dialplan.from_xml(PARKED), time_factor=20, hostname="vm").start()
    call = switch.place_call(CallerScript(caller="0612345678", destination="7000", context="public"))
    deadline = time.monotonic() + 5
    channel = switch.channels.get(call.uuid)
    while channel is None or channel.get_var("current_application") != "park":
        assert time.monotonic() < deadline, "the call never reached park"
        time.sleep(0.01)
        channel = switch.channels.get(call.uuid)
    inbound = Inbound(switch.esl_address)
    try:
        yield call.uuid, inbound
    finally:
        inbound.close()
        switch.stop()


def _lines(text: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in text.splitlines() if line)


def test_uuid_dump_json_is_the_channel_as_one_object(parked_call):
    uuid, inbound = parked_call
    dump = inbound.api(f"uuid_dump {uuid} json")
    assert "\n" not in dump  # cJSON_PrintUnformatted
    fields = json.loads(dump)
    assert list(fields)[:3] == ["Event-Name", "Core-UUID", "FreeSWITCH-Hostname"]
    assert fields["Event-Name"] == "CHANNEL_DATA"
    assert (fields["Event-Calling-File"], fields["Event-Calling-Function"]) == ("mod_commands.c", "uuid_dump_function")
    assert fields["Unique-ID"] == uuid
    assert (fields["Channel-State"], fields["Channel-Call-State"], fields["Answer-State"]) == (
        "CS_EXECUTE",
        "ACTIVE",
        "answered",
    )
    assert fields["Caller-Destination-Number"] == "7000"
    assert int(fields["Caller-Channel-Created-Time"]) > 0
    assert int(fields["Caller-Channel-Answered-Time"]) >= int(fields["Caller-Channel-Created-Time"])
    assert fields["variable_cc_hotline"] == "main"
    assert fields["variable_cc_note"] == "seen at 10:30 & again"
    assert fields["variable_current_application"] == "park"


def test_uuid_dump_text_is_url_encoded_lines_ending_in_a_blank_line(parked_call):
    uuid, inbound = parked_call
    dump = inbound.api(f"uuid_dump {uuid}")
    assert dump.startswith("Event-Name: CHANNEL_DATA\n")
    assert dump.endswith("\n\n")
    fields = _lines(dump)
    assert fields["variable_cc_note"] == "seen%20at%2010%3A30%20%26%20again"
    assert unquote(fields["variable_cc_note"]) == "seen at 10:30 & again"
    assert fields["Unique-ID"] == uuid
    assert inbound.api(f"uuid_dump {uuid} txt").splitlines()[0] == "Event-Name: CHANNEL_DATA"


def test_uuid_dump_plain_keeps_values_unencoded_in_brackets(parked_call):
    uuid, inbound = parked_call
    fields = _lines(inbound.api(f"uuid_dump {uuid} plain"))
    assert fields["Event-Name"] == "[CHANNEL_DATA]"
    assert fields["variable_cc_note"] == "[seen at 10:30 & again]"


def test_uuid_dump_xml_is_one_event_element(parked_call):
    uuid, inbound = parked_call
    root = ET.fromstring(inbound.api(f"uuid_dump {uuid} xml"))
    headers = root.find("headers")
    assert root.tag == "event" and headers is not None
    assert headers.findtext("Event-Name") == "CHANNEL_DATA"
    assert headers.findtext("Unique-ID") == uuid
    assert unquote(headers.findtext("variable_cc_note")) == "seen at 10:30 & again"


def test_uuid_dump_answers_a_missing_channel_and_a_missing_uuid_as_freeswitch_does(parked_call):
    _, inbound = parked_call
    assert inbound.api("uuid_dump 00000000-0000-0000-0000-000000000000 json") == "-ERR No such channel!\n"
    assert inbound.api("uuid_dump") == "-USAGE: <uuid> [format]\n"
