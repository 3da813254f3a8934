"""The web chat in real Chromium, two browser contexts: a patient on the page that embeds chat.js, agents on the
workstation; SMS sign-in codes go out through a real Kannel to fakesmsc, the operator.

A Chinese question gets the parking article; the patient asks for a person; agent1 (skill chat) accepts it,
sees the transcript and a suggestion, pastes it, transfers the chat to agent2; the patient signs in by SMS code
and agent2's view gains the record. Out of hours the patient leaves a message that lands in the inbox.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import urllib.parse
from pathlib import Path

import gevent
import pytest
from emulated_site import site_settings
from sqlalchemy import select
from sqlalchemy.orm import Session
from web_site import PASSWORD, seed

from ccctl.acd.agents import add_agent, add_queue, set_status
from ccctl.acd.engine import AcdEngine
from ccctl.channels.sms_kannel import render_kannel_conf
from ccctl.records.database import make_engine
from ccctl.records.models.acd import QueueEvent
from ccctl.records.models.audit import AuditEntry
from ccctl.records.models.inbox import InboxItem
from ccctl.serve.controller import Controller, welcome_for_every_hotline

FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
OUTGOING = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) (.*)>$")
ANNA_PHONE = "+48600100200"  # the seeded patient Anna Kowalska, member 880001


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, what: str, seconds: float = 15.0) -> None:
    with gevent.Timeout(seconds, AssertionError(f"timed out waiting for {what}")):
        while not condition():
            gevent.sleep(0.05)


def listening(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _read_outgoing(stream, received: list) -> None:
    for raw in iter(stream.readline, b""):
        match = OUTGOING.search(raw.decode("utf-8", "replace").rstrip())
        if match:
            received.append(match.groups())


def sms_text(kind: str, text: str) -> str:
    raw = urllib.parse.unquote_to_bytes(text)
    return raw.decode("utf-16-be") if kind == "ucs-2" else raw.decode("utf-8", "replace")


@pytest.fixture
def kannel(tmp_path):
    """bearerbox + smsbox rendered for this test, and fakesmsc taking every SMS sent: (sms settings, received)."""
    if not Path("/usr/sbin/bearerbox").exists() or not FAKESMSC.exists():
        pytest.skip("Kannel (kannel, kannel-extras) is not installed: scripts/install.sh --test")
    settings = site_settings("sqlite://", tmp_path)
    out_port, sendsms_port = free_port(), free_port()
    sms = dataclasses.replace(
        settings.sms,
        bearerbox_admin_port=free_port(),
        bearerbox_smsbox_port=free_port(),
        sendsms_url=f"http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms",
        callback_base_url="http://127.0.0.1:9",  # delivery reports are not what this test looks at
        sender="Hospital",
    )
    settings = dataclasses.replace(settings, sms=sms)
    smscs = [{"smsc": "fake", "smsc-id": "out", "port": str(out_port), "connect-allow-ip": "127.0.0.1"}]
    conf = tmp_path / "kannel.conf"
    conf.write_text(render_kannel_conf(settings, smscs, log_dir=str(tmp_path), forced_smsc="out", log_level=0))
    processes, received = [], []

    def start(*argv, log):
        process = subprocess.Popen(argv, stdout=open(tmp_path / log, "wb"), stderr=subprocess.STDOUT)
        processes.append(process)

    try:
        start("/usr/sbin/bearerbox", "-v", "4", str(conf), log="bearerbox.out")
        wait_until(lambda: listening(sms.bearerbox_smsbox_port), "bearerbox")
        start("/usr/sbin/smsbox", "-v", "4", str(conf), log="smsbox.out")
        argv = [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(out_port), "-m", "0", "0 0 text unused"]
        receiver = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        processes.append(receiver)
        gevent.spawn(_read_outgoing, receiver.stdout, received)
        wait_until(lambda: listening(sendsms_port), "smsbox")
        yield sms, received
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def start_site(url: str, tmp_path, sms=None, **chat_changes):
    seed(url)
    add_agent(url, "agent1", "1001", {"chat": 5})
    add_agent(url, "agent2", "1002", {"billing": 5})
    set_status(url, "agent1", "Available")
    set_status(url, "agent2", "Available")
    add_queue(url, "chat", "longest-idle-agent", {"chat": 1}, {"no_answer_timeout": 60})
    settings = site_settings(url, tmp_path)
    settings = dataclasses.replace(
        settings,
        web=dataclasses.replace(settings.web, secret_key="chat-test"),
        inbox=dataclasses.replace(settings.inbox, attachments_dir=str(tmp_path / "attachments")),
        chat=dataclasses.replace(settings.chat, **chat_changes),
        acd=dataclasses.replace(settings.acd, router_tick_seconds=0.05),
        sms=sms or settings.sms,
    )
    acd = AcdEngine(url, settings.acd, domain=settings.freeswitch.domain)  # the router the chats go through
    controller = Controller(
        settings, app_factory=welcome_for_every_hotline, record_sink=lambda record: None, connect_inbound=False, acd=acd
    )
    controller.start()
    host, port = controller.web_address
    return controller, f"http://{host}:{port}"


def log_in(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#chats:not([hidden])")


def rows(url, model):
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            return list(db.scalars(select(model).order_by(model.id)))
    finally:
        engine.dispose()


def test_a_chinese_patient_gets_the_article_then_agents_and_an_sms_sign_in(
    sqlite_url, tmp_path, chromium, browser_page, kannel
):
    sms, received = kannel
    controller, base = start_site(sqlite_url, tmp_path, sms=sms)
    patient_context = chromium.new_context(viewport={"width": 1000, "height": 900}, bypass_csp=True)
    try:
        patient = patient_context.new_page()
        patient.set_default_timeout(15_000)
        patient.goto(f"{base}/chat?lang=zh")
        patient.wait_for_selector("#ccchat[data-ready=yes]")
        assert patient.text_content("#ccchat-person") == "转人工服务"
        patient.fill("#ccchat-input", "请问医院停车场在哪里？")
        patient.click("#ccchat-send")
        answer = patient.wait_for_selector("#ccchat-log li[data-article=parking]")
        assert "来源" in answer.inner_text() and "停车" in answer.inner_text()
        patient.click("#ccchat-person")
        patient.wait_for_selector("#ccchat[data-state=waiting]")

        agent = browser_page
        log_in(agent, base, "agent1")
        agent.click(".chat-tab[data-state=waiting] .chat-accept")
        agent.wait_for_selector("#chat-view[data-state=with_agent]")
        agent.wait_for_selector("#chat-log li.chat-patient:has-text('停车场')")
        assert agent.text_content("#chat-patient").startswith("Not signed in")
        agent.click(".chat-suggestion[data-slug=parking] .chat-paste")
        pasted = agent.input_value("#chat-input")
        assert pasted
        agent.click("#chat-send")
        patient.wait_for_selector("#ccchat-log li.ccchat-agent")
        assert patient.text_content("#ccchat-log li.ccchat-agent p") == pasted

        agent.fill("#chat-xfer-agent", "agent2")
        agent.click("#chat-xfer-agent-button")
        agent.wait_for_selector("#no-chats")  # no longer agent1's
        log_in(agent, base, "agent2")
        agent.click(".chat-tab[data-state=waiting] .chat-accept")
        agent.wait_for_selector("#chat-view[data-state=with_agent]")
        agent.wait_for_selector("#chat-log li.chat-agent")  # agent1's answer is in the transcript agent2 sees

        # the patient signs in by a code sent by SMS to the phone on their record
        patient.click("#ccchat-sign-in summary")
        patient.fill("#ccchat-member", "880001")
        patient.click("#ccchat-send-code")
        wait_until(lambda: received, "the code at the operator")
        (_sender, to, kind, text) = received[0]
        assert to == ANNA_PHONE
        code = re.search(r"\d{6}", sms_text(kind, text)).group(0)
        patient.fill("#ccchat-code", code)
        patient.click("#ccchat-code-sign-in")
        patient.wait_for_selector("#ccchat[data-signed-in=yes]")
        agent.wait_for_selector("#chat-patient:has-text('Anna Kowalska')")
        patient_id = int(agent.get_attribute("#chat-patient", "data-patient"))
        assert ("agent2", "chat view") in [
            (a.actor, a.action) for a in rows(sqlite_url, AuditEntry) if a.patient_id == patient_id
        ]
        assert code not in " ".join(a.detail for a in rows(sqlite_url, AuditEntry))
        # the whole record opens as after a call's screen pop (the agent holds this patient's chat)
        record = agent.request.get(f"{base}/api/v1/patients/{patient_id}")
        assert record.ok and record.json()["display_name"] == "Anna Kowalska"

        agent.click("#chat-end")
        agent.wait_for_selector("#chat-result:text('Zamknięty.')")  # agent2 works in Polish
        patient.wait_for_selector("#ccchat[data-state=closed]")
        (item,) = rows(sqlite_url, InboxItem)
        assert (item.channel, item.patient_id) == ("chat", patient_id) and "停车场" in item.body
        # the ACD routed it: offered to agent1 (the chat skill), accepted, moved to agent2, finished with the wrap-up
        kinds = [e.kind for e in rows(sqlite_url, QueueEvent) if e.channel == "chat"]
        assert kinds == [
            "entered", "offered", "answered", "transfer_requested", "offered", "answered", "ended", "wrapup_end"
        ]  # fmt: skip
    finally:
        patient_context.close()
        controller.stop(grace=1)


def test_out_of_hours_the_patient_leaves_a_message_in_the_inbox(sqlite_url, tmp_path, browser_page):
    controller, base = start_site(sqlite_url, tmp_path, open_days=[])
    try:
        page = browser_page
        page.goto(f"{base}/chat?lang=pl")
        page.wait_for_selector("#ccchat[data-ready=yes]")
        page.click("#ccchat-person")
        page.wait_for_selector("#ccchat-leave:not([hidden])")
        page.fill("#ccchat-leave-contact", "anna@example.org")
        page.fill("#ccchat-leave-message", "Proszę o kontakt w sprawie wyników.")
        page.click("#ccchat-leave-send")
        page.wait_for_selector("#ccchat[data-reference]")
        (item,) = rows(sqlite_url, InboxItem)
        assert page.get_attribute("#ccchat", "data-reference") == f"C{item.id}"
        assert (item.channel, item.needs_reply, item.patient_id) == ("chat", True, None)
        assert "wyników" in item.body and "anna@example.org" in item.body
        page.wait_for_selector(f"#ccchat-log li.ccchat-system:has-text('C{item.id}')")
    finally:
        controller.stop(grace=1)
