"""SMS through a real Kannel: bearerbox + smsbox from a kannel.conf we render, fakesmsc as the operator.

One fakesmsc takes every outgoing SMS (its stdout lists them); another, started per message,
injects an incoming SMS. Kannel calls our blueprint, served by gevent.pywsgi on an ephemeral port.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import pytest
from flask import Flask
from gevent.pywsgi import WSGIServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.sms import SmsError, send_sms
from ccctl.channels.sms_bulk import Selection, batch_status, run_bulk
from ccctl.channels.sms_kannel import render_kannel_conf
from ccctl.channels.sms_records import is_opted_out
from ccctl.channels.sms_web import blueprint
from ccctl.config import Settings
from ccctl.patients.fields import SpecialtyFields
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine
from ccctl.records.models.channels import SmsMessage
from ccctl.records.models.inbox import InboxItem
from ccctl.records.models.patients import Patient

FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")
OUTGOING = re.compile(r"Got message \d+: <(\S+) (\S+) (\S+) (.*)>$")

pytestmark = pytest.mark.skipif(
    not (shutil.which("bearerbox") or Path("/usr/sbin/bearerbox").exists()) or not FAKESMSC.exists(),
    reason="Kannel (kannel, kannel-extras) is not installed: scripts/install.sh --test",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class SmsWebContext:
    """What the blueprint needs of the web app's context: settings and a transaction."""

    settings: Settings
    engine: object

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as db, db.begin():
            yield db


