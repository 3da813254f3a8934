"""Clients of a running `ccctl serve`: `ccctl status` (its status as text) and `ccctl flow reload` (SIGHUP, then wait).

Reads GET /api/v1/status on settings.web; any failure is one line naming the address.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import psutil

from ccctl.config import Settings
from ccctl.errors import UserError

TIMEOUT_SECONDS = 3.0


class StatusUnavailable(UserError):
    """No usable answer from `ccctl serve`; str() is one line naming the address and why."""


def status_url(settings: Settings) -> str:
    host = settings.web.host
    if host in ("0.0.0.0", "", "::"):  # listening on every address: ask it locally
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.web.port}"


def fetch_status(settings: Settings, timeout: float = TIMEOUT_SECONDS) -> dict:
    """The status dict of the `ccctl serve` listening on settings.web."""
    base = status_url(settings)
    try:
        with urllib.request.urlopen(f"{base}/api/v1/status", timeout=timeout) as response:  # noqa: S310 - http only
            raw = response.read()
    except urllib.error.HTTPError as exc:
        raise StatusUnavailable(f"ccctl serve on {base} answered HTTP {exc.code} for /api/v1/status") from None
    except urllib.error.URLError as exc:
        raise StatusUnavailable(f"no ccctl serve answering on {base} ({_why(exc.reason)})") from None
    except TimeoutError:
        raise StatusUnavailable(f"no ccctl serve answering on {base} (no answer within {timeout:g} s)") from None
    except OSError as exc:
        raise StatusUnavailable(f"no ccctl serve answering on {base} ({_why(exc)})") from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise StatusUnavailable(f"{base}/api/v1/status did not answer JSON (another program on that port?)") from None
    if not isinstance(data, dict) or "calls" not in data:
        raise StatusUnavailable(f"{base}/api/v1/status answered JSON without 'calls' (another program on that port?)")
    return data


def _why(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "no answer in time"
    if isinstance(reason, OSError):
        return (reason.strerror or str(reason)).lower()
    return str(reason)


def format_status(data: dict) -> str:
    """Readable text of a status dict, one fact per line."""
    calls = data.get("calls", {})
    esl = data.get("esl", {})
    inbound = esl.get("inbound", {})
    outbound = esl.get("outbound", {})
    inbound_text = f"{inbound.get('status', '?')} to {inbound.get('address', '?')}"
    if inbound.get("last_error"):
        inbound_text += f" (last error: {inbound['last_error']})"
    lines = [
        f"ccctl {data.get('version', '?')}, up {_duration(data.get('uptime', 0))}",
        "calls:        {active} active, {completed} completed, {abandoned} abandoned, {failed} failed, {total} total".format(
            **{k: calls.get(k, 0) for k in ("active", "completed", "abandoned", "failed", "total")}
        ),
        f"rate:         {data.get('cps', 0.0):.1f} calls/s (last 10 s)",
        f"greenlets:    {data.get('greenlets', '?')}",
        f"outbound ESL: listening on {outbound.get('listening', '?')}" + _refused_text(outbound),
        f"inbound ESL:  {inbound_text}",
    ]
    nodes = esl.get("nodes") or []
    for node in nodes if len(nodes) > 1 else []:  # several switches: each node's connection
        error = f" (last error: {node['last_error']})" if node.get("last_error") else ""
        lines.append(f"node:         {node.get('name')}: {node.get('status')} to {node.get('address')}{error}")
    if data.get("flows"):
        lines.append(f"flows:        {_flows_text(data['flows'])}")
    for row in data.get("controllers") or []:
        mark = " (this one)" if row.get("self") else ""
        lines.append(
            f"controller:   {row.get('instance')}{mark}: {row.get('health')}, seen {row.get('seen_seconds_ago')} s ago"
        )
    return "\n".join(lines)


def _refused_text(outbound: dict) -> str:
    refused = outbound.get("refused", 0)
    return f"; {refused} calls refused over esl.max_calls ({outbound.get('max_calls')})" if refused else ""


def _flows_text(flows: dict) -> str:
    if flows.get("generation") is None:
        return "built-in welcome flow"
    text = f"generation {flows['generation']}: {', '.join(flows.get('hotlines') or []) or 'no hotlines'}"
    reloads = flows.get("reloads") or {}
    if reloads.get("count") and not reloads.get("ok"):
        count = reloads.get("error_count", len(reloads.get("errors") or []))
        text += f" (last reload refused: {count} errors, see `ccctl status --json`)"
    return text


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


# -- `ccctl flow reload` -------------------------------------------------------------

WAIT_SECONDS = 15.0
POLL_SECONDS = 0.1


class ReloadFailed(UserError):
    """No reload happened (no serve, not this machine, no answer in time); str() is one line saying why."""


@dataclass
class ReloadOutcome:
    """What the serve process reported after the reload: the flows it runs now, or why it refused."""

    pid: int
    ok: bool
    generation: int | None
    hotlines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0


def request_reload(settings: Settings, wait_seconds: float = WAIT_SECONDS) -> ReloadOutcome:
    """SIGHUP the `ccctl serve` answering on settings.web and return its reload result.

    Raises StatusUnavailable when no serve answers, ReloadFailed otherwise.
    """
    before = fetch_status(settings)
    pid = before.get("pid")
    count = _reload_count(before)
    if not isinstance(pid, int) or count is None:
        raise ReloadFailed(f"{status_url(settings)}/api/v1/status has no pid or flows.reloads (an older ccctl?)")
    _check_is_ccctl(pid, settings)
    os.kill(pid, signal.SIGHUP)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        after = fetch_status(settings)
        if after.get("pid") != pid:
            raise ReloadFailed(f"ccctl serve on {status_url(settings)} restarted while reloading (pid {pid} gone)")
        if (_reload_count(after) or 0) > count:
            return _outcome(pid, after)
    raise ReloadFailed(f"ccctl serve (pid {pid}) did not report a reload within {wait_seconds:g} s; see its log")


def _reload_count(status: dict) -> int | None:
    reloads = (status.get("flows") or {}).get("reloads")
    if not isinstance(reloads, dict) or not isinstance(reloads.get("count"), int):
        return None
    return reloads["count"]


def _check_is_ccctl(pid: int, settings: Settings) -> None:
    """A signal to the wrong process would harm it: the pid must be a ccctl on this machine."""
    where = status_url(settings)
    try:
        command = " ".join(psutil.Process(pid).cmdline())
    except psutil.NoSuchProcess:
        raise ReloadFailed(f"ccctl serve on {where} reports pid {pid}, which is not on this machine") from None
    except psutil.AccessDenied:
        raise ReloadFailed(f"not allowed to signal pid {pid} (ccctl serve on {where}); run as its user") from None
    if "ccctl" not in command:
        raise ReloadFailed(f"pid {pid} reported by {where} is not a ccctl process on this machine")


def _outcome(pid: int, status: dict) -> ReloadOutcome:
    flows = status.get("flows") or {}
    reloads = flows.get("reloads") or {}
    errors = [str(e) for e in reloads.get("errors") or []]
    return ReloadOutcome(
        pid=pid,
        ok=bool(reloads.get("ok")),
        generation=flows.get("generation"),
        hotlines=list(flows.get("hotlines") or []),
        errors=errors,
        error_count=int(reloads.get("error_count", len(errors))),
    )
