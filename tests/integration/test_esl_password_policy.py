"""FreeSWITCH's shipped ESL password (ClueCon), or none, is refused by everything that drives a real switch.

`ccctl serve`, the commands that open the event socket (transfer, monitor, consult, fax send) and `ccctl fs
render` say in one line which setting to change, before they connect, queue or write anything; the demo's
site, whose switch is the emulator in its own process, runs on the shipped settings as they are (`ccctl demo`
itself on the shipped ccctl.yaml: tests/integration/test_demo.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from click.testing import CliRunner
from emulated_site import EmulatedSite, site_settings
from test_cli_without_switch import tiny_png

from ccctl.cli import main
from ccctl.config import load_settings
from ccctl.serve.controller import welcome_for_every_hotline
from ccctl.sim.callers import CallerScript

REPO = Path(__file__).resolve().parents[2]
COMMANDS = {
    "serve": ["serve"],
    "transfer": ["transfer", "ann", "--to-queue", "cardio"],
    "monitor": ["monitor", "listen", "ann", "--from", "2001"],
    "consult": ["consult", "ann", "--dial", "user/1201"],
    "fs render": ["fs", "render", "--out", "conf"],
}


def settings_with(tmp_path: Path, password: str | None) -> Path:
    """A settings file whose ESL password is `password` (None: the shipped default, not written at all).

    Its database is never upgraded: were the password let through, `ccctl serve` would stop at the schema
    check instead of running on.
    """
    esl = "" if password is None else f"esl:\n  password: {password!r}\n"
    database = f"sqlite:///{tmp_path / 'never-upgraded.db'}"
    path = tmp_path / "ccctl.yaml"
    path.write_text(f"database:\n  url: {database}\nfax:\n  faxes_dir: {tmp_path / 'faxes'}\n{esl}")
    return path


@pytest.mark.parametrize("password", [None, "ClueCon", ""], ids=["unset", "ClueCon", "empty"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_shipped_or_an_empty_esl_password_is_refused_in_one_line_naming_the_setting(
    tmp_path, monkeypatch, command, password
):
    monkeypatch.chdir(tmp_path)
    path = settings_with(tmp_path, password)
    result = CliRunner().invoke(main, ["-c", str(path), *COMMANDS[command]])
    assert result.exit_code == 1, result.output
    what = "empty" if password == "" else "FreeSWITCH's shipped default 'ClueCon'"
    assert result.stderr.splitlines() == [
        f"ccctl: {path}: esl.password is {what}: anyone who reaches the event socket could control the switch; "
        "set esl.password (or CCCTL_ESL__PASSWORD) to a secret of your own, then `ccctl fs render` writes it "
        "for FreeSWITCH"
    ]
    assert result.stdout == "" and not (tmp_path / "conf").exists()


def test_fax_send_refuses_the_shipped_password_before_it_queues_the_fax(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = settings_with(tmp_path, "ClueCon")
    CliRunner().invoke(main, ["-c", str(path), "db", "upgrade"])
    sent = CliRunner().invoke(main, ["-c", str(path), "fax", "send", "0140000001", str(tiny_png(tmp_path / "a.png"))])
    assert sent.exit_code == 1 and "esl.password is FreeSWITCH's shipped default 'ClueCon'" in sent.stderr
    listed = CliRunner().invoke(main, ["-c", str(path), "fax", "list", "--json"])
    assert (listed.exit_code, listed.stdout.strip()) == (0, "[]")
    assert not (tmp_path / "faxes").exists()


def test_an_environment_password_is_taken_and_render_demo_still_writes_the_shipped_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = settings_with(tmp_path, None)
    rendered = CliRunner().invoke(
        main,
        ["-c", str(path), "fs", "render", "--out", "conf"],
        env={"CCCTL_ESL__PASSWORD": "Xk9-own-secret", "CCCTL_FREESWITCH__AGENTS_PASSWORD": "Ag3nts-own"},
    )
    assert rendered.exit_code == 0, rendered.output
    assert 'value="Xk9-own-secret"' in (tmp_path / "conf" / "autoload_configs" / "event_socket.conf.xml").read_text()
    demo = CliRunner().invoke(main, ["-c", str(path), "fs", "render", "--demo", "--out", "demo-conf"])
    assert demo.exit_code == 0, demo.output
    assert "ccctl: warning: esl.password is the shipped default 'ClueCon'" in demo.stderr


def test_the_emulated_site_runs_on_the_shipped_password_that_serve_refuses(sqlite_url, tmp_path):
    """What `ccctl demo` runs: the emulator in-process, on the shipped ccctl.yaml's ClueCon."""
    shipped = load_settings(str(REPO / "ccctl.yaml"), environ={})
    assert shipped.esl.password == "ClueCon"
    settings = site_settings(sqlite_url, tmp_path)
    settings = dataclasses.replace(settings, esl=dataclasses.replace(settings.esl, password=shipped.esl.password))
    with EmulatedSite(settings, welcome_for_every_hotline) as site:
        outcome = site.switch.place_call(CallerScript("13800000001", "7000", ["2"], context="public")).wait(30)
        inbound = site.controller.status()["esl"]["inbound"]["status"]
        site.wait_idle()
    assert outcome is not None and outcome.answered and outcome.failure == ""
    assert inbound == "connected"
    never_upgraded = {"CCCTL_DATABASE__URL": f"sqlite:///{tmp_path / 'never-upgraded.db'}"}
    served = CliRunner().invoke(main, ["-c", str(REPO / "ccctl.yaml"), "serve"], env=never_upgraded)
    assert served.exit_code == 1
    assert "ccctl.yaml: esl.password is FreeSWITCH's shipped default 'ClueCon'" in served.stderr