@dataclass
class KannelSite:
    settings: Settings
    engine: object
    tmp: Path
    in_port: int
    received: list[tuple[str, str, str, str]] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def start(self, *argv: str, log: str) -> subprocess.Popen:
        process = subprocess.Popen(argv, stdout=open(self.tmp / log, "wb"), stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def inject(self, sender: str, kind: str, text: str) -> None:
        """The operator delivers one SMS to us; returns once it is in the inbox."""
        before = self.inbox_count()
        argv = [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(self.in_port), "-m", "1", f"{sender} 7000 {kind} {text}"]
        process = self.start(*argv, log=f"fakesmsc-in-{before}.log")
        try:
            wait_until(lambda: self.inbox_count() > before, f"incoming SMS filed ({self.tmp})")
        finally:
            process.kill()
            process.wait()

    def inbox_count(self) -> int:
        with self.session() as db:
            return len(db.scalars(select(InboxItem.id)).all())


def wait_until(condition, what: str, seconds: float = 15.0) -> None:
    with gevent.Timeout(seconds, AssertionError(f"timed out waiting for {what}")):
        while not condition():
            gevent.sleep(0.05)


def wait_for_port(port: int) -> None:
    def listening() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    wait_until(listening, f"Kannel port {port}")


def _read_outgoing(stream, received: list) -> None:
    for raw in iter(stream.readline, b""):
        match = OUTGOING.search(raw.decode("utf-8", "replace").rstrip())
        if match:
            received.append(match.groups())


@pytest.fixture
def kannel(tmp_path: Path, sqlite_url: str) -> Iterator[KannelSite]:
    app = Flask("sms-test")
    engine = make_engine(sqlite_url)
    settings = Settings()
    settings.database.url = sqlite_url
    settings.sms.messages_per_second = 50.0
    settings.sms.sender = "Hospital"
    app.extensions["ccctl"] = SmsWebContext(settings, engine)
    app.register_blueprint(blueprint)
    web = WSGIServer(("127.0.0.1", 0), app, log=None)
    web.start()
    out_port, in_port, sendsms_port = free_port(), free_port(), free_port()
    settings.sms.bearerbox_admin_port, settings.sms.bearerbox_smsbox_port = free_port(), free_port()
    settings.sms.sendsms_url = f"http://127.0.0.1:{sendsms_port}/cgi-bin/sendsms"
    settings.sms.callback_base_url = f"http://127.0.0.1:{web.server_port}"
    smscs = [
        {"smsc": "fake", "smsc-id": "out", "port": str(out_port), "connect-allow-ip": "127.0.0.1"},
        {"smsc": "fake", "smsc-id": "in", "port": str(in_port), "connect-allow-ip": "127.0.0.1"},
    ]
    conf = tmp_path / "kannel.conf"
    conf.write_text(render_kannel_conf(settings, smscs, log_dir=str(tmp_path), forced_smsc="out", log_level=0))
    site = KannelSite(settings, engine, tmp_path, in_port)
    try:
        site.start("/usr/sbin/bearerbox", "-v", "4", str(conf), log="bearerbox.out")
        wait_for_port(settings.sms.bearerbox_smsbox_port)
        site.start("/usr/sbin/smsbox", "-v", "4", str(conf), log="smsbox.out")
        argv = [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(out_port), "-m", "0", "0 0 text unused"]
        receiver = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        site.processes.append(receiver)
        gevent.spawn(_read_outgoing, receiver.stdout, site.received)
        wait_for_port(sendsms_port)
        yield site
    finally:
        for process in reversed(site.processes):
            process.terminate()
        for process in site.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        web.stop()
        engine.dispose()


def add(site: KannelSite, code: str, phones: list[str], specialty: str = "cardiology", name: str = "Ann") -> None:
    with site.session() as db, db.begin():
        data = PatientData(given_name=name, phones=phones, patient_code=code, specialty=specialty)
        add_patient(db, data, {specialty: SpecialtyFields(specialty)})


def test_an_incoming_sms_is_filed_under_the_patient_of_its_number(kannel: KannelSite):
    add(kannel, "P100", ["+33611111111"])
    kannel.inject("+33611111111", "text", "Can I move my appointment?")
    with kannel.session() as db:
        item = db.scalars(select(InboxItem)).one()
        patient_code = db.get(Patient, item.patient_id).patient_code if item.patient_id else None
    assert (item.channel, item.body, item.problem) == ("sms", "Can I move my appointment?", "")
    assert patient_code == "P100" and item.external_id


def test_an_sms_in_a_broken_encoding_is_kept_with_a_problem(kannel: KannelSite):
    kannel.inject("+33622222222", "data", "%ff%feOK")
    with kannel.session() as db:
        item = db.scalars(select(InboxItem)).one()
    assert item.body == "\ufffd\ufffdOK"
    assert item.problem.startswith("SMS text is not valid utf-8")


def test_bulk_reaches_every_recipient_once_even_when_run_again(kannel: KannelSite):
    add(kannel, "P1", ["+33600000001"], name="Ann")
    add(kannel, "P2", ["+33600000002"], name="Bob")
    add(kannel, "P3", [], name="Cy")
    add(kannel, "P4", ["+33600000004"], name="Dee")
    kannel.inject("+33600000004", "text", "STOP")
    template = "Hello {{ given_name }}, your cardiology check-up is due. Reply STOP to opt out."
    selection = Selection(specialty="cardiology")
    for _run in range(2):
        with kannel.session() as db:
            batch_key = run_bulk(db, kannel.settings, template, "reminder.j2", selection).key
    wait_until(lambda: len(kannel.received) >= 2, "two SMS at the operator")
    with kannel.session() as db:
        wait_until(lambda: _statuses(kannel, batch_key)["P1"] == "delivered", "delivery report of P1")
        rows = {r.patient_code: (r.status, r.error) for r in batch_status(db, batch_key)}
    assert sorted((to, text) for _sender, to, _kind, text in kannel.received) == [
        ("+33600000001", "Hello Ann, your cardiology check-up is due. Reply STOP to opt out."),
        ("+33600000002", "Hello Bob, your cardiology check-up is due. Reply STOP to opt out."),
    ]
    assert rows["P3"] == ("no_number", "the patient has no mobile number")
    assert rows["P4"] == ("opted_out", "")
    with kannel.session() as db:
        assert is_opted_out(db, "+33600000004")


def _statuses(site: KannelSite, key: str) -> dict[str, str]:
    with site.session() as db:
        return {r.patient_code: r.status for r in batch_status(db, key)}


def test_an_accented_sms_goes_out_as_ucs2_and_its_delivery_is_recorded(kannel: KannelSite):
    from ccctl.channels.sms_records import send_one

    with kannel.session() as db:
        message_id = send_one(db, kannel.settings, "+33 6 00 00 00 09", "Résultats prêts").message_id
    wait_until(lambda: kannel.received, "the SMS at the operator")
    assert kannel.received[0][1:3] == ("+33600000009", "ucs-2")
    with kannel.session() as db:
        wait_until(lambda: _status_of(kannel, message_id) == "delivered", "the delivery report")
        assert db.scalars(select(SmsMessage.dlr_status)).one() == 1


def _status_of(site: KannelSite, message_id: str) -> str:
    with site.session() as db:
        return db.scalars(select(SmsMessage.status).where(SmsMessage.message_id == message_id)).one()


def test_kannel_refusing_the_account_is_an_sms_error(kannel: KannelSite):
    kannel.settings.sms.password = "wrong"
    with pytest.raises(SmsError) as refused:
        send_sms(kannel.settings, "+33600000001", "hello")
    assert str(refused.value).startswith(f"Kannel at {kannel.settings.sms.sendsms_url} refused the SMS: HTTP 403")
    assert "+336" not in str(refused.value)


def test_ccctl_sms_bulk_and_status_through_the_command_line(kannel: KannelSite, tmp_path: Path):
    import yaml
    from click.testing import CliRunner

    from ccctl.cli import main

    add(kannel, "P1", ["+33600000001"], name="Ann")
    add(kannel, "P2", ["+33600000002"], name="Bob")
    sms = kannel.settings.sms
    config = tmp_path / "ccctl.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database": {"url": kannel.settings.database.url},
                "sms": {
                    "sendsms_url": sms.sendsms_url,
                    "callback_base_url": sms.callback_base_url,
                    "sender": "Hospital",
                    "messages_per_second": 50.0,
                },
            }
        )
    )
    template = tmp_path / "flu.j2"
    template.write_text("{{ given_name }}, flu shots start Monday.\n")
    runner = CliRunner()
    args = ["--config", str(config), "sms", "bulk", "--template", str(template), "--patients", "P1,P2", "--key", "flu"]
    first = runner.invoke(main, args)
    again = runner.invoke(main, args)
    status = runner.invoke(main, ["--config", str(config), "sms", "status", "flu"])
    assert first.exit_code == 0, first.output
    assert first.output.splitlines()[0] == "batch flu"
    assert again.exit_code == 0 and status.exit_code == 0
    wait_until(lambda: len(kannel.received) >= 2, "two SMS at the operator")
    with kannel.session() as db:
        # one row per recipient and batch key: the second run found them sent
        assert len(db.scalars(select(SmsMessage.id)).all()) == 2
    assert sorted(text for *_head, text in kannel.received) == [
        "Ann, flu shots start Monday.",
        "Bob, flu shots start Monday.",
    ]
    assert status.output.splitlines()[0].split() == ["PATIENT", "STATUS", "ERROR"]
    assert {line.split()[0] for line in status.output.splitlines()[1:3]} == {"P1", "P2"}
    unknown = runner.invoke(main, ["--config", str(config), "sms", "status", "nope"])
    assert (unknown.exit_code, unknown.output) == (1, "ccctl: no SMS batch 'nope'\n")
