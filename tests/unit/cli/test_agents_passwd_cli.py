"""`ccctl agents passwd`: each agent's own SIP password, shown once, kept as FreeSWITCH's a1-hash; `fs render`
writes the digests and refuses the shipped shared password outside a demo."""

from __future__ import annotations

import hashlib
import json
import re
import stat

DOMAIN = "cc.local"


def add_agent(ccctl, name: str, extension: str) -> None:
    result = ccctl("agents", "add", name, "--extension", extension)
    assert result.exit_code == 0, result.output


def user_params(conf_text: str, extension: str) -> str:
    return re.search(rf'<user id="{extension}">(.*?)</user>', conf_text, re.S).group(1)


def test_passwd_shows_a_new_password_once_and_keeps_only_its_digest(ccctl, settings_file, tmp_path):
    ccctl("db", "upgrade")
    add_agent(ccctl, "alice", "1001")
    first = ccctl("agents", "passwd", "alice")
    second = ccctl("agents", "passwd", "alice")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    password = re.search(r"new SIP password \(shown only now\): (\S+)", first.stdout).group(1)
    rotated = re.search(r"new SIP password \(shown only now\): (\S+)", second.stdout).group(1)
    assert len(password) >= 20 and rotated != password
    store = tmp_path / "var" / "agent-sip.json"
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    text = store.read_text()
    assert password not in text and rotated not in text
    assert json.loads(text) == {"1001": hashlib.md5(f"1001:{DOMAIN}:{rotated}".encode()).hexdigest()}


def test_passwd_for_an_unknown_agent_names_it(ccctl):
    ccctl("db", "upgrade")
    result = ccctl("agents", "passwd", "nobody")
    assert result.exit_code == 1 and "no agent named 'nobody'" in result.stderr


def test_render_refuses_the_shared_default_outside_the_demo_and_writes_digests(ccctl, settings_file, tmp_path):
    ccctl("db", "upgrade")
    own_esl = "esl:\n  password: Xk9-secret\n"  # FreeSWITCH's shipped ClueCon is refused first
    settings_file.write_text(settings_file.read_text() + own_esl + "freeswitch:\n  agent_extensions: 1001-1002\n")
    add_agent(ccctl, "alice", "1001")
    add_agent(ccctl, "bob", "1002")
    conf = tmp_path / "conf"
    refused = ccctl("fs", "render", "--out", str(conf))
    assert refused.exit_code == 1
    assert "freeswitch.agents_password is the shipped default 'change-me' and 2 agent extensions" in refused.stderr
    assert not conf.exists()
    ccctl("agents", "passwd", "alice")
    still_one = ccctl("fs", "render", "--out", str(conf))
    assert still_one.exit_code == 1 and "1 agent extensions (first 1002)" in still_one.stderr
    ccctl("agents", "passwd", "bob")
    rendered = ccctl("fs", "render", "--out", str(conf))
    assert rendered.exit_code == 0, rendered.output
    directory = (conf / "directory" / "agents.xml").read_text()
    digests = json.loads((tmp_path / "var" / "agent-sip.json").read_text())
    for extension in ("1001", "1002"):
        assert f'<param name="a1-hash" value="{digests[extension]}"/>' in user_params(directory, extension)
    assert "change-me" not in directory and 'name="password"' not in directory


def test_demo_renders_the_shared_default_with_a_warning(ccctl, settings_file, tmp_path):
    result = ccctl("fs", "render", "--demo", "--out", str(tmp_path / "conf"))
    assert result.exit_code == 0, result.output
    assert "freeswitch.agents_password is the shipped default 'change-me'" in result.stderr
    directory = (tmp_path / "conf" / "directory" / "agents.xml").read_text()
    assert '<param name="password" value="change-me"/>' in user_params(directory, "1000")
