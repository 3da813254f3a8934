"""`ccctl serve --help` offers what a person expects; `ccctl fs render` warns about shipped default passwords."""

from __future__ import annotations

from ccctl.cli.serve import serve_settings
from ccctl.config import load_settings


def test_serve_help_lists_config_log_level_and_ports(ccctl):
    text = ccctl("serve", "--help").output
    for option in ("--config", "--log-level", "--web-port", "--esl-port"):
        assert option in text
    assert "overrides web.port" in text and "overrides esl.outbound_port" in text


def test_serve_reads_the_config_file_it_is_given(ccctl, tmp_path):
    missing = tmp_path / "elsewhere.yaml"
    result = ccctl("serve", "--config", str(missing))
    assert result.exit_code == 1
    assert result.stderr.startswith("ccctl: ") and str(missing) in result.stderr


def test_serve_refuses_a_port_out_of_range(ccctl):
    result = ccctl("serve", "--web-port", "70000")
    assert result.exit_code == 2 and "--web-port" in result.stderr


def test_serve_options_override_the_settings(settings_file):
    settings = load_settings(str(settings_file))
    assert (settings.log_level, settings.web.port, settings.esl.outbound_port) == ("INFO", 8080, 8084)
    changed = serve_settings(settings, "debug", 18080, 18084)
    assert (changed.log_level, changed.web.port, changed.esl.outbound_port) == ("DEBUG", 18080, 18084)
    assert serve_settings(settings, None, None, None) == settings


def test_render_warns_on_stderr_about_each_default_password(ccctl, settings_file, tmp_path):
    result = ccctl("fs", "render", "--demo", "--out", str(tmp_path / "conf"))
    assert result.exit_code == 0, result.output
    assert "ClueCon" not in result.stdout
    warnings = result.stderr.splitlines()
    assert len(warnings) == 2
    assert warnings[0].startswith("ccctl: warning: esl.password is the shipped default 'ClueCon'")
    assert f"set esl.password in {settings_file} (or CCCTL_ESL__PASSWORD)" in warnings[0]
    assert warnings[1].startswith("ccctl: warning: freeswitch.agents_password is the shipped default 'change-me'")


def test_render_is_quiet_once_the_passwords_are_changed(ccctl, settings_file, tmp_path):
    text = settings_file.read_text() + "esl:\n  password: Xk9-secret\nfreeswitch:\n  agents_password: Ag3nts-own\n"
    settings_file.write_text(text)
    result = ccctl("fs", "render", "--out", str(tmp_path / "conf"))
    assert (result.exit_code, result.stderr) == (0, "")


def test_serve_refuses_a_database_older_than_itself(ccctl, tmp_path):
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text(f"database:\n  url: sqlite:///{tmp_path / 'never-upgraded.db'}\nesl:\n  password: Xk9-secret\n")
    result = ccctl("serve", settings=fresh)
    assert result.exit_code == 1  # SystemExit's text is what the shell shows on stderr
    assert str(result.exception).startswith("ccctl: the database is at schema revision none, this ccctl needs ")
    assert str(result.exception).endswith(": run ccctl db upgrade")
    assert "alembic" not in result.stderr  # the check itself is quiet
