"""`ccctl flow reload`: ask the running `ccctl serve` to check and swap in its flows, and wait for the answer.

Finds the process through its status API (pid), sends it SIGHUP, then polls the status until
flows.reloads.count moves on; the serve process keeps its old flows when the new ones fail the check.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field

import psutil

from ccctl.config import Settings
from ccctl.status_client import fetch_status, status_url

WAIT_SECONDS = 15.0
POLL_SECONDS = 0.1


class ReloadFailed(Exception):
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

    Raises StatusUnavailable (ccctl.status_client) when no serve answers, ReloadFailed otherwise.
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
