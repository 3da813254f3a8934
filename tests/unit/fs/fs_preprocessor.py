"""FreeSWITCH's XML preprocessor redone for tests (switch_xml.c preprocess(), v1.10.12).

Line by line like the C code: $${var} expansion, X-PRE-PROCESS set/include, dropped <include> and <? lines.
"""

from __future__ import annotations

import glob
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

# Variables the core defines before reading freeswitch.xml (switch_core.c), with Debian-like values.
BUILTIN_VARIABLES = {
    "hostname": "fs1",
    "local_ip_v4": "192.0.2.10",
    "local_mask_v4": "255.255.255.0",
    "local_ip_v6": "::1",
    "base_dir": "/usr",
    "conf_dir": "/etc/freeswitch",
    "log_dir": "/var/log/freeswitch",
    "run_dir": "/var/run/freeswitch",
    "db_dir": "/var/lib/freeswitch/db",
    "mod_dir": "/usr/lib/freeswitch/mod",
    "sounds_dir": "/usr/share/freeswitch/sounds",
    "recordings_dir": "/var/lib/freeswitch/recordings",
    "temp_dir": "/tmp",
    "certs_dir": "/etc/freeswitch/tls",
    "storage_dir": "/var/lib/freeswitch/storage",
    "cache_dir": "/var/cache/freeswitch",
    "script_dir": "/usr/share/freeswitch/scripts",
}

_VARIABLE = re.compile(r"\$\$\{([^}]*)\}")
_CMD = re.compile(r'cmd\s*=\s*"([^"]*)"', re.IGNORECASE)
_DATA = re.compile(r'data\s*=\s*"([^"]*)"', re.IGNORECASE)


@dataclass
class Assembly:
    text: str
    variables: dict[str, str]
    files: list[Path] = field(default_factory=list)
    unknown_variables: set[str] = field(default_factory=set)

    def document(self) -> ET.Element:
        return ET.fromstring(self.text)


def assemble(root_file: Path) -> Assembly:
    """The document FreeSWITCH would parse after preprocessing root_file (e.g. DIR/freeswitch.xml)."""
    assembly = Assembly(text="", variables=dict(BUILTIN_VARIABLES))
    parts: list[str] = []
    _preprocess(root_file.resolve(), assembly, parts)
    assembly.text = "".join(parts)
    return assembly


def _expand(line: str, assembly: Assembly) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in assembly.variables:
            assembly.unknown_variables.add(name)
        return assembly.variables.get(name, "")  # the C code writes nothing for an unknown variable

    return _VARIABLE.sub(value, line)


def _preprocess(path: Path, assembly: Assembly, out: list[str]) -> None:
    assembly.files.append(path)
    for raw in path.read_text(encoding="utf-8").splitlines(keepends=True):
        line = _expand(raw, assembly)
        if "<include>" in raw or "</include>" in raw or "<?" in raw:
            continue
        if "<!--#" in line:
            raise AssertionError(f"{path}: '<!--#' comments are preprocessor commands, do not use them")
        at = line.lower().find("x-pre-process")
        if at < 0:
            out.append(line)
            continue
        if at == 0 or line[at - 1] != "<":
            continue  # FreeSWITCH drops the whole line
        cmd, data = _CMD.search(line, at), None
        if cmd:
            data = _DATA.search(line, cmd.end())
        if not (cmd and data):
            continue
        if cmd.group(1).lower() == "set":
            name, _, value = data.group(1).partition("=")
            assembly.variables[name.rstrip(" ")] = value.lstrip(" ")
        elif cmd.group(1).lower() == "include":
            pattern = data.group(1)
            full = pattern if pattern.startswith("/") else str(path.parent / pattern)
            for included in sorted(glob.glob(full)):
                _preprocess(Path(included).resolve(), assembly, out)
