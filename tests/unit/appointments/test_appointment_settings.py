"""The `appointments` settings: the site's zone is checked when the settings are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccctl.config import ConfigError, load_settings

EXAMPLE = Path(__file__).resolve().parents[3] / "ccctl.yaml"


def test_the_example_settings_book_in_warsaw_and_confirm_by_sms_then_email():
    settings = load_settings(EXAMPLE, environ={})
    assert settings.appointments.timezone == "Europe/Warsaw"
    assert settings.appointments.confirm_by == ["sms", "email"]


def test_an_unknown_time_zone_is_refused_at_load_naming_the_key(tmp_path):
    file = tmp_path / "ccctl.yaml"
    file.write_text("appointments:\n  timezone: Europe/Atlantis\n")
    with pytest.raises(ConfigError, match="'appointments.timezone' must be a time zone name.*Europe/Atlantis"):
        load_settings(file, environ={})


def test_confirmations_go_only_by_sms_or_email(tmp_path):
    file = tmp_path / "ccctl.yaml"
    file.write_text("appointments:\n  confirm_by: [fax]\n")
    with pytest.raises(ConfigError, match="'appointments.confirm_by' takes sms and email, got 'fax'"):
        load_settings(file, environ={})
