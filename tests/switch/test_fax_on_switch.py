"""Faxes received on the real switch: mod_spandsp's rxfax on the fax DID, filed under the patient as PDF.

The sending fax machine is FreeSWITCH itself: an `originate` from the agents profile to the trunk
profile's address (loopback passes the trunk's ACL) runs `txfax` with a TIFF-F page made by the
project's own converter, with T.38 negotiated and with T.30 over G.711 audio.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from switch_site import SwitchSite

from ccctl.channels.fax_files import to_tiff_f

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("gs", "tiff2pdf", "pdftoppm", "pdfinfo")),
    reason="ghostscript, libtiff-tools and poppler-utils are needed: scripts/install.sh --test",
)

NO_FLOW = """\
flow: main
description: the voice hotline (unused here)
language: en
start: bye
nodes:
  bye:
    type: hangup
    prompt: "say:Goodbye"
"""
SENDER = "0612345678"


def referral_pdf(path: Path) -> Path:
    """A one-page PDF with a line of text (ghostscript repairs the missing xref)."""
    stream = "BT /F1 24 Tf 72 720 Td (Referral: cardiology, please call the patient) Tj ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    body = "".join(f"{n} 0 obj\n{text}\nendobj\n" for n, text in enumerate(objects, 1))
    path.write_bytes(f"%PDF-1.4\n{body}trailer\n<< /Root 1 0 R /Size 5 >>\n%%EOF\n".encode())
    return path


def inbox_faxes(site: SwitchSite) -> list[dict]:
    return json.loads(site.ccctl("inbox", "list", "--channel", "fax", "--json").stdout)


def send_fax(site: SwitchSite, tiff: Path, t38: bool) -> str:
    """FreeSWITCH as the patient's fax machine: a call to the fax DID that runs txfax when answered.

    It offers the switch's own codec list (OPUS and G722 before G.711), as an HD-voice carrier does.
    """
    t38_vars = "fax_enable_t38=true,fax_enable_t38_request=true" if t38 else "fax_enable_t38=false"
    target = f"sofia/agents/7900@127.0.0.1:{site.ports['trunk_sip']}"
    variables = f"{{origination_caller_id_number={SENDER},ignore_early_media=true,{t38_vars}}}"
    return site.api(f"originate {variables}{target} &txfax({tiff})")


def attachments(shown: str) -> dict[str, Path]:
    """`ccctl inbox show`'s attachment lines: content type -> file."""
    found = re.findall(r"^attached:\s+\S+ \(([^,]+), .*\) (/\S+)$", shown, re.MULTILINE)
    return {kind: Path(path) for kind, path in found}


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))


def t38_status(site: SwitchSite) -> set[str]:
    """What mod_spandsp's fax results in the log say about T.38, on both ends."""
    return set(re.findall(r"T38 status\s+(\S+)", site.freeswitch_log()))


@pytest.mark.parametrize("t38", [True, False], ids=["t38", "audio"])
def test_a_fax_from_a_patients_number_is_filed_under_their_code_as_a_readable_pdf(tmp_path, t38):
    tiff = tmp_path / "referral.tif"
    assert to_tiff_f(referral_pdf(tmp_path / "referral.pdf"), tiff) == 1
    with SwitchSite(tmp_path / "site", {"main.yaml": NO_FLOW}) as site:
        code = site.ccctl("patients", "add", "--given", "Ann", "--phone", SENDER, "--as", "switch-test").stdout.strip()
        reply = send_fax(site, tiff, t38)
        assert reply.startswith("+OK"), reply
        [item] = site.wait_for(lambda: inbox_faxes(site), 90, "the fax in the inbox")
        shown = site.ccctl("inbox", "show", str(item["id"]), "--as", "switch-test").stdout
        assert (item["patient"], item["subject"], item["flags"]) == (code, "Fax, 1 page", "-"), shown
        files = attachments(shown)
        assert set(files) == {"application/pdf", "image/png", "image/tiff"}, shown
        assert all(path.parent == site.root / "faxes" / code and path.is_file() for path in files.values()), files
        assert pdf_pages(files["application/pdf"]) == 1
        # T.38 on: negotiated by both; off: the sender refuses the receiver's re-INVITE and T.30 goes as audio
        assert t38_status(site) == ({"negotiated"} if t38 else {"off", "refused"}), site.freeswitch_log()[-3000:]
