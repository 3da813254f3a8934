"""`ccctl fs render` writes the switch's call limits: freeswitch.sessions_per_second and max_sessions are
switch.conf's sessions-per-second and max-sessions, checked where the settings are read."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET

import pytest
from fs_rendering import example_settings

from ccctl.config import ConfigError, load_settings
from ccctl.deploy.fs_render import render_all


def switch_params(tmp_path, **limits: int) -> dict[str, str]:
    settings = example_settings()
    settings = dataclasses.replace(settings, freeswitch=dataclasses.replace(settings.freeswitch, **limits))
    render_all(settings, tmp_path / "conf")
    root = ET.parse(tmp_path / "conf" / "autoload_configs" / "switch.conf.xml").getroot()
    return {param.get("name"): param.get("value") for param in root.iter("param")}


def test_the_defaults_are_30_new_calls_a_second_and_1000_at_once(tmp_path):
    params = switch_params(tmp_path)
    assert (params["sessions-per-second"], params["max-sessions"]) == ("30", "1000")


def test_the_limits_set_are_the_ones_rendered(tmp_path):
    params = switch_params(tmp_path, sessions_per_second=1000, max_sessions=4000)
    assert (params["sessions-per-second"], params["max-sessions"]) == ("1000", "4000")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("sessions_per_second: 0", "'freeswitch.sessions_per_second' must be at least 1, got 0"),
        ("max_sessions: -5", "'freeswitch.max_sessions' must be at least 1, got -5"),
        ("sessions_per_second: many", "'freeswitch.sessions_per_second' must be int, got 'many'"),
        ("max_sessions: 2.5", "'freeswitch.max_sessions' must be int, got 2.5"),
    ],
)
def test_a_limit_that_is_not_a_positive_whole_number_is_refused_naming_it(tmp_path, line, message):
    path = tmp_path / "ccctl.yaml"
    path.write_text(f"freeswitch:\n  {line}\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(path, environ={})
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert str(refused.value).startswith(str(path))


def test_a_limit_is_read_from_the_environment_too(tmp_path):
    settings = load_settings(None, environ={"CCCTL_FREESWITCH__SESSIONS_PER_SECOND": "250"})
    assert settings.freeswitch.sessions_per_second == 250
