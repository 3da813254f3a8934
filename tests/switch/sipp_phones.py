"""SIPp as an agent's or supervisor's phone placing a call: an INVITE answered with digest credentials.

The agents profile authenticates every call (auth-calls=true): FreeSWITCH answers the first INVITE
with 407, the phone ACKs it and sends the INVITE again with the directory password, as a softphone does.
After the answer the steps of tests/switch/sipp.py run (wait, press, hang_up, until_switch_hangs_up).
"""

from __future__ import annotations

import sipp

_FROM = 'From: "[caller]" <sip:[caller]@[domain]>;tag=[pid]SIPpTag00[call_number]'
_INVITE = """  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[domain] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      {from_}
      To: <sip:[service]@[domain]>
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Max-Forwards: 70
      {auth}Content-Type: application/sdp
      Content-Length: [len]

      {sdp}
    ]]></send>
"""
# an ACK to a final error response belongs to the INVITE's transaction: its Via (branch) and the To tag
_ACK_ERROR = """  <send><![CDATA[
      ACK sip:[service]@[domain] SIP/2.0
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
"""
_ACK = """  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      {from_}
      [last_To:]
      [last_Call-ID:]
      CSeq: 2 ACK
      Contact: <sip:[caller]@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]></send>
"""


def authenticated_call_scenario(extension: str, password: str, steps: list[sipp.Step]) -> str:
    """Call [service] as `extension` (SIPp keys: caller, domain), answer the 407 challenge, then the steps.

    SIPp does not expand keywords inside [authentication ...]: the credentials are written in.
    """
    sdp = sipp._sdp(False)
    auth = f"[authentication username={extension} password={password}]\n      "
    out = [sipp._HEAD.format(name="phone-call")]
    out.append(_INVITE.format(from_=_FROM, cseq=1, auth="", sdp=sdp))
    out.append('  <recv response="100" optional="true"/>\n')
    out.append('  <recv response="407" auth="true"/>\n')
    out.append(_ACK_ERROR)
    out.append(_INVITE.format(from_=_FROM, cseq=2, auth=auth, sdp=sdp))
    out.append('  <recv response="100" optional="true"/>\n')
    out.append('  <recv response="180" optional="true"/>\n')
    out.append('  <recv response="183" optional="true"/>\n')
    out.append('  <recv response="200" rrs="true" rtd="true"/>\n')
    out.append(_ACK.format(from_=_FROM))
    out.extend(sipp.numbered(steps, first_cseq=3))
    out.append("</scenario>\n")
    return "".join(out)
