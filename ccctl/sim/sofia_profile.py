"""The SIP profile simulated callers arrive on (mod_sofia), read from the profile `ccctl fs render` writes.

Only what changes what a controller sees: the profile's name and address (the caller's channel is
sofia/<profile>/<number>@<ip>) and inbound-late-negotiation, which leaves the call's media to be
negotiated when the dialplan answers (sofia_answer_channel -> sofia_media_tech_media ->
switch_channel_mark_pre_answered), so CHANNEL_PROGRESS_MEDIA comes just before CHANNEL_ANSWER.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ccctl.sim.channel import switch_true


class ProfileError(ValueError):
    """A profile the emulator cannot read; the message names the file and what is wrong."""


@dataclass(frozen=True)
class SofiaProfile:
    name: str
    sip_ip: str = "127.0.0.1"
    late_negotiation: bool = False  # inbound-late-negotiation

    @classmethod
    def from_xml(cls, text: str, source: str = "<profile>") -> SofiaProfile:
        """One rendered sip_profiles/<name>.xml: `<profile name=...><settings><param name= value=/>`."""
        try:
            root = ET.fromstring(text)
        except ET.ParseError as exc:
            raise ProfileError(f"{source}: not valid XML ({exc})") from exc
        profile = root if root.tag == "profile" else root.find(".//profile")
        if profile is None or not profile.get("name"):
            raise ProfileError(f"{source}: no <profile name=...> element")
        params = {p.get("name", "").lower(): p.get("value", "") for p in profile.iterfind("settings/param")}
        return cls(
            name=profile.get("name", ""),
            sip_ip=params.get("sip-ip") or "127.0.0.1",
            late_negotiation=switch_true(params.get("inbound-late-negotiation")),
        )

    def channel_name(self, caller: str) -> str:
        """sofia/<profile>/<from user>@<from host>; the emulator's callers come from the profile's own address."""
        return f"sofia/{self.name}/{caller}@{self.sip_ip}"
