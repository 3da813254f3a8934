"""Reading ivr_flows/campaigns/<name>.yaml: every mistake reported as FILE:LINE: message, all at once.

A campaign is checked when it is added (`ccctl campaigns check` / `add`), never when a patient answers:
its flow must load with the hotline's checker, its zones must exist, its caps must be sane.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ccctl.campaigns.model import (
    DAYS,
    KINDS,
    MACHINE_ACTIONS,
    MODES,
    OUTCOMES,
    PREVIEW_TIMEOUTS,
    CallingHours,
    CampaignSpec,
    Caps,
    TargetList,
    Window,
)
from ccctl.errors import UserError
from ccctl.ivr.flow_yaml import LineDict, load_yaml

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
PERIOD = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
TOP_KEYS = {
    "name",
    "kind",
    "flow",
    "description",
    "targets",
    "channels",
    "calling",
    "retry",
    "caps",
    "machine",
    "machine_message",
    "mode",
    "agents",
    "webhook",
}
AGENT_KEYS = ("skill", "abandon_percent", "preview_seconds", "preview_timeout", "not_reached", "queue")
PREVIEW_KEYS = ("preview_seconds", "preview_timeout", "not_reached", "queue")
# where campaign flows live, under flows_dir: ordinary flow files the hotline's checker reads
FLOWS_SUBDIR = "campaigns/flows"


class CampaignFileError(UserError):
    """The campaign file does not check; str() is the first error, `errors` all of them."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors[0] if len(errors) == 1 else f"{errors[0]} (and {len(errors) - 1} more)")
        self.errors = errors


class _Report:
    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []

    def __call__(self, line: int | None, message: str) -> None:
        self.errors.append(f"{self.source}:{line}: {message}" if line else f"{self.source}: {message}")


def campaigns_listen_for_machines(flows_dir: str | Path) -> bool:
    """Whether a campaign file beside the flows sets `machine:` (fs render then loads mod_avmd).
    A file that does not check is left to `ccctl campaigns check`, which names its mistakes."""
    for path in sorted((Path(flows_dir) / "campaigns").glob("*.yaml")):
        try:
            if load_spec(path).machine:
                return True
        except CampaignFileError:
            continue
    return False


def load_spec(path: str | Path, text: str | None = None) -> CampaignSpec:
    """The campaign in path (or `text`, as read from it before); CampaignFileError names every problem."""
    path = Path(path)
    source = str(path)
    if text is None:
        document, error = load_yaml(path, source)
        if error is not None:
            raise CampaignFileError([str(error)])
    else:
        document = _parse_text(text, source)
    report = _Report(source)
    if not isinstance(document, LineDict):
        raise CampaignFileError([f"{source}: a campaign is a mapping (name:, flow:, targets: ...)"])
    spec = _read(document, report, path.parent)
    if report.errors:
        raise CampaignFileError(report.errors)
    return spec


def _parse_text(text: str, source: str) -> Any:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "campaign.yaml"
        copy.write_text(text, encoding="utf-8")
        document, error = load_yaml(copy, source)
    if error is not None:
        raise CampaignFileError([str(error)])
    return document


def _read(doc: LineDict, report: _Report, folder: Path) -> CampaignSpec:
    for key in doc:
        if key not in TOP_KEYS:
            report(doc.line_of(key), f"unknown key '{key}' (expected one of {', '.join(sorted(TOP_KEYS))})")
    for key, line in doc.duplicates:
        report(line, f"'{key}' is given twice")
    name = doc.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        report(doc.line_of("name"), "name: lower-case letters, digits, - and _ (at most 64)")
    kind = doc.get("kind", "reminder")
    if kind not in KINDS:
        report(doc.line_of("kind"), f"kind must be one of {', '.join(KINDS)}")
    mode, skill, abandon = _mode(doc, report)
    flow = doc.get("flow", "")
    # a preview call is the agent's from the first ring: no flow talks to the patient
    if (not isinstance(flow, str) or not flow) and (mode != "preview" or flow):
        report(doc.line_of("flow"), f"flow: the name of a flow file in <flows_dir>/{FLOWS_SUBDIR}/")
    channels = _mapping(doc, "channels", report)
    calling = _mapping(doc, "calling", report)
    voice_attempts = _integer(channels, "voice_attempts", report, default=3, low=0)
    sms_text = _text(channels, "sms", report)
    email = _mapping(channels, "email", report)
    hours, zone = _calling_hours(calling, report)
    machine, machine_message = _machine(doc, report)
    if machine and mode == "preview":
        report(doc.line_of("machine"), "machine: is not read with mode: preview (the agent hears the machine)")
    preview_seconds, preview_timeout, not_reached, preview_queue = _preview(doc, mode, report)
    return CampaignSpec(
        name=name if isinstance(name, str) else "",
        kind=kind if isinstance(kind, str) else "reminder",
        flow=flow if isinstance(flow, str) else "",
        description=str(doc.get("description", "")),
        targets=_targets(doc, report, folder),
        hours=hours,
        time_zone=zone,
        voice_attempts=voice_attempts,
        retry_minutes=_retry(_mapping(doc, "retry", report), report),
        sms_text=sms_text,
        email_subject=_text(email, "subject", report),
        email_text=_text(email, "text", report),
        caps=_caps(_mapping(doc, "caps", report), report),
        machine=machine,
        machine_message=machine_message,
        mode=mode,
        agent_skill=skill,
        abandon_percent=abandon,
        preview_seconds=preview_seconds,
        preview_timeout=preview_timeout,
        not_reached_codes=not_reached,
        preview_queue=preview_queue,
        webhook=_webhook(doc, report),
    )


