"""A value from the switch cannot forge a log line: control characters are escaped, tracebacks keep their lines."""

import io
import logging

from ccctl.serve.logs import configure_logging


def test_a_caller_name_with_a_newline_stays_on_its_line():
    out = io.StringIO()
    configure_logging("info", out)
    try:
        logging.getLogger("ccctl.test").info("call from %s", "Bob\r\n2026-12-05 INFO ccctl: forged\x1b[2J")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("ccctl.test").exception("failed")
    finally:
        logging.basicConfig(force=True)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("call from Bob\\x0d\\x0a2026-12-05 INFO ccctl: forged\\x1b[2J")
    assert lines[1].endswith("ccctl.test: failed") and lines[2] == "Traceback (most recent call last):"
