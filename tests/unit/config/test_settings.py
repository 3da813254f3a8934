"""Settings: a wrong key or type is one line naming file, line and key."""

import pytest

from ccctl.config import ConfigError, load_settings


def write(tmp_path, text):
    path = tmp_path / "ccctl.yaml"
    path.write_text(text)
    return path


def test_shipped_example_loads():
    settings = load_settings("ccctl.yaml", environ={})
    assert settings.esl.outbound_port == 8084
    assert settings.hotline_for_did("7000").flow == "main"


def test_unknown_key_names_file_line_and_key(tmp_path):
    path = write(tmp_path, "web:\n  port: 8080\ndatabase:\n  urll: sqlite://\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path, environ={})
    assert str(err.value).startswith(f"{path}:4: unknown key 'database.urll'")
    assert "\n" not in str(err.value)


def test_wrong_type_names_key(tmp_path):
    path = write(tmp_path, "esl:\n  outbound_port: eighty\n")
    with pytest.raises(ConfigError, match=r":2: 'esl.outbound_port' must be int, got 'eighty'"):
        load_settings(path, environ={})


def test_unknown_section(tmp_path):
    path = write(tmp_path, "databse:\n  url: x\n")
    with pytest.raises(ConfigError, match=r":1: unknown key 'databse'"):
        load_settings(path, environ={})


def test_bad_yaml_names_line(tmp_path):
    path = write(tmp_path, "web:\n  port: [8080\n")
    with pytest.raises(ConfigError, match=r"ccctl.yaml:\d+: not valid YAML"):
        load_settings(path, environ={})


def test_environment_overrides_file(tmp_path):
    path = write(tmp_path, "web:\n  port: 8080\n")
    settings = load_settings(path, environ={"CCCTL_WEB__PORT": "9999", "CCCTL_DATABASE__URL": "sqlite:///x.db"})
    assert settings.web.port == 9999
    assert settings.database.url == "sqlite:///x.db"


def test_environment_wrong_type_is_reported(tmp_path):
    with pytest.raises(ConfigError, match="'web.port' must be int"):
        load_settings(None, environ={"CCCTL_WEB__PORT": "lots"})


def test_duplicate_did_refused(tmp_path):
    path = write(tmp_path, "hotlines:\n  - {name: a, did: '1'}\n  - {name: b, did: '1'}\n")
    with pytest.raises(ConfigError, match=r"'hotlines\[1\].did' '1' is used twice"):
        load_settings(path, environ={})


def test_pin_lockout_is_configured_in_settings(tmp_path):
    from ccctl.patients.call_services import DbCallServices

    path = write(tmp_path, "pins:\n  max_failures: 3\n  window_seconds: 600\n  lock_seconds: 60\n")
    settings = load_settings(path, environ={})
    services = DbCallServices(f"sqlite:///{tmp_path / 'cc.db'}", settings)
    try:
        assert (services.policy.max_failures, services.policy.window_seconds, services.policy.lock_seconds) == (
            3,
            600,
            60,
        )
    finally:
        services.close()


def test_pin_lockout_limits_are_checked(tmp_path):
    path = write(tmp_path, "pins:\n  max_failures: 0\n")
    with pytest.raises(ConfigError, match=r"'pins.max_failures' must be at least 1, got 0"):
        load_settings(path, environ={})
