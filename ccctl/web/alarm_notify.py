"""Alarms reach the supervisor on duty who is not looking at the wallboard, and the gateways are watched.

AlarmNotifier sends one e-mail and/or one SMS when an alarm starts (web.alarms.notify_email, notify_sms),
at most once per alarm in web.alarms.notify_every_minutes however often it clears and returns. Both go out
when both are set, so a mail server that is down does not silence the SMS. GatewayWatch checks the
gateways named in web.alarms.gateways (mail: the SMTP server; sms: Kannel's smsbox; fax: the switch's
gateway of fax.dial_string) in the background and hands their state to the alarms (gateway_down).
Notices are written in web.alarms.notify_language (the supervisor on duty's), else in the site's.
"""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import gevent

from ccctl.channels.email import EmailError, send_email
from ccctl.config import Settings
from ccctl.web.alarm_board import Alarm, alarm_text
from ccctl.web.words import WORDS, translator

log = logging.getLogger("ccctl.alarms")

CONNECT_TIMEOUT_SECONDS = 3.0
GATEWAY_CHECK_SECONDS = 30.0
FAX_GATEWAY = re.compile(r"^sofia/gateway/([^/]+)/")
# `sofia status gateway NAME`: a gateway that failed to register or whose OPTIONS pings go unanswered
GATEWAY_FAILED = re.compile(r"^(State\s+(FAIL|FAIL_WAIT|UNREGED)|Status\s+DOWN)\b|Invalid Gateway", re.MULTILINE)


class AlarmNotifier:
    """started(alarm) tells the supervisor on duty; sends run in their own greenlet (a slow server never
    holds the wallboard)."""

    def __init__(
        self,
        settings: Settings,
        send_mail: Callable[[str, str, str], Any] | None = None,
        send_sms: Callable[[str, str], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.limits = settings.web.alarms
        self._send_mail = send_mail or self._mail
        self._send_sms = send_sms or self._sms
        self._clock = clock
        self._last_sent: dict[str, float] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.limits.notify_email or self.limits.notify_sms)

    def started(self, alarm: Alarm) -> gevent.Greenlet | None:
        """An alarm began: send its notice unless one for the same alarm went out within the period."""
        if not self.enabled:
            return None
        now = self._clock()
        last = self._last_sent.get(alarm.key)
        if last is not None and now - last < self.limits.notify_every_minutes * 60:
            log.info("alarm %s: notice already sent within %g min", alarm.key, self.limits.notify_every_minutes)
            return None
        self._last_sent[alarm.key] = now
        return gevent.spawn(self.send, alarm)

    @property
    def language(self) -> str:
        """The notices' language: web.alarms.notify_language, else the site's (its first hotline's)."""
        hotlines = self.settings.hotlines
        wanted = self.limits.notify_language or (hotlines[0].language if hotlines else "en")
        return wanted if wanted in WORDS else "en"

    def send(self, alarm: Alarm) -> None:
        at = datetime.now().astimezone()
        t = translator(self.language)
        line = alarm_text(alarm.code, alarm.params, t)
        what = alarm.kind + (f" ({alarm.subject})" if alarm.subject else "")
        subject = t("alarm_notice_subject").format(kind=what)
        text = f"{line}\n\n" + t("alarm_notice_since").format(at=f"{at:%Y-%m-%d %H:%M %Z}")
        if self.limits.notify_email:
            try:
                self._send_mail(self.limits.notify_email, subject, text)
            except Exception as exc:  # noqa: BLE001 - the SMS below must still go
                log.warning("alarm %s: notice e-mail not sent: %s", alarm.key, exc)
        if self.limits.notify_sms:
            try:
                self._send_sms(self.limits.notify_sms, f"{subject}: {line}"[:300])
            except Exception as exc:  # noqa: BLE001
                log.warning("alarm %s: notice SMS not sent: %s", alarm.key, exc)

    def _mail(self, to: str, subject: str, text: str) -> None:
        try:
            send_email(self.settings.email, to, subject, text)
        except EmailError as exc:
            raise RuntimeError(str(exc)) from None

    def _sms(self, to: str, text: str) -> None:
        from ccctl.channels import sms  # Kannel's adapter; loaded when an SMS notice is wanted

        sms.send_sms(self.settings, to, text)


def _reach(host: str, port: int) -> str:
    """'' when a TCP connection opens, else why not."""
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS).close()
    except OSError as exc:
        return f"{host}:{port} unreachable ({exc.strerror or type(exc).__name__})"
    return ""


def check_mail(settings: Settings, inbound: Any) -> str:
    return _reach(settings.email.smtp_host, settings.email.smtp_port)


def check_sms(settings: Settings, inbound: Any) -> str:
    url = urlsplit(settings.sms.sendsms_url)
    return _reach(url.hostname or "127.0.0.1", url.port or (443 if url.scheme == "https" else 80))


def check_fax(settings: Settings, inbound: Any) -> str:
    found = FAX_GATEWAY.match(settings.fax.dial_string)
    if found is None:
        return ""  # faxes leave by another route than a sofia gateway: nothing to watch here
    name = found.group(1)
    if inbound is None or getattr(inbound.state, "status", "") != "connected":
        return f"fax gateway {name}: the switch connection is down"
    try:
        answer = inbound.api(f"sofia status gateway {name}", timeout=CONNECT_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure to ask is a gateway we cannot vouch for
        return f"fax gateway {name}: the switch did not answer ({type(exc).__name__})"
    if GATEWAY_FAILED.search(answer or ""):
        return f"fax gateway {name}: down"
    return ""


CHECKS = {"mail": check_mail, "sms": check_sms, "fax": check_fax}


class GatewayWatch:
    """current() gives the last state of each watched gateway and starts a new check when it is stale."""

    def __init__(self, settings: Settings, inbound: Callable[[], Any] = lambda: None) -> None:
        self.settings = settings
        self.names = list(settings.web.alarms.gateways)
        self._inbound = inbound
        self._state: dict[str, dict] = {}
        self._checked_at = -GATEWAY_CHECK_SECONDS
        self._running: gevent.Greenlet | None = None

    def check_now(self) -> dict[str, dict]:
        inbound = self._inbound()
        state = {}
        for name in self.names:
            problem = CHECKS[name](self.settings, inbound)
            state[name] = {"status": "down" if problem else "up", "last_error": problem}
        self._state, self._checked_at = state, time.monotonic()
        return state

    def current(self) -> dict[str, dict]:
        if not self.names:
            return {}
        stale = time.monotonic() - self._checked_at >= GATEWAY_CHECK_SECONDS
        if stale and (self._running is None or self._running.dead):
            self._running = gevent.spawn(self.check_now)
        return self._state
