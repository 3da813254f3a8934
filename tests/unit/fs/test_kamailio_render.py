"""`ccctl fs render --kamailio`: Kamailio's configuration from the same settings, refused in one line when wrong."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from click.testing import CliRunner

from ccctl.cli import main
from ccctl.config import Settings, SwitchNode
from ccctl.deploy.fs_render import RenderError
from ccctl.deploy.kamailio_render import render_kamailio


def _settings(**front) -> Settings:
    settings = Settings()
    settings.source = "site.yaml"
    settings.database.url = "postgresql+psycopg2://cc:s3cret@10.0.0.2/cc"
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


def test_agents_authenticate_from_the_database_and_register_there_with_no_shared_password(tmp_path):
    settings = _settings()
    settings.freeswitch.agents_password = "shared-secret"
    cfg, _ = render_kamailio(settings, tmp_path)
    text = open(cfg).read()
    assert '#!define DBURL "postgres://cc:s3cret@10.0.0.2:5432/cc"' in text
    assert 'modparam("usrloc", "db_mode", 3)' in text and 'version_table="kamailio_version"' in text
    columns = {
        "user_column": "username",
        "domain_column": "domain",
        "password_column": "ha1",
        "password_column_2": "ha1b",
    }
    for param, column in columns.items():
        assert f'modparam("auth_db", "{param}", "{column}")' in text
    assert 'www_authenticate("cc.local", "kamailio_subscriber")' in text
    assert 'save("kamailio_location")' in text and 'lookup("kamailio_location")' in text
    assert "shared-secret" not in text


@pytest.mark.parametrize(
    "url, message",
    [
        (
            "sqlite:///var/ccctl.db",
            "'database.url' is sqlite: the Kamailio front reads agents' SIP digests and registrations from "
            "PostgreSQL (docs/scale-out.md)",
        ),
        ("postgresql:///cc", "'database.url' names no host: Kamailio reaches PostgreSQL over TCP"),
        (
            "postgresql://cc:p%40ss@10.0.0.2/cc",
            "'database.url' password has a character Kamailio's database URL cannot carry",
        ),
    ],
)
def test_a_database_kamailio_cannot_use_is_refused_in_one_line_without_the_password(tmp_path, url, message):
    settings = _settings()
    settings.database.url = url
    with pytest.raises(RenderError) as error:
        render_kamailio(settings, tmp_path)
    assert str(error.value) == f"site.yaml: {message}"
    assert "p@ss" not in str(error.value)


def test_each_instance_of_a_pair_is_rendered_for_its_own_address(tmp_path):
    settings = _settings(instances=["127.0.0.1:5060", "127.0.0.1:5062"])
    first = open(render_kamailio(settings, tmp_path / "a")[0]).read()
    second = open(render_kamailio(settings, tmp_path / "b", listen="127.0.0.1:5062")[0]).read()
    assert "listen=udp:127.0.0.1:5060" in first and "listen=udp:127.0.0.1:5062" in second
    assert first.replace("5060", "PORT").replace(str(tmp_path / "a"), "DIR") == second.replace("5062", "PORT").replace(
        str(tmp_path / "b"), "DIR"
    )
    with pytest.raises(RenderError) as error:
        render_kamailio(settings, tmp_path / "c", listen="127.0.0.1:5064")
    assert str(error.value) == (
        "site.yaml: '--kamailio-listen' 127.0.0.1:5064 is not one of sip_front.instances "
        "(127.0.0.1:5060, 127.0.0.1:5062)"
    )


@pytest.mark.skipif(not shutil.which("kamailio"), reason="Kamailio not installed (scripts/install.sh --test)")
def test_kamailio_accepts_the_rendered_configuration(tmp_path):
    cfg, _ = render_kamailio(
        _settings(listen="127.0.0.1:5062", instances=["127.0.0.1:5060", "127.0.0.1:5062"]), tmp_path
    )
    check = subprocess.run(["kamailio", "-c", "-f", cfg], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, check.stderr[-3000:]


def test_cli_renders_kamailio_into_the_given_folder(tmp_path):
    config = tmp_path / "ccctl.yaml"
    config.write_text(
        "database: {url: 'postgresql://cc@127.0.0.1/cc'}\n"
        "sip_front:\n  instances: ['127.0.0.1:5060', '127.0.0.1:5062']\n"
        "  nodes:\n    - {name: fs-a, address: '127.0.0.1:5080'}\n"
    )
    out = tmp_path / "k"
    args = ["-c", str(config), "fs", "render", "--kamailio", "--kamailio-listen", "127.0.0.1:5062", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == [str(out / "kamailio.cfg"), str(out / "dispatcher.list")]
    assert "listen=udp:127.0.0.1:5062" in (out / "kamailio.cfg").read_text()


def test_cli_refuses_kamailio_on_a_sqlite_site_in_one_line(tmp_path):
    config = tmp_path / "ccctl.yaml"
    config.write_text("sip_front:\n  nodes:\n    - {name: fs-a, address: '127.0.0.1:5080'}\n")
    result = CliRunner().invoke(main, ["-c", str(config), "fs", "render", "--kamailio", "--out", str(tmp_path / "k")])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"ccctl: {config}: 'database.url' is sqlite: the Kamailio front reads agents' SIP digests and "
        "registrations from PostgreSQL (docs/scale-out.md)"
    ]
    assert not (tmp_path / "k").exists()
