"""`ccctl serve`'s FHIR pull: the work of `ccctl fhir pull` every `fhir_pull.every_minutes`, for today and the
days after it in the site's zone, so a site needs no cron for it.

A run that cannot reach the server or whose token is refused is logged in one line and tried again at the next
turn; the token file is read at every run, so a new token needs no restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ccctl.config import Settings
from ccctl.errors import UserError
from ccctl.patients.fhir.pull import PullError, PullReport, format_report, pull
from ccctl.records.models.base import utc_now

log = logging.getLogger(__name__)
FIRST_RUN_DELAY_SECONDS = 30.0  # let serve come up before the first pull


def read_token(token_file: str) -> str:
    """The first line of the token file; PullError naming the file when it is missing or empty."""
    try:
        lines = Path(token_file).read_text().splitlines()
    except OSError as exc:
        raise PullError(f"fhir_pull.token_file {token_file}: cannot read it ({exc.strerror})") from None
    token = lines[0].strip() if lines else ""
    if not token:
        raise PullError(f"fhir_pull.token_file {token_file}: the first line is empty")
    return token


def days_to_pull(settings: Settings, now: datetime) -> list[date]:
    """Today in the site's zone and the `fhir_pull.days - 1` days after it."""
    today = now.astimezone(ZoneInfo(settings.appointments.timezone)).date()
    return [today + timedelta(days=n) for n in range(settings.fhir_pull.days)]


def pull_once(settings: Settings, now: datetime) -> list[PullReport]:
    """One turn of the job: every day of `days_to_pull`, each logged as `ccctl fhir pull` prints it."""
    config = settings.fhir_pull
    token = read_token(config.token_file)
    reports = []
    for day in days_to_pull(settings, now):
        report = pull(settings.database.url, config.server, token, day)
        text = format_report(report, config.server)
        # refusals name the server's appointment ids and an element, never patient data
        (log.warning if report.counts["refused"] else log.info)("fhir pull: %s", text.replace("\n", "; "))
        reports.append(report)
    return reports


def pull_forever(
    settings: Settings,
    clock: Callable[[], datetime] = utc_now,
    sleep: Callable[[float], None] | None = None,
) -> None:
    """The serve job: a pull every fhir_pull.every_minutes (the first one shortly after start)."""
    import gevent

    sleep = sleep or gevent.sleep
    sleep(FIRST_RUN_DELAY_SECONDS)
    while True:
        try:
            pull_once(settings, clock())
        except UserError as exc:  # unreachable server, refused token, busy database: the next turn tries again
            log.warning("fhir pull failed: %s", exc)
        except Exception as exc:  # never let one bad turn end the job; the type only, the message may hold data
            log.warning("fhir pull failed: %s", type(exc).__name__)
        sleep(settings.fhir_pull.every_minutes * 60.0)
