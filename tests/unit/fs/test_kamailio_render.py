"""`ccctl fs render --kamailio`: Kamailio's configuration from the same settings, refused in one line when wrong."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ccctl.cli import main
from ccctl.config import Settings, SwitchNode
from ccctl.deploy.fs_render import RenderError
from ccctl.deploy.kamailio_render import render_kamailio


def _settings(**front) -> Settings:
    settings = Settings()
    settings.source = "site.yaml"
    settings.sip_front.listen = "127.0.0.1:5060"
    settings.sip_front.nodes = [SwitchNode("fs-a", "10.0.0.11:5080"), SwitchNode("fs-b", "10.0.0.12:5080")]
    settings.freeswitch.trunk_acl = ["127.0.0.1/32"]
    for key, value in front.items():
        setattr(settings.sip_front, key, value)
    return settings


def test_every_node_is_in_the_dispatcher_list_and_hotline_and_fax_dids_go_to_the_switches(tmp_path):
    cfg, dispatcher = render_kamailio(_settings(), tmp_path)
    nodes = [line.split() for line in open(dispatcher) if line.strip() and not line.startswith("#")]
    assert nodes == [
        ["1", "sip:10.0.0.11:5080", "0", "0", "duid=fs-a"],
        ["1", "sip:10.0.0.12:5080", "0", "0", "duid=fs-b"],
    ]
    text = open(cfg).read()
    assert "listen=udp:127.0.0.1:5060" in text
    assert '$rU =~ "^(7000|7900)$"' in text  # the shipped hotline and fax DIDs
    assert f'modparam("dispatcher", "list_file", "{dispatcher}")' in text


@pytest.mark.parametrize(
    "front, message",
    [
        ({"nodes": []}, "'sip_front.nodes' is empty: list the switches Kamailio spreads calls over"),
        (
            {"nodes": [SwitchNode("fs-a", "fs-a.local:5080")]},
            "'sip_front.nodes[0].address' must be an IP address and port like 10.0.0.5:5060, got 'fs-a.local:5080'",
        ),
        (
            {"nodes": [SwitchNode("fs-a", "10.0.0.11:5080"), SwitchNode("fs-a", "10.0.0.12:5080")]},
            "'sip_front.nodes[1].name' 'fs-a' is listed twice",
        ),
        (
            {"listen": "10.0.0.5:5060"},
            "'freeswitch.trunk_acl' does not admit 10.0.0.5 (sip_front.listen): "
            "the switches would refuse the calls Kamailio relays",
        ),
        ({"probe_seconds": 0}, "'sip_front.probe_seconds' must be at least 1, got 0"),
    ],
)
def test_bad_sip_front_setting_is_one_line_naming_key_and_value(tmp_path, front, message):
    with pytest.raises(RenderError) as error:
        render_kamailio(_settings(**front), tmp_path)
    assert str(error.value) == f"site.yaml: {message}"
    assert not list(tmp_path.iterdir()), "nothing is written when a setting is wrong"


def test_a_password_kamailio_would_misread_is_refused_without_showing_it(tmp_path):
    settings = _settings()
    settings.freeswitch.agents_password = 'pa"ss$word'
    with pytest.raises(RenderError) as error:
        render_kamailio(settings, tmp_path)
    assert "freeswitch.agents_password" in str(error.value) and "ss$word" not in str(error.value)


def test_cli_renders_kamailio_into_the_given_folder(tmp_path):
    config = tmp_path / "ccctl.yaml"
    config.write_text("sip_front:\n  nodes:\n    - {name: fs-a, address: '127.0.0.1:5080'}\n")
    result = CliRunner().invoke(main, ["-c", str(config), "fs", "render", "--kamailio", "--out", str(tmp_path / "k")])
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(tmp_path / "k" / "kamailio.cfg"), str(tmp_path / "k" / "dispatcher.list")]
