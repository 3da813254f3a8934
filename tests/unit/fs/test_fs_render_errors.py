"""Settings FreeSWITCH would reject are refused before anything is written, in one line naming the key."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fs_rendering import SEVERAL_HOTLINES

from ccctl.cli import main
from ccctl.config import Settings
from ccctl.deploy.fs_render import RenderError, render_all


def _settings(**changes) -> Settings:
    settings = Settings()
    settings.source = "site.yaml"
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        setattr(getattr(settings, section), key, value)
    return settings


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"freeswitch__trunk_acl": ["10.0.0.300/8"]},
            "'freeswitch.trunk_acl[0]' is not an IP network (CIDR), got '10.0.0.300/8'",
        ),
        ({"freeswitch__trunk_acl": []}, "'freeswitch.trunk_acl' is empty"),
        (
            {"freeswitch__agent_extensions": "1099-1000"},
            "'freeswitch.agent_extensions' starts after it ends, got '1099-1000'",
        ),
        (
            {"freeswitch__agent_extensions": "agents"},
            "'freeswitch.agent_extensions' must be a range like 1000-1099, got 'agents'",
        ),
        (
            {"freeswitch__rtp_ports": "30000-20000"},
            "'freeswitch.rtp_ports' must lie within 1024-65535 and start before it ends, got '30000-20000'",
        ),
        ({"freeswitch__rtp_ports": "20000-20009"}, "'freeswitch.rtp_ports' has fewer than 20 ports, got '20000-20009'"),
        ({"freeswitch__agents_sip_port": 0}, "'freeswitch.agents_sip_port' must be a port number (1-65535), got 0"),
        (
            {"freeswitch__trunk_sip_port": 70000},
            "'freeswitch.trunk_sip_port' must be a port number (1-65535), got 70000",
        ),
        (
            {"freeswitch__trunk_sip_port": 5060},
            "'freeswitch.trunk_sip_port' 5060 is already used by 'freeswitch.agents_sip_port'",
        ),
        ({"esl__inbound_port": 5080}, "'esl.inbound_port' 5080 is already used by 'freeswitch.trunk_sip_port'"),
        ({"esl__outbound_port": 0}, "'esl.outbound_port' must be a port number (1-65535), got 0"),
        (
            {"freeswitch__tts_engine": "espeak"},
            "'freeswitch.tts_engine' must be one of flite, tts_commandline, got 'espeak'",
        ),
        ({"freeswitch__tts_voice": "bob"}, "'freeswitch.tts_voice' must be a flite voice"),
        (
            {"freeswitch__domain": "cc local"},
            "'freeswitch.domain' has characters FreeSWITCH cannot take here, got 'cc local'",
        ),
        (
            {"freeswitch__sounds_dir": "sounds"},
            "'freeswitch.sounds_dir' has characters FreeSWITCH cannot take here, got 'sounds'",
        ),
        (
            {"freeswitch__sip_ip": "sip.example.org"},
            "'freeswitch.sip_ip' must be an IP address (or empty for the detected one), got 'sip.example.org'",
        ),
        ({"freeswitch__sip_ip": "0.0.0.0"}, "'freeswitch.sip_ip' must be one address the phones can reach"),
        (
            {"esl__inbound_host": "localhost"},
            "'esl.inbound_host' must be an IP address FreeSWITCH listens on, got 'localhost'",
        ),
        (
            {"esl__inbound_host": "10.0.0.5", "esl__outbound_host": "ccctl.lan"},
            "'esl.outbound_host' must be an IP address",
        ),
        ({"freeswitch__agent_extensions": "6990-7010"}, "'hotlines[0].did' '7000' is also an agent extension"),
    ],
)
def test_bad_setting_is_one_line_naming_key_and_value(tmp_path, changes, message):
    with pytest.raises(RenderError) as err:
        render_all(_settings(**changes), tmp_path / "conf")
    assert str(err.value).startswith("site.yaml: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "conf").exists(), "nothing is written when a setting is wrong"


@pytest.mark.parametrize("did", ["70a0", "7000 ", "", "+", "49-30"])
def test_bad_did_names_the_hotline(tmp_path, did):
    settings = _settings()
    settings.hotlines[0].did = did
    with pytest.raises(RenderError, match=r"'hotlines\[0\].did' must be digits with an optional leading '\+'"):
        render_all(settings, tmp_path / "conf")


@pytest.mark.parametrize(
    ("did", "message"),
    [
        ("79.0", "'fax.dids[0]' must be digits with an optional leading '+', got '79.0'"),
        ("7000", "'fax.dids[0]' '7000' is also a hotline DID"),
        ("1001", "'fax.dids[0]' '1001' is also an agent extension"),
    ],
)
def test_bad_fax_did_is_named(tmp_path, did, message):
    settings = _settings()
    settings.fax.dids = [did]
    with pytest.raises(RenderError) as err:
        render_all(settings, tmp_path / "conf")
    assert message in str(err.value)
    assert not (tmp_path / "conf").exists()


@pytest.mark.parametrize("key", ["esl__password", "freeswitch__agents_password"])
@pytest.mark.parametrize("secret", ["x$${domain}", "two words", "", "a\nb", "my-X-PRE-PROCESS"])
def test_bad_password_is_named_but_not_shown(tmp_path, key, secret):
    with pytest.raises(RenderError) as err:
        render_all(_settings(**{key: secret}), tmp_path / "conf")
    assert f"'{key.replace('__', '.')}'" in str(err.value)
    assert (secret not in str(err.value)) or not secret


def test_event_socket_beyond_loopback_admits_only_the_ccctl_host(tmp_path):
    from fs_document import configuration, params
    from fs_preprocessor import assemble

    settings = _settings(esl__inbound_host="10.0.0.5", esl__outbound_host="10.0.0.9")
    render_all(settings, tmp_path / "conf")
    doc = assemble(tmp_path / "conf" / "freeswitch.xml").document()
    socket = params(configuration(doc, "event_socket.conf").find("./settings"))
    assert (socket["listen-ip"], socket["apply-inbound-acl"]) == ("10.0.0.5", "esl_clients")
    acl = configuration(doc, "acl.conf").find("./network-lists/list[@name='esl_clients']")
    assert acl.get("default") == "deny"
    assert [n.get("cidr") for n in acl.findall("./node")] == ["10.0.0.9/32", "127.0.0.0/8", "::1/128"]


def test_cli_prints_the_written_paths(tmp_path):
    config = tmp_path / "ccctl.yaml"
    config.write_text(SEVERAL_HOTLINES)
    out = tmp_path / "conf"
    result = CliRunner().invoke(main, ["-c", str(config), "fs", "render", "--out", str(out)])
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines()
    assert printed == sorted(printed)
    assert str(out / "freeswitch.xml") in printed
    assert str(out / "dialplan" / "public.xml") in printed
    assert sorted(str(p) for p in out.rglob("*.xml")) == printed


def test_cli_bad_did_exits_non_zero_with_one_line(tmp_path):
    config = tmp_path / "ccctl.yaml"
    config.write_text(SEVERAL_HOTLINES.replace('did: "7001"', 'did: "70O1"'))
    result = CliRunner().invoke(main, ["-c", str(config), "fs", "render", "--out", str(tmp_path / "conf")])
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"ccctl: {config}: 'hotlines[3].did'")
    assert "'70O1'" in lines[0]
