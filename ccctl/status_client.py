"""`ccctl status`: ask a running `ccctl serve` for its status and print it as text.

Reads GET /api/v1/status on settings.web; any failure is one line naming the address.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from ccctl.config import Settings

TIMEOUT_SECONDS = 3.0


class StatusUnavailable(Exception):
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
        f"outbound ESL: listening on {outbound.get('listening', '?')}",
        f"inbound ESL:  {inbound_text}",
    ]
    if data.get("flows"):
        lines.append(f"flows:        {_flows_text(data['flows'])}")
    return "\n".join(lines)


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
