"""The directory gets each agent's own a1-hash from freeswitch.agents_credentials, and nothing else from that file."""

from __future__ import annotations

import dataclasses
import json
import re

from fs_rendering import example_settings

from ccctl.acd.sip_credentials import a1_hash
from ccctl.deploy.fs_render import render_all, shared_default_refusal


def settings_with(tmp_path, agents_password: str = "change-me", **digests: str):
    store = tmp_path / "agent-sip.json"
    store.write_text(json.dumps(digests))
    settings = example_settings()
    fs = dataclasses.replace(
        settings.freeswitch,
        agent_extensions="1000-1002",
        agents_password=agents_password,
        agents_credentials=str(store),
    )
    return dataclasses.replace(settings, freeswitch=fs)


def user(directory: str, extension: str) -> str:
    return re.search(rf'<user id="{extension}">(.*?)</user>', directory, re.S).group(1)


def test_an_agent_with_a_digest_gets_it_and_the_others_the_shared_password(tmp_path):
    digest = a1_hash("1000", "cc.local", "own-secret")
    settings = settings_with(
        tmp_path, "Shared-one", **{"1000": digest, "1001": 'not-a-digest"/><x', "2000": a1_hash("2000", "d", "p")}
    )
    render_all(settings, tmp_path / "conf")
    directory = (tmp_path / "conf" / "directory" / "agents.xml").read_text()
    assert f'<param name="a1-hash" value="{digest}"/>' in user(directory, "1000")
    assert "Shared-one" not in user(directory, "1000")
    assert '<param name="password" value="Shared-one"/>' in user(directory, "1001")
    assert "not-a-digest" not in directory and '<user id="2000">' not in directory


def test_the_shipped_password_is_refused_while_an_extension_would_use_it(tmp_path):
    own = {ext: a1_hash(ext, "cc.local", "p") for ext in ("1000", "1001")}
    refusal = shared_default_refusal(settings_with(tmp_path, **own))
    assert refusal is not None and "1 agent extensions (first 1002)" in refusal and "ccctl agents passwd" in refusal
    assert shared_default_refusal(settings_with(tmp_path, **own, **{"1002": a1_hash("1002", "cc.local", "p")})) is None
    assert shared_default_refusal(settings_with(tmp_path, "Shared-one")) is None
