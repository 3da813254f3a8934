"""The serve process's log: one line per record, whatever a caller ID or an ESL header value holds.

Values that come from the switch (channel names, caller names, hotline variables) can carry CR, LF or
other control characters; written raw they could forge log lines. They are escaped as \\xNN.
"""

from __future__ import annotations

import logging
import re

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class OneLineFormatter(logging.Formatter):
    """Escapes control characters in the message; a traceback, appended after it, keeps its lines."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)


def configure_logging(level: str, stream=None, filename: str = "") -> None:
    """The root logger writes one-line records at `level` to `filename`, else stderr (or `stream`)."""
    handler = logging.FileHandler(filename) if filename else logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter(LOG_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO lines say nothing an operator needs
