"""Faxes through the emulator: the fax hotline of the rendered dialplan runs rxfax and the result is
filed under the patient as TIFF, PDF and PNG; a PDF is converted and sent with txfax, attempts recorded.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import gevent
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ccctl.channels.fax_receive import file_received_fax, watch_received_faxes
from ccctl.channels.fax_send import FaxSender, queue_fax
from ccctl.config import Settings
from ccctl.deploy.fs_render import build_model, render_texts
from ccctl.esl.inbound import InboundClient
from ccctl.patients.repository import PatientData, add_patient
from ccctl.records.database import make_engine
from ccctl.records.models.channels import FaxJob
from ccctl.records.models.inbox import InboxItem
from ccctl.sim.callers import CallerScript
from ccctl.sim.dialplan import Dialplan
from ccctl.sim.fax_apps import T30_CALL_DROPPED, FaxReceiver, offer_fax, set_fax_receiver
from ccctl.sim.switch import Switch

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("gs", "tiff2pdf", "pdftoppm")),
    reason="ghostscript, libtiff-tools and poppler-utils are needed: scripts/install.sh --test",
)


def small_pdf(pages: int) -> bytes:
    """A PDF of `pages` pages with one line of text each (ghostscript repairs the missing xref)."""
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(pages))
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>"]
    for i in range(pages):
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {4 + 2 * i} 0 R >>")
        stream = f"BT /F1 24 Tf 72 720 Td (Care plan page {i + 1}) Tj ET"
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    body = "".join(f"{n} 0 obj\n{text}\nendobj\n" for n, text in enumerate(objects, 1))
    return f"%PDF-1.4\n{body}trailer\n<< /Root 1 0 R /Size {len(objects) + 1} >>\n%%EOF\n".encode()


@dataclass
class FaxSite:
    settings: Settings
    switch: Switch
    esl: InboundClient
    engine: object
    tmp: Path

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def items(self) -> list[InboxItem]:
        with self.session() as db:
            items = db.scalars(select(InboxItem).order_by(InboxItem.id)).all()
            for item in items:
                item.attachments  # noqa: B018  (loaded before the session closes)
            return list(items)


@pytest.fixture
def site(tmp_path: Path, sqlite_url: str) -> Iterator[FaxSite]:
    settings = Settings()
    settings.database.url = sqlite_url
    settings.esl.password = "fax-site-secret"  # ccctl fax send refuses FreeSWITCH's shipped ClueCon
    settings.fax.faxes_dir = str(tmp_path / "faxes")
    settings.fax.retry_seconds = 0.0
    texts = render_texts(build_model(settings))
    dialplan = Dialplan.from_xml(f"<all>{texts['dialplan/public.xml']}{texts['dialplan/fax.xml']}</all>")
    switch = Switch(dialplan, time_factor=200, hostname="vm", password=settings.esl.password).start()
    host, port = switch.esl_address
    esl = InboundClient(host, port, settings.esl.password)
    esl.start()
    assert esl.wait_connected(5)
    engine = make_engine(sqlite_url)
    try:
        yield FaxSite(settings, switch, esl, engine, tmp_path)
    finally:
        esl.stop()
        switch.stop()
        engine.dispose()


def add_patient_with_phone(site: FaxSite, code: str, phone: str) -> None:
    with site.session() as db, db.begin():
        add_patient(db, PatientData(given_name="Ann", phones=[phone], patient_code=code), {})


def fax_tiff(site: FaxSite, pages: int) -> Path:
    from ccctl.channels.fax_files import to_tiff_f

    pdf = site.tmp / "referral.pdf"
    pdf.write_bytes(small_pdf(pages))
    tiff = site.tmp / "referral.tif"
    to_tiff_f(pdf, tiff)
    return tiff


def receive_call(site: FaxSite, caller: str) -> None:
    watch_received_faxes(site.esl, site.settings, site.engine)
    gevent.sleep(0.05)  # the event subscription reaches the switch before the call
    handle = site.switch.place_call(CallerScript(caller=caller, destination="7900", context="public"))
    assert handle.wait(10) is not None
    with gevent.Timeout(10, AssertionError("the fax was not filed")):
        while not site.items():
            gevent.sleep(0.05)


def test_a_received_fax_is_filed_under_the_patient_code_as_pdf(site: FaxSite):
    add_patient_with_phone(site, "P77", "+33612340000")
    offer_fax(site.switch, "+33612340000", fax_tiff(site, 2))
    receive_call(site, "+33612340000")
    (item,) = site.items()
    assert (item.channel, item.subject, item.problem) == ("fax", "Fax, 2 pages", "")
    assert item.patient_id is not None
    kinds = {a.content_type: Path(a.path) for a in item.attachments}
    assert set(kinds) == {"application/pdf", "image/png", "image/tiff"}
    assert all(path.parent == Path(site.settings.fax.faxes_dir) / "P77" for path in kinds.values())
    assert kinds["application/pdf"].read_bytes().startswith(b"%PDF-")
    assert kinds["image/png"].read_bytes().startswith(b"\x89PNG")


def test_a_fax_from_an_unknown_number_goes_to_the_unassigned_folder(site: FaxSite):
    offer_fax(site.switch, "+33699999999", fax_tiff(site, 1))
    receive_call(site, "+33699999999")
    (item,) = site.items()
    assert item.patient_id is None and item.subject == "Fax, 1 page"
    assert {Path(a.path).parent.name for a in item.attachments} == {"unassigned"}


def test_a_corrupt_tiff_is_kept_with_a_problem(site: FaxSite):
    broken = site.tmp / "broken.tif"
    broken.write_bytes(b"II*\x00" + b"\xff" * 200)
    offer_fax(site.switch, "+33655555555", broken)
    receive_call(site, "+33655555555")
    (item,) = site.items()
    assert item.problem.startswith("the received fax cannot be read: ")
    assert "tiff2pdf failed" in item.problem
    (tiff,) = item.attachments
    assert Path(tiff.path).read_bytes() == broken.read_bytes()


def test_a_call_without_a_fax_machine_is_filed_as_a_failed_reception(site: FaxSite):
    receive_call(site, "+33644444444")
    (item,) = site.items()
    assert item.problem == (
        "fax reception failed: Timed out waiting for initial communication (spandsp code 2, 0 pages received)"
    )


def test_a_pdf_is_converted_sent_and_each_attempt_recorded(site: FaxSite):
    document = site.tmp / "price-list.pdf"
    document.write_bytes(small_pdf(3))
    set_fax_receiver(site.switch, "0140000000", FaxReceiver(pages=1, result=T30_CALL_DROPPED))
    sender = FaxSender(site.esl, site.settings)
    with site.session() as db:
        job = queue_fax(db, site.settings, "01 40 00 00 00", document)
        assert job.pages == 3
        sender.send(db, job, sleep=lambda _seconds: set_fax_receiver(site.switch, "0140000000", FaxReceiver()))
    with site.session() as db:
        job = db.scalars(select(FaxJob)).one()
        outcomes = [(a.success, a.pages_sent, a.total_pages, a.result_code, a.result_text) for a in job.attempts]
    assert job.status == "sent"
    assert outcomes == [(False, 1, 3, 49, "The call dropped prematurely"), (True, 3, 3, 0, "OK")]


def test_ccctl_fax_send_list_and_status(site: FaxSite):
    import yaml
    from click.testing import CliRunner

    from ccctl.cli import main

    host, port = site.switch.esl_address
    config = site.tmp / "ccctl.yaml"
    settings = {
        "database": {"url": site.settings.database.url},
        "esl": {"inbound_host": host, "inbound_port": port, "password": site.settings.esl.password},
        "fax": {"faxes_dir": site.settings.fax.faxes_dir, "attempts": 2, "retry_seconds": 0},
    }
    config.write_text(yaml.safe_dump(settings))
    notice = site.tmp / "notice.pdf"
    notice.write_bytes(small_pdf(2))
    runner = CliRunner()
    sent = runner.invoke(main, ["--config", str(config), "fax", "send", "0140000001", str(notice)])
    listed = runner.invoke(main, ["--config", str(config), "fax", "list"])
    status = runner.invoke(main, ["--config", str(config), "fax", "status", "1"])
    missing = runner.invoke(main, ["--config", str(config), "fax", "send", "0140000001", str(site.tmp / "none.pdf")])
    assert sent.exit_code == 0, sent.output
    assert sent.output.splitlines()[0] == "fax job 1: 2 pages to send"
    assert listed.output.splitlines()[1].split()[3:] == ["sent", "2", "1", "notice.pdf"]
    assert status.output.splitlines()[0] == "fax job 1: sent, 2 pages, notice.pdf"
    assert status.output.splitlines()[1].endswith(": 2/2 pages, OK (code 0)")
    assert (missing.exit_code, missing.output) == (1, f"ccctl: {site.tmp / 'none.pdf'}: no such file\n")


def file_event(site: FaxSite, unique_id: str, fax_file: Path) -> InboxItem:
    """The switch's spandsp::rxfaxresult event, as a hostile or broken switch might send it."""
    event = {
        "Unique-ID": unique_id,
        "Caller-Caller-ID-Number": "+33677777777",
        "variable_cc_fax_file": str(fax_file),
        "fax-success": "1",
        "fax-document-transferred-pages": "1",
    }
    with site.session() as db, db.begin():
        file_received_fax(db, site.settings, event)
    (item,) = site.items()
    return item


def test_a_unique_id_with_a_path_in_it_cannot_move_the_fax_out_of_its_folder(site: FaxSite):
    incoming = Path(site.settings.fax.faxes_dir) / "incoming"
    incoming.mkdir(parents=True)
    received = fax_tiff(site, 1).rename(incoming / "rx.tif")
    item = file_event(site, "../../../outside/x", received)
    assert item.problem == ""
    tiff = next(Path(a.path) for a in item.attachments if a.content_type == "image/tiff")
    assert tiff.parent == Path(site.settings.fax.faxes_dir) / "unassigned"
    assert tiff.name.endswith("-_________outside_x.tif")
    assert not (site.tmp / "outside").exists()


def test_a_fax_file_outside_the_incoming_folder_is_left_alone(site: FaxSite):
    elsewhere = fax_tiff(site, 1)
    item = file_event(site, "4f1c", elsewhere)
    assert item.problem == "the fax file named by the switch is outside the incoming fax folder: left where it is"
    assert item.attachments == [] and elsewhere.exists()
