"""`ccctl fax send / list / status` on what a person meets before any call: documents, an empty list, JSON."""

from __future__ import annotations

import json
import shutil

import pytest


@pytest.mark.skipif(shutil.which("gs") is None, reason="ghostscript is not installed")
def test_a_pdf_ghostscript_cannot_render_is_one_clear_line(ccctl, settings_file, tmp_path):
    settings_file.write_text(settings_file.read_text() + "esl:\n  password: fax-test-secret\n")
    broken = tmp_path / "letter.pdf"
    broken.write_bytes(b"%PDF-1.4\nnot really a PDF\n")
    result = ccctl("fax", "send", "0140000001", str(broken))
    assert result.exit_code == 1
    assert result.output.startswith(f"ccctl: {broken}: ghostscript could not render this PDF (")
    assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output


def test_fax_list_and_status_have_json_and_plain_words(ccctl):
    assert ccctl("fax", "list").output == "no faxes sent\n"
    assert json.loads(ccctl("fax", "list", "--json").output) == []
    result = ccctl("fax", "status", "7", "--json")
    assert (result.exit_code, result.output) == (1, "ccctl: no fax job 7 (ccctl fax list)\n")
