"""SIPp as the people on the phone: patients calling a hotline DID, agents' registered softphones.

Each scenario is built here as SIPp XML from a short script of steps, so a test reads as what the
caller does ("press 1", "wait 2 s", "hang up"). SIPp runs in the test's own directory on loopback.
"""

from __future__ import annotations

import itertools
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

SIPP = shutil.which("sipp") or "/usr/bin/sipp"
# SIPp's own RTP event recordings (RFC 2833 telephone-event), shipped by Debian's sip-tester
DTMF_PCAP_DIR = Path("/usr/share/sip-tester")
PCAP_NAMES = {"*": "star", "#": "pound"}

_HEAD = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
"""
_DIALOG = """Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "[caller]" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Max-Forwards: 70"""


def _sdp(telephone_event: bool) -> str:
    formats = "0 101" if telephone_event else "0"
    lines = [
        "v=0",
        "o=- 53655765 2353687637 IN IP[local_ip_type] [local_ip]",
        "s=-",
        "c=IN IP[media_ip_type] [media_ip]",
        "t=0 0",
        f"m=audio [auto_media_port] RTP/AVP {formats}",
        "a=rtpmap:0 PCMU/8000",
    ]
    if telephone_event:
        lines += ["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-16"]
    lines.append("a=sendrecv")
    return "\n      ".join(lines)


@dataclass
class Step:
    xml: str
    requests: int = 0  # new requests (CSeq numbers) this step sends


def press(digits: str, gap_ms: int = 300) -> list[Step]:
    """Keys as SIP INFO (application/dtmf-relay), one request per key, gap_ms apart."""
    steps = []
    for digit in digits:
        steps.append(Step(_info(digit), requests=1))
        steps.append(wait(gap_ms))
    return steps


def press_rfc2833(digits: str, gap_ms: int = 300) -> list[Step]:
    """Keys as RTP telephone-events (RFC 2833), from SIPp's recorded event packets."""
    steps = []
    for digit in digits:
        pcap = DTMF_PCAP_DIR / f"dtmf_2833_{PCAP_NAMES.get(digit, digit)}.pcap"
        steps.append(Step(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'))
        steps.append(wait(gap_ms))
    return steps


def keypad_rfc2833(digits: str, folder: Path, gap_ms: int = 300) -> list[Step]:
    """Keys as RTP telephone-events gap_ms apart, each press its own event as a phone sends them: SIPp's recordings all
    start at one sequence number and timestamp per digit, and the switch drops an event whose sequence number
    is not past the last one's (a second 2, or a 1 just after a 2), so each press gets its own copy in
    `folder` with the sequence and timestamp moved past the previous press's."""
    steps = []
    for index, digit in enumerate(digits):
        source = DTMF_PCAP_DIR / f"dtmf_2833_{PCAP_NAMES.get(digit, digit)}.pcap"
        target = folder / f"key-{index}-{PCAP_NAMES.get(digit, digit)}.pcap"
        target.write_bytes(_renumbered(source.read_bytes(), first_seq=20000 + 100 * index, ts=400000 + 16000 * index))
        if index:
            steps.append(wait(gap_ms))
        steps.append(Step(f'  <nop><action><exec play_pcap_audio="{target}"/></action></nop>\n'))
    return steps


def _renumbered(pcap: bytes, first_seq: int, ts: int) -> bytes:
    """An Ethernet/IPv4/UDP/RTP capture with its RTP sequence numbers from first_seq and every timestamp ts."""
    out, offset, first = bytearray(pcap[:24]), 24, None
    while offset < len(pcap):
        length = struct.unpack("<I", pcap[offset + 8 : offset + 12])[0]
        packet = bytearray(pcap[offset + 16 : offset + 16 + length])
        rtp = 14 + (packet[14] & 0x0F) * 4 + 8  # Ethernet, the IPv4 header's length, UDP
        seq = struct.unpack("!H", packet[rtp + 2 : rtp + 4])[0]
        first = seq if first is None else first
        packet[rtp + 2 : rtp + 8] = struct.pack("!HI", first_seq + seq - first, ts)
        out += pcap[offset : offset + 16] + packet
        offset += 16 + length
    return bytes(out)


def wait(ms: int) -> Step:
    return Step(f'  <pause milliseconds="{int(ms)}"/>\n')


def hang_up() -> Step:
    """The patient hangs up (BYE), and the call ends for them."""
    return Step(
        '  <send retrans="500"><![CDATA[\n      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n      '
        + _DIALOG
        + "\n      CSeq: {cseq} BYE\n      Content-Length: 0\n    ]]></send>\n"
        '  <recv response="200" crlf="true"/>\n',
        requests=1,
    )


def until_switch_hangs_up() -> Step:
    """The patient listens until the switch hangs up (BYE from FreeSWITCH)."""
    return Step(
        '  <recv request="BYE"/>\n'
        "  <send><![CDATA[\n      SIP/2.0 200 OK\n      [last_Via:]\n      [last_From:]\n      [last_To:]\n"
        "      [last_Call-ID:]\n      [last_CSeq:]\n      Content-Length: 0\n    ]]></send>\n"
    )


def _info(digit: str) -> str:
    return (
        '  <send retrans="500"><![CDATA[\n      INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n      '
        + _DIALOG
        + "\n      CSeq: {cseq} INFO\n      Content-Type: application/dtmf-relay\n      Content-Length: [len]\n\n"
        f"      Signal={escape(digit)}\n      Duration=160\n    ]]></send>\n"
        '  <recv response="200"/>\n'
    )


def patient_scenario(steps: list[Step], telephone_event: bool = False, voice: str = "") -> str:
    """INVITE the DID, answer-wait, then the steps; `voice` is a u-law WAV the patient says throughout."""
    out = [_HEAD.format(name="patient")]
    out.append(
        '  <send retrans="500"><![CDATA[\n      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n      '
        + _DIALOG.replace("[peer_tag_param]", "")
        + "\n      CSeq: 1 INVITE\n      Content-Type: application/sdp\n      Content-Length: [len]\n\n      "
        + _sdp(telephone_event)
        + "\n    ]]></send>\n"
        '  <recv response="100" optional="true"/>\n'
        '  <recv response="180" optional="true"/>\n'
        '  <recv response="183" optional="true"/>\n'
        '  <recv response="200" rrs="true" rtd="true"/>\n'
        "  <send><![CDATA[\n      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0\n      "
        + _DIALOG
        + "\n      CSeq: 1 ACK\n      Content-Length: 0\n    ]]></send>\n"
    )
    if voice:
        out.append(f'  <nop><action><exec rtp_stream="{voice},-1,0"/></action></nop>\n')
    out.extend(numbered(steps, first_cseq=2))
    out.append("</scenario>\n")
    return "".join(out)


def numbered(steps: list[Step], first_cseq: int) -> list[str]:
    """The steps' XML with each new request's CSeq filled in, counting from first_cseq."""
    cseq = itertools.count(first_cseq)
    texts = []
    for step in steps:
        text = step.xml
        for _ in range(step.requests):
            text = text.replace("{cseq}", str(next(cseq)), 1)
        texts.append(text)
    return texts


REGISTER = """  <send retrans="500"><![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[extension]@[domain]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[extension]@[domain]>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:[extension]@[local_ip]:[local_port]>
      Expires: {expires}
      Max-Forwards: 70
      {auth}Content-Length: 0
    ]]></send>
"""


def register_scenario(extension: str, password: str, expires: int = 3600) -> str:
    """REGISTER, answer the digest challenge with the directory password, expect 200.

    SIPp does not expand keywords inside [authentication ...]: the credentials are written in.
    """
    return (
        _HEAD.format(name="register")
        + REGISTER.format(cseq=1, expires=expires, auth="")
        + '  <recv response="401" auth="true"/>\n'
        + REGISTER.format(
            cseq=2, expires=expires, auth=f"[authentication username={extension} password={password}]\n      "
        )
        + '  <recv response="200"/>\n</scenario>\n'
    )


_REPLY = """  <send{retrans}><![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:]{tag}
      [last_Call-ID:]
      [last_CSeq:]
      [last_Record-Route:]
      Contact: <sip:[extension]@[local_ip]:[local_port]>
      {body}
    ]]></send>
"""


def _reply(status: str, sdp: bool = False, retrans: bool = False, in_dialog: bool = False) -> str:
    """A response to the last request; outside the dialog (the first INVITE) it adds our To tag."""
    tag = "" if in_dialog else ";tag=[pid]SIPpTag01[call_number]"
    body = (
        "Content-Type: application/sdp\n      Content-Length: [len]\n\n      " + _sdp(False)
        if sdp
        else "Content-Length: 0"
    )
    return _REPLY.format(status=status, body=body, retrans=' retrans="500"' if retrans else "", tag=tag)


def _recv_invite(keep: tuple[str, ...]) -> str:
    """The switch's INVITE; `keep` names what later steps reuse (SIPp refuses variables set but unused):
    "ends" (From with their tag, our To without one, for a BYE the agent sends), "cseq" (for a 487)."""
    grabs = {
        "ends": '      <ereg regexp=".*" search_in="hdr" header="From:" check_it="true" assign_to="remote_from"/>\n'
        '      <ereg regexp="[^;]*" search_in="hdr" header="To:" check_it="true" assign_to="local_to"/>\n',
        "cseq": '      <ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" check_it="true" assign_to="invite_cseq"/>\n',
    }
    action = "".join(grabs[name] for name in keep)
    if not action:
        return '  <recv request="INVITE" crlf="true" rrs="true"/>\n'
    return f'  <recv request="INVITE" crlf="true" rrs="true">\n    <action>\n{action}    </action>\n  </recv>\n'


def agent_phone_scenario(answer: str = "answer", ring_ms: int = 500, talk_ms: int = 0, voice: str = "") -> str:
    """What an agent's phone does with each INVITE the switch sends it.

    answer: "answer" (ring ring_ms, pick up, talk; talk_ms > 0 hangs up after that long, else waits
    for the far end), "busy" (486), "ignore" (rings until the switch gives up and CANCELs).
    Re-INVITEs (hold, transfer) are answered with the same SDP at any point of the talk.
    """
    keep = ("cseq",) if answer == "ignore" else ("ends",) if answer == "answer" and talk_ms else ()
    out = [_HEAD.format(name=f"agent-{answer}"), _recv_invite(keep)]
    out.append(_reply("100 Trying"))
    if answer == "busy":
        out.append(_reply("486 Busy Here"))
        out.append('  <recv request="ACK"/>\n</scenario>\n')
        return "".join(out)
    out.append(_reply("180 Ringing"))
    if answer == "ignore":
        out.append('  <recv request="CANCEL"/>\n')
        out.append(_reply("200 OK"))
        out.append(_reply("487 Request Terminated").replace("[last_CSeq:]", "CSeq: [$invite_cseq] INVITE"))
        out.append('  <recv request="ACK"/>\n</scenario>\n')
        return "".join(out)
    out.append(f'  <pause milliseconds="{ring_ms}"/>\n')
    out.append(_reply("200 OK", sdp=True, retrans=True))
    out.append('  <recv request="ACK" rtd="true" crlf="true"/>\n')
    if voice:
        out.append(f'  <nop><action><exec rtp_stream="{voice},-1,0"/></action></nop>\n')
    # talking: the switch may re-INVITE (hold, media changes) any number of times, then BYE
    out.append('  <label id="talk"/>\n')
    if talk_ms:
        out.append(
            f'  <recv request="INVITE" optional="true" next="reinvite" timeout="{talk_ms}" ontimeout="agent_bye"/>\n'
        )
        out.append('  <recv request="BYE" next="far_bye"/>\n')
    else:
        out.append('  <recv request="INVITE" optional="true" next="reinvite"/>\n')
        out.append('  <recv request="BYE" next="far_bye"/>\n')
    out.append('  <label id="reinvite"/>\n')
    out.append(_reply("200 OK", sdp=True, retrans=True, in_dialog=True))
    out.append('  <recv request="ACK" next="talk"/>\n')
    if talk_ms:
        out.append(_AGENT_BYE)
    out.append('  <label id="far_bye"/>\n')
    out.append(_reply("200 OK", in_dialog=True))
    out.append('  <label id="end"/>\n</scenario>\n')
    return "".join(out)


# the agent hangs up: a BYE inside the dialog the switch opened (their From is our To)
_AGENT_BYE = (
    '  <label id="agent_bye"/>\n'
    '  <send retrans="500"><![CDATA[\n      BYE [next_url] SIP/2.0\n'
    "      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]\n"
    "      From: [$local_to];tag=[pid]SIPpTag01[call_number]\n      To: [$remote_from]\n"
    "      [last_Call-ID:]\n      CSeq: 2 BYE\n      [routes]\n      Max-Forwards: 70\n      Content-Length: 0\n    ]]></send>\n"
    '  <recv response="200" next="end"/>\n'
)
