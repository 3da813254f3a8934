"""Real mail servers for the e-mail tests: aiosmtpd (SMTP, delivering into a maildir) and Dovecot (IMAP).

Both run as child processes on free ports with their files in temporary directories; each test
gets its own servers, so tests can run in parallel with other helpers' tests.
"""

from __future__ import annotations

import email
import email.policy
import imaplib
import mailbox
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
START_TIMEOUT_S = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    detail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    pytest.fail(f"server on port {port} did not start; log:\n{detail}", pytrace=False)


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class SmtpServer:
    host: str
    port: int
    maildir: Path

    def messages(self) -> list[EmailMessage]:
        """Every mail the server accepted, in the order it accepted them."""
        box = mailbox.Maildir(self.maildir, create=False)
        return [email.message_from_bytes(box.get_bytes(key), policy=email.policy.default) for key in _arrival(box)]


def _arrival(box: mailbox.Maildir) -> list[str]:
    # Maildir names are '<seconds>.M<microseconds>P<pid>Q<counter>.<host>': as text they sort 'M9' after 'M10'
    def when(key: str) -> tuple[int, int, int]:
        seconds, rest = key.split(".", 1)
        micro, _, counter = rest.split(".", 1)[0][1:].partition("P")
        return int(seconds), int(micro), int(counter.rpartition("Q")[2] or 0)

    return sorted(box.keys(), key=when)


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    """aiosmtpd in its own process, storing every accepted mail in tmp_path/smtp-maildir."""
    maildir = tmp_path / "smtp-maildir"
    mailbox.Maildir(maildir, create=True)
    port = free_port()
    log = tmp_path / "aiosmtpd.log"
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}"]
    command += ["-c", "aiosmtpd.handlers.Mailbox", str(maildir)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process, log)
        yield SmtpServer("127.0.0.1", port, maildir)
    finally:
        _stop(process)


@dataclass
class ImapServer:
    host: str
    port: int
    user: str
    password: str

    def append(self, raw: bytes) -> None:
        """Deliver a mail into the user's INBOX the way a mail server would (IMAP APPEND)."""
        imap = imaplib.IMAP4(self.host, self.port)
        try:
            imap.login(self.user, self.password)
            status, detail = imap.append("INBOX", None, None, raw)
            assert status == "OK", detail
        finally:
            imap.logout()

    def unseen(self) -> int:
        imap = imaplib.IMAP4(self.host, self.port)
        try:
            imap.login(self.user, self.password)
            imap.select("INBOX")
            _, data = imap.uid("SEARCH", None, "UNSEEN")
            return len(data[0].split())
        finally:
            imap.logout()


def _dovecot_conf(base: Path, port: int, system_user: str) -> str:
    return f"""
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {system_user if os.geteuid() else "dovenull"}
default_internal_user = {system_user if os.geteuid() else "dovecot"}
mail_location = maildir:{base}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {base}/users
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


@pytest.fixture
def dovecot() -> Iterator[ImapServer]:
    """A real Dovecot IMAP server with one mailbox user (inbox/secret) in its own temporary directory."""
    if not Path(DOVECOT).exists():
        pytest.fail("dovecot not found: install the Debian package dovecot-imapd (scripts/install.sh --test)")
    # not under tmp_path: pytest makes that 0700 and Dovecot's mail processes run as another user
    base = Path(tempfile.mkdtemp(prefix="ccctl-dovecot-"))
    base.chmod(0o711)
    for name in ("run", "state", "mail", "home"):
        (base / name).mkdir(parents=True)
    # Dovecot refuses to run mail processes as root: as root the mail belongs to 'nobody'
    uid, gid = (os.getuid(), os.getgid()) if os.geteuid() else (65534, 65534)
    for name in ("mail", "home"):
        os.chown(base / name, uid, gid)
    (base / "users").write_text(f"inbox:{{PLAIN}}secret:{uid}:{gid}::{base}/home\n")
    port = free_port()
    conf = base / "dovecot.conf"
    conf.write_text(_dovecot_conf(base, port, pwd.getpwuid(os.getuid()).pw_name))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_listening(port, process, base / "dovecot.log")
        yield ImapServer("127.0.0.1", port, "inbox", "secret")
    finally:
        _stop(process)
        shutil.rmtree(base, ignore_errors=True)


def ccctl_runner(settings_yaml: Path, monkeypatch: pytest.MonkeyPatch):
    """run(*args, fails=False) -> output of `ccctl -c settings_yaml ARGS`, checking the exit status."""
    from click.testing import CliRunner

    from ccctl.cli import main

    for name in ("CCCTL_CONFIG", "CCCTL_DATABASE__URL"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str, fails: bool = False) -> str:
        result = CliRunner().invoke(main, ["-c", str(settings_yaml), *args])
        assert (result.exit_code != 0) == fails, result.output
        return result.output

    return run


def smtp_settings(smtp: SmtpServer) -> str:
    """The `email:` section lines for sending through the test SMTP server."""
    return f"email:\n  smtp_host: {smtp.host}\n  smtp_port: {smtp.port}\n  from_address: contact@hospital.example\n"
