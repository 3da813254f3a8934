"""The fhir_pull section: off by default, and a pull every N minutes needs a server and a token file."""

from __future__ import annotations

import pytest

from ccctl.config import ConfigError, load_settings


def test_the_fhir_pull_is_off_by_default():
    assert load_settings(None, environ={}).fhir_pull.every_minutes == 0


def test_a_pull_every_minutes_without_a_server_is_refused_in_one_line(tmp_path):
    path = tmp_path / "ccctl.yaml"
    path.write_text("fhir_pull:\n  every_minutes: 10\n  token_file: /etc/ccctl/his-token\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(path, environ={})
    assert str(refused.value) == (f"{path}: 'fhir_pull.every_minutes' is set: 'server' and 'token_file' are needed too")