def _webhook(doc: LineDict, report: _Report) -> str:
    """The URL told of every finished target (ccctl.campaigns.webhooks); "" when the file has none."""
    url = _text(doc, "webhook", report)
    parts = urlsplit(url)
    if url and (parts.scheme not in ("http", "https") or not parts.hostname):
        report(doc.line_of("webhook"), f"webhook must be an http:// or https:// URL, got {url!r}")
        return ""
    return url


def _mode(doc: LineDict, report: _Report) -> tuple[str, str, float]:
    """(mode, agents' skill, abandon limit in percent); progressive and preview need `agents: {skill: ...}`."""
    mode = doc.get("mode", "automated")
    agents = _mapping(doc, "agents", report)
    if mode not in MODES:
        report(doc.line_of("mode"), f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        return "automated", "", 3.0
    for key in agents:
        if key not in AGENT_KEYS:
            report(agents.line_of(key), f"agents: unknown key '{key}' (expected one of {', '.join(AGENT_KEYS)})")
    skill = agents.get("skill", "")
    abandon = agents.get("abandon_percent", 3.0)
    if mode in ("progressive", "preview") and (not isinstance(skill, str) or not skill):
        report(agents.line or doc.line_of("mode"), f"mode: {mode} needs agents: {{skill: <the agents' skill>}}")
    if isinstance(abandon, bool) or not isinstance(abandon, (int, float)) or not 0 <= abandon <= 100:
        report(agents.line_of("abandon_percent"), "agents: abandon_percent is a number from 0 to 100")
        abandon = 3.0
    return str(mode), str(skill or ""), float(abandon)


def _preview(doc: LineDict, mode: str, report: _Report) -> tuple[int, str, tuple[str, ...], str]:
    """(seconds a reserved patient waits for the agent, what happens then, wrap-up codes meaning not reached,
    the ACD queue of the calls)."""
    agents = _mapping(doc, "agents", report)
    given = [key for key in PREVIEW_KEYS if key in agents]
    if given and mode != "preview":
        report(agents.line_of(given[0]), f"agents: {given[0]} is only read with mode: preview")
    seconds = _integer(agents, "preview_seconds", report, default=120, low=10)
    timeout = agents.get("preview_timeout", "list")
    if timeout not in PREVIEW_TIMEOUTS:
        report(
            agents.line_of("preview_timeout"),
            f"agents: preview_timeout must be one of {', '.join(PREVIEW_TIMEOUTS)}, got {timeout!r}",
        )
        timeout = "list"
    codes = agents.get("not_reached", [])
    if isinstance(codes, str):
        codes = [codes]
    if not isinstance(codes, list) or not all(isinstance(code, str) and code for code in codes):
        report(agents.line_of("not_reached"), "agents: not_reached is a list of wrap-up codes")
        codes = []
    return seconds, str(timeout), tuple(codes), _text(agents, "queue", report)


def _machine(doc: LineDict, report: _Report) -> tuple[str, str]:
    """What an answering machine gets: ("", "") when the campaign does not listen for one."""
    machine = doc.get("machine", "")
    message = _text(doc, "machine_message", report)
    if machine and machine not in MACHINE_ACTIONS:
        report(doc.line_of("machine"), f"machine must be one of {', '.join(MACHINE_ACTIONS)}, got {machine!r}")
        return "", ""
    if machine == "leave_message" and not message.startswith("say:") and "://" not in message:
        report(doc.line_of("machine"), 'machine: leave_message needs machine_message ("say:..." or a sound URL)')
    if message and machine != "leave_message":
        report(doc.line_of("machine_message"), "machine_message is only spoken with machine: leave_message")
    return str(machine or ""), message


def _mapping(doc: LineDict, key: str, report: _Report) -> LineDict:
    value = doc.get(key)
    if value is None:
        empty = LineDict()
        empty.line = doc.line
        return empty
    if not isinstance(value, LineDict):
        report(doc.line_of(key), f"{key} must be a mapping")
        empty = LineDict()
        empty.line = doc.line_of(key)
        return empty
    return value


def _text(doc: LineDict, key: str, report: _Report) -> str:
    value = doc.get(key, "")
    if not isinstance(value, str):
        report(doc.line_of(key), f"{key} must be text")
        return ""
    return value.strip()


def _integer(doc: LineDict, key: str, report: _Report, default: int, low: int) -> int:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        report(doc.line_of(key), f"{key} must be a whole number of at least {low}")
        return default
    return value


def _targets(doc: LineDict, report: _Report, folder: Path) -> TargetList:
    targets = _mapping(doc, "targets", report)
    given = [key for key in ("patients", "csv", "appointments") if key in targets]
    if len(given) != 1:
        report(targets.line or doc.line_of("targets"), "targets: give exactly one of patients, csv, appointments")
        return TargetList()
    kind = given[0]
    if kind == "csv":
        csv = folder / str(targets["csv"])
        if not csv.is_file():
            report(targets.line_of("csv"), f"no CSV file {csv}")
        return TargetList(csv_path=str(csv))
    if kind == "patients":
        query = _mapping(targets, "patients", report)
        fields = _mapping(query, "fields", report)
        return TargetList(specialty=str(query.get("specialty", "")), fields={k: str(v) for k, v in fields.items()})
    visits = _mapping(targets, "appointments", report)
    start, end = visits.get("from"), visits.get("to")
    if not isinstance(start, dt.date) or not isinstance(end, dt.date) or end < start:
        report(visits.line, "appointments: from and to are dates (2026-12-07), to not before from")
        return TargetList()
    return TargetList(appointments_from=start, appointments_to=end)


def _minute(value: Any) -> int | None:
    """'09:30' as minutes after midnight; YAML reads an unquoted 09:30 as the base-60 number 570 already."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 24 * 60:
        return value
    match = re.match(r"^(\d{1,2}):(\d{2})$", str(value))
    if not match or int(match[1]) > 24 or int(match[2]) > 59:
        return None
    return int(match[1]) * 60 + int(match[2])


def _calling_hours(calling: LineDict, report: _Report) -> tuple[CallingHours, str]:
    zone = calling.get("time_zone", "")
    if zone:
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            report(calling.line_of("time_zone"), f"unknown time zone '{zone}' (an IANA name: Asia/Shanghai)")
            zone = ""
    windows = []
    for item in calling.get("windows") or []:
        line = getattr(item, "line", calling.line_of("windows"))
        if not isinstance(item, dict):
            report(line, "a window is a mapping: days, from, to")
            continue
        days = item.get("days", list(DAYS))
        days = days.split(",") if isinstance(days, str) else days
        unknown = [d for d in days if str(d).strip().lower() not in DAYS]
        start, end = _minute(item.get("from")), _minute(item.get("to"))
        if unknown:
            report(line, f"unknown day {unknown[0]!r} (mon..sun)")
        elif start is None or end is None or end <= start:
            report(line, "a window needs from and to as HH:MM, to after from")
        else:
            index = frozenset(DAYS.index(str(d).strip().lower()) for d in days)
            windows.append(Window(index, start, end))
    if not windows:
        report(calling.line_of("windows"), "calling: windows: at least one window (days, from, to) is needed")
    quiet = []
    for period in calling.get("quiet_hours") or []:
        match = PERIOD.match(str(period))
        if not match:
            report(calling.line_of("quiet_hours"), f"quiet hour {period!r} is not HH:MM-HH:MM")
            continue
        quiet.append((int(match[1]) * 60 + int(match[2]), int(match[3]) * 60 + int(match[4])))
    return CallingHours(tuple(windows), tuple(quiet)), str(zone or "")


def _retry(retry: LineDict, report: _Report) -> dict:
    minutes = dict.fromkeys(OUTCOMES, 60)
    for key, value in retry.items():
        if key not in OUTCOMES:
            report(retry.line_of(key), f"retry: unknown outcome '{key}' (one of {', '.join(OUTCOMES)})")
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            report(retry.line_of(key), f"retry: {key} is minutes before the next attempt (a number, 0 or more)")
        else:
            minutes[key] = value
    return minutes


def _caps(caps: LineDict, report: _Report) -> Caps:
    daily = _integer(caps, "daily", report, default=0, low=0)
    concurrent = _integer(caps, "concurrent", report, default=1, low=1)
    per_second = caps.get("per_second", 1.0)
    if isinstance(per_second, bool) or not isinstance(per_second, (int, float)) or not 0 < per_second <= 100:
        report(caps.line_of("per_second"), "caps: per_second must be more than 0 and at most 100")
        per_second = 1.0
    return Caps(daily=daily, concurrent=concurrent, per_second=float(per_second))


def flow_path(flows_dir: str | Path, spec: CampaignSpec) -> Path:
    return Path(flows_dir) / FLOWS_SUBDIR / f"{spec.flow}.yaml"
