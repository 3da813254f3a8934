"""Settings used by the FreeSWITCH configuration tests and the rendered directory they inspect."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fs_preprocessor import Assembly

from ccctl.config import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[3]

SEVERAL_HOTLINES = """\
esl:
  outbound_host: 127.0.0.1
  outbound_port: 9084
  inbound_port: 9021
  password: "p&ss<w>r'd\\"x"
freeswitch:
  domain: hospital.example.org
  agents_sip_port: 5070
  trunk_sip_port: 5090
  sip_ip: 192.0.2.20
  trunk_acl: [203.0.113.0/28, 198.51.100.7, "2001:db8::/48"]
  agent_extensions: 200-215
  agents_password: "Ag&nt<s>"
  tts_engine: tts_commandline
  tts_voice: kal
hotlines:
  - {name: main, did: "7000"}
  - {name: cardiology, did: "+493012345"}
  - {name: lab-results, did: "08001234"}
  - {name: pharmacy, did: "7001"}
"""


@dataclass
class Rendered:
    settings: Settings
    out: Path
    written: list[str]
    assembly: Assembly


def several_hotlines_settings(tmp_path: Path) -> Settings:
    path = tmp_path / "several.yaml"
    path.write_text(SEVERAL_HOTLINES)
    return load_settings(path, environ={})


def example_settings() -> Settings:
    return load_settings(REPO_ROOT / "ccctl.yaml", environ={})
