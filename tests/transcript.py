"""Reads the real FreeSWITCH 1.10 ESL transcripts in ../shared/freeswitch/transcripts.

Each transcript becomes sections (outbound socket / inbound socket) of steps:
('send', bytes) for what the controller wrote, ('recv', bytes) for one exact frame
FreeSWITCH wrote. The emulator and the controller tests replay them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def transcripts_dir() -> Path:
    here = Path(__file__).resolve().parent
    candidates = [
        os.environ.get("CCCTL_TRANSCRIPTS", ""),
        here.parent.parent / "shared" / "freeswitch" / "transcripts",
        here / "fixtures" / "transcripts",
    ]
    for cand in candidates:
        if cand and Path(cand).is_dir():
            return Path(cand)
    raise FileNotFoundError("no FreeSWITCH transcripts found (../shared/freeswitch/transcripts)")


@dataclass
class Section:
    name: str
    steps: list[tuple[str, bytes]] = field(default_factory=list)

    def received(self) -> list[bytes]:
        return [data for kind, data in self.steps if kind == "recv"]

    def sent(self) -> list[bytes]:
        return [data for kind, data in self.steps if kind == "send"]


@dataclass
class Transcript:
    scenario: str
    sections: dict[str, Section]
    ended_by_timeout: bool = False


def _frame_bytes(lines: list[str]) -> bytes:
    """Rebuild one frame exactly: headers, blank line, then Content-Length bytes of body."""
    text = "\n".join(lines)
    head, sep, rest = text.partition("\n\n")
    length = 0
    for line in head.split("\n"):
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = rest.encode()[:length]
    return (head + "\n\n").encode() + body


def load(name: str) -> Transcript:
    path = transcripts_dir() / (name if name.endswith(".txt") else name + ".txt")
    lines = path.read_text(encoding="utf-8").split("\n")
    scenario = ""
    sections: dict[str, Section] = {}
    current: Section | None = None
    ended = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("# scenario:"):
            scenario = line.split(":", 1)[1].strip()
        elif line.startswith("# ") and "socket" in line:
            key = "outbound" if "outbound" in line else "inbound"
            current = sections.setdefault(key, Section(key))
        elif line.startswith("### ended"):
            ended = True
        elif line.startswith(">>> "):
            parts = [line[4:]]
            while i + 1 < len(lines) and lines[i + 1].startswith("    "):
                i += 1
                parts.append(lines[i][4:])
            data = "".join(p[:-2] + "\n" if p.endswith("\\n") else p for p in parts)
            if current is None:
                current = sections.setdefault("inbound", Section("inbound"))
            current.steps.append(("send", data.encode()))
        elif line.startswith("<<< ") and line != "<<< end":
            frame = [line[4:]]
            while lines[i + 1] != "<<< end":
                i += 1
                frame.append(lines[i])
            i += 1
            if current is None:
                current = sections.setdefault("inbound", Section("inbound"))
            current.steps.append(("recv", _frame_bytes(frame)))
        i += 1
    return Transcript(scenario, sections, ended)


def all_names() -> list[str]:
    return sorted(p.stem for p in transcripts_dir().glob("*.txt"))
