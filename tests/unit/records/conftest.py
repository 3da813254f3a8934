"""A local time zone that is not UTC, for the records tests."""

import os
import time
from collections.abc import Iterator

import pytest


@pytest.fixture
def local_zone_utc_plus_2() -> Iterator[None]:
    """The process's local time is UTC+2 (POSIX TZ, no tz database needed) for the test."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "XXX-2"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
