"""When a person answers the chat: chat.open_hours on chat.open_days in the site's zone; bad settings refused."""

from datetime import UTC, datetime

import pytest

from ccctl.chat.hours import is_open
from ccctl.config import ChatSettings, ConfigError, load_settings

WEEKDAYS = ChatSettings(open_hours="08:00-18:00", open_days=["mon", "tue", "wed", "thu", "fri"])


def test_open_hours_are_read_in_the_sites_zone():
    # Friday 2026-12-04 07:30 UTC is 08:30 in Warsaw (open) and 15:30 in Shanghai (open); 17:30 UTC is 18:30 in
    # Warsaw (closed); Saturday is closed everywhere
    assert is_open(WEEKDAYS, "Europe/Warsaw", datetime(2026, 12, 4, 7, 30, tzinfo=UTC))
    assert not is_open(WEEKDAYS, "Europe/Warsaw", datetime(2026, 12, 4, 17, 30, tzinfo=UTC))
    assert not is_open(WEEKDAYS, "UTC", datetime(2026, 12, 4, 7, 30, tzinfo=UTC))
    assert not is_open(WEEKDAYS, "Asia/Shanghai", datetime(2026, 12, 5, 3, 0, tzinfo=UTC))
    assert is_open(ChatSettings(), "UTC", datetime(2026, 12, 5, 23, 59, tzinfo=UTC))


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ('chat:\n  open_hours: "18:00-08:00"\n', "'chat.open_hours' must be a range within a day"),
        ("chat:\n  open_days: [monday]\n", "'chat.open_days' takes mon, tue"),
        ("chat:\n  code_max_failures: 0\n", "'chat.code_max_failures' must be at least 1"),
    ],
)
def test_chat_settings_that_cannot_work_are_refused_at_load(tmp_path, yaml_text, message):
    path = tmp_path / "ccctl.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message):
        load_settings(str(path), environ={})
