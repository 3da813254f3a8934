"""The TLS + SRTP agents profile: rendered only when freeswitch.agents_tls.port is set, refused in one
line naming the key when its certificates are missing, and its calls go on only with SRTP."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from fs_document import configuration, context, params
from fs_preprocessor import assemble
from fs_rendering import example_settings

from ccctl.config import AgentsTlsSettings
from ccctl.deploy.fs_render import RenderError, render_all

CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
PRIVATE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"


def cert_dir(tmp_path: Path, agent: str = CERTIFICATE + PRIVATE_KEY, ca: str | None = CERTIFICATE) -> Path:
    folder = tmp_path / "tls"
    folder.mkdir(exist_ok=True)
    (folder / "agent.pem").write_text(agent)
    if ca is not None:
        (folder / "cafile.pem").write_text(ca)
    return folder


def with_tls(port: int, folder: Path | str):
    settings = example_settings()
    tls = AgentsTlsSettings(port=port, cert_dir=str(folder))
    return dataclasses.replace(settings, freeswitch=dataclasses.replace(settings.freeswitch, agents_tls=tls))


def profiles(out: Path) -> dict[str, dict[str, str]]:
    sofia = configuration(assemble(out / "freeswitch.xml").document(), "sofia.conf")
    return {p.get("name"): params(p.find("./settings")) for p in sofia.findall("./profiles/profile")}


def test_without_a_port_there_is_no_tls_profile_and_no_srtp_context(tmp_path):
    render_all(example_settings(), tmp_path / "conf")
    assert set(profiles(tmp_path / "conf")) == {"agents", "trunk"}
    dialplan = assemble(tmp_path / "conf" / "freeswitch.xml").document()
    assert dialplan.find(".//context[@name='agents_tls']") is None


def test_the_tls_profile_listens_on_tls_only_with_the_certificates_and_its_calls_need_srtp(tmp_path):
    folder = cert_dir(tmp_path)
    render_all(with_tls(5061, folder), tmp_path / "conf")

    tls = profiles(tmp_path / "conf")["agents_tls"]
    assert (tls["tls"], tls["tls-only"], tls["tls-sip-port"], tls["sip-port"]) == ("true", "true", "5061", "5061")
    assert (tls["tls-bind-params"], tls["tls-cert-dir"], tls["context"]) == ("transport=tls", str(folder), "agents_tls")
    assert (tls["auth-calls"], tls["accept-blind-reg"]) == (
        "true",
        "false",
    )  # digest passwords as on the agents profile
    assert profiles(tmp_path / "conf")["agents"]["sip-port"] == "5060"
    srtp = context(assemble(tmp_path / "conf" / "freeswitch.xml").document(), "agents_tls").find("./extension")
    condition = srtp.find("./condition")
    assert (condition.get("field"), condition.get("expression")) == ("${rtp_has_crypto}", "^$")
    assert [(a.get("application"), a.get("data")) for a in condition.findall("./action")] == [
        ("respond", "488 Not Acceptable Here")
    ]
    assert [(a.get("application"), a.get("data")) for a in condition.findall("./anti-action")] == [
        ("set", "rtp_secure_media=mandatory"),
        ("transfer", "${destination_number} XML agents"),
    ]


@pytest.mark.parametrize(
    ("agent", "ca", "message"),
    [
        (CERTIFICATE + PRIVATE_KEY, None, r"'freeswitch.agents_tls.cert_dir' .*/cafile.pem: cannot read it"),
        (CERTIFICATE, CERTIFICATE, r"'freeswitch.agents_tls.cert_dir' .*/agent.pem holds no PEM PRIVATE KEY$"),
        ("not a pem", CERTIFICATE, r"agent.pem holds no PEM CERTIFICATE and no PRIVATE KEY$"),
    ],
)
def test_missing_certificate_files_are_refused_naming_the_key_and_nothing_is_written(tmp_path, agent, ca, message):
    with pytest.raises(RenderError, match=message) as refused:
        render_all(with_tls(5061, cert_dir(tmp_path, agent, ca)), tmp_path / "conf")
    assert "\n" not in str(refused.value) and "MIIE" not in str(refused.value)
    assert not (tmp_path / "conf").exists()


def test_a_tls_port_without_a_folder_or_on_a_taken_port_is_refused(tmp_path):
    with pytest.raises(RenderError, match=r"'freeswitch.agents_tls.cert_dir' must name the folder"):
        render_all(with_tls(5061, ""), tmp_path / "conf")
    with pytest.raises(
        RenderError, match=r"'freeswitch.agents_tls.port' 5060 is already used by 'freeswitch.agents_sip_port'"
    ):
        render_all(with_tls(5060, cert_dir(tmp_path)), tmp_path / "conf")
    with pytest.raises(RenderError, match=r"'freeswitch.agents_tls.cert_dir' has characters"):
        render_all(with_tls(5061, "relative/tls"), tmp_path / "conf")
