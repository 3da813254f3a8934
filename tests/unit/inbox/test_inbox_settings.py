"""Settings of the inbox and e-mail: defaults valid, a wrong ticket category named by its key."""

from pathlib import Path

import pytest

from ccctl.config import ConfigError, load_settings


def test_the_shipped_settings_file_has_the_default_categories():
    settings = load_settings(Path(__file__).resolve().parents[3] / "ccctl.yaml", environ={})
    assert [(c.name, c.department, c.sla_hours) for c in settings.inbox.ticket_categories] == [
        ("complaint", "patient-relations", 72.0),
        ("request", "registration", 120.0),
    ]
    assert settings.email.imap_host == ""


def test_a_category_without_sla_is_named_with_its_file_and_key(tmp_path):
    path = tmp_path / "ccctl.yaml"
    path.write_text("inbox:\n  ticket_categories:\n    - {name: complaint, sla_hours: 0}\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path, environ={})
    assert str(error.value) == f"{path}: 'inbox.ticket_categories[0].sla_hours' must be more than 0, got 0.0"


def test_an_unknown_email_key_is_refused_with_its_line(tmp_path):
    path = tmp_path / "ccctl.yaml"
    path.write_text("email:\n  smtp_host: mail\n  smtp_pasword: x\n")
    with pytest.raises(ConfigError, match=r"ccctl.yaml:3: unknown key 'email.smtp_pasword'"):
        load_settings(path, environ={})
