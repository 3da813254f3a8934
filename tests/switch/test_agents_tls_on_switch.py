"""The TLS agents profile on a real FreeSWITCH: rendered with a self-signed certificate the test makes
with openssl, the switch starts it, `sofia status` shows it running, and a TLS client that trusts only
that certificate completes a handshake on its port."""

from __future__ import annotations

import socket
import ssl
import subprocess

from switch_site import QUEUE_FLOW, SwitchSite, free_port


def self_signed(folder) -> None:
    """agent.pem (certificate, then key) and cafile.pem (the certificate itself) for 127.0.0.1."""
    folder.mkdir()
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
            "-subj", "/CN=cc.test", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    certificate = (folder / "cert.pem").read_text()
    (folder / "agent.pem").write_text(certificate + (folder / "key.pem").read_text())
    (folder / "cafile.pem").write_text(certificate)


def test_the_switch_runs_the_tls_agents_profile_with_the_rendered_certificate(tmp_path):
    certs = tmp_path / "tls"
    self_signed(certs)
    port = free_port()
    site = SwitchSite(
        tmp_path / "site",
        {"main.yaml": QUEUE_FLOW},
        settings={"freeswitch": {"agents_tls": {"port": port, "cert_dir": str(certs)}}},
    )
    try:
        site.start_switch_without_controller()
        site.wait_for(lambda: "agents_tls" in site.api("sofia status"), timeout=20, what="the agents_tls profile")
        status = site.api("sofia status")
        (row,) = [line.split("\t") for line in status.splitlines() if line.strip().startswith("agents_tls")]
        # "agents_tls  profile  sip:mod_sofia@127.0.0.1:<port>  RUNNING (0) (TLS)"
        assert row[2].strip().endswith(f"@127.0.0.1:{port}") and row[3].startswith("RUNNING"), status
        assert "(TLS)" in row[3], status
        profile = site.api("sofia status profile agents_tls")
        assert f"sips:mod_sofia@127.0.0.1:{port};transport=tls" in profile and "agents_tls" in profile

        context = ssl.create_default_context(cafile=str(certs / "cafile.pem"))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                subject = dict(item for part in tls.getpeercert()["subject"] for item in part)
        assert subject["commonName"] == "cc.test"
    finally:
        site.stop()
