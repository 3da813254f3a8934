"""FreeSWITCH's own log (freeswitch.log) as the emulator writes it: the lines where caller data can land.

`RECV DTMF` (switch_channel.c, switch_channel_queue_dtmf; not on a channel with sensitive_dtmf=true) and
`EXECUTE` (switch_core_session.c, switch_core_session_exec: every application with its data), so a test
can check what the real switch's log would show. Off unless asked: Switch(log_path=...) writes the lines
in freeswitch.log's format, and the `freeswitch` logger gets them once a test raises it to INFO.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ccctl.sim.sim_clock import SimClock

LOGGER = logging.getLogger("freeswitch")
# the switch's log is its own file, never the controller's output (the demo logs at INFO in this process)
LOGGER.setLevel(logging.WARNING)

LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "NOTICE": logging.INFO,
    "WARNING": logging.WARNING,
    "ERR": logging.ERROR,
}


class SwitchLog:
    """One switch's log lines: to `path` (appended) and to the `freeswitch` logger."""

    def __init__(self, clock: SimClock, path: str | None = None) -> None:
        self.clock = clock
        self.path = path
        self._file = open(path, "a", encoding="utf-8", buffering=1) if path else None

    @property
    def active(self) -> bool:
        """Anyone reading: callers skip building a line nobody sees."""
        return self._file is not None or LOGGER.isEnabledFor(logging.INFO)

    def channel(self, uuid: str, level: str, where: str, text: str) -> None:
        """SWITCH_CHANNEL_CHANNEL_LOG / SESSION_LOG: `<uuid> <date> <idle cpu>% [LEVEL] file.c:line text`."""
        us = self.clock.now_us()
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(us // 1_000_000)) + f".{us % 1_000_000:06d}"
        self._emit(LEVELS[level], f"{uuid} {stamp} 100.00% [{level}] {where} {text}")

    def clean(self, uuid: str, text: str) -> None:
        """SWITCH_CHANNEL_SESSION_LOG_CLEAN (the EXECUTE lines): `<uuid> text`, no date or level."""
        self._emit(logging.INFO, f"{uuid} {text}")

    def _emit(self, level: int, line: str) -> None:
        if self._file is not None:
            self._file.write(line + "\n")
        LOGGER.log(level, "%s", line)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
