"""Uploads: accepted by content (PDF, JPEG, PNG), refused when renamed executables, oversized, truncated,
or carrying something to run (a PDF's JavaScript or launch action, PHP or a script in an image)."""

import stat
import zlib
from pathlib import Path

import pytest

from ccctl.channels.uploads import UploadRefused, check_upload, store_upload
from ccctl.config import Settings

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40 + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 30 + b"\x00\x00\x00\x00IEND\xaeB`\x82"
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 120


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [(PDF, "referral.pdf", "application/pdf"), (JPEG, "scan.png", "image/jpeg"), (PNG, "photo", "image/png")],
)
def test_the_type_comes_from_the_content_not_the_name(data, name, expected):
    assert check_upload(data, name, 10_000) == expected


def test_a_renamed_windows_program_is_refused():
    with pytest.raises(UploadRefused) as refused:
        check_upload(WINDOWS_PROGRAM, "referral.pdf", 10_000)
    assert str(refused.value) == "the file 'referral.pdf' is a Windows program, not a PDF, JPEG or PNG"


def test_a_text_file_named_like_an_image_is_refused():
    with pytest.raises(UploadRefused, match="is not a PDF, JPEG or PNG file"):
        check_upload(b"hello", "photo.jpg", 10_000)


def test_a_file_over_the_limit_is_refused_with_both_sizes():
    with pytest.raises(UploadRefused) as refused:
        check_upload(PDF, "big.pdf", 20)
    assert str(refused.value) == f"the file 'big.pdf' is {len(PDF)} bytes, more than the limit of 20 bytes"


def test_empty_and_truncated_files_are_refused():
    with pytest.raises(UploadRefused, match="is empty"):
        check_upload(b"", "x.pdf", 100)
    with pytest.raises(UploadRefused, match="incomplete PDF"):
        check_upload(PDF[:20], "x.pdf", 100)
    with pytest.raises(UploadRefused, match="incomplete JPEG"):
        check_upload(JPEG[:20], "x.jpg", 100)


def test_a_path_in_the_name_is_not_kept():
    with pytest.raises(UploadRefused) as refused:
        check_upload(b"nope", "../../etc/passwd", 100)
    assert "'passwd'" in str(refused.value)


def test_store_upload_keeps_the_file_under_the_attachments_dir_with_a_random_name(tmp_path: Path):
    settings = Settings()
    settings.inbox.attachments_dir = str(tmp_path / "attachments")
    attachment = store_upload(settings, JPEG, "../Referral scan.pdf")
    stored = Path(attachment.path)
    assert attachment.content_type == "image/jpeg"
    assert attachment.filename == "Referral scan.pdf"
    assert stored.suffix == ".jpg" and "Referral" not in stored.name
    assert stored.is_relative_to(tmp_path / "attachments" / "uploads")
    assert stored.read_bytes() == JPEG
    assert not stored.stat().st_mode & stat.S_IROTH


def test_store_upload_stores_nothing_when_refused(tmp_path: Path):
    settings = Settings()
    settings.inbox.attachments_dir = str(tmp_path / "attachments")
    with pytest.raises(UploadRefused):
        store_upload(settings, WINDOWS_PROGRAM, "setup.png")
    assert not (tmp_path / "attachments").exists()


def pdf(*objects: bytes) -> bytes:
    return b"%PDF-1.7\n" + b"\n".join(objects) + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def compressed_object_stream(text: bytes) -> bytes:
    data = zlib.compress(text)
    return b"5 0 obj<</Type/ObjStm/N 1/First 4/Filter/FlateDecode/Length %d>>stream\n%s\nendstream endobj" % (
        len(data),
        data,
    )


@pytest.mark.parametrize(
    ("document", "what"),
    [
        (pdf(b"1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj"), "JavaScript"),
        (pdf(b"1 0 obj<</Type/Catalog/OpenAction<</S/Launch/F(cmd.exe)>>>>endobj"), "a launch action"),
        # #xx escapes in a name: a PDF reader sees /JavaScript
        (pdf(b"1 0 obj<</Type/Catalog/OpenAction<</S/J#61vaScript/J#53(x)>>>>endobj"), "JavaScript"),
        # hidden in a compressed object stream, beyond the first bytes and out of plain sight
        (
            pdf(b"1 0 obj<</Type/Catalog>>endobj", compressed_object_stream(b"7 0 <</S/JavaScript/JS(x)>>")),
            "JavaScript",
        ),
    ],
)
def test_a_pdf_that_runs_something_when_opened_is_refused(document, what):
    with pytest.raises(UploadRefused) as refused:
        check_upload(document, "referral.pdf", 100_000)
    assert str(refused.value) == f"the file 'referral.pdf' is a PDF with {what} inside, which runs when it is opened"
    assert refused.value.reason == "active_content"


def test_a_pdf_whose_page_data_happens_to_hold_the_bytes_of_a_name_is_accepted():
    # stream data may hold any bytes: only the PDF's dictionaries can name an action
    page = b"2 0 obj<</Length 12>>stream\nxx/JS /Launch\nendstream endobj"
    assert check_upload(pdf(b"1 0 obj<</Type/Catalog>>endobj", page), "scan.pdf", 100_000) == "application/pdf"


@pytest.mark.parametrize("code", [b"<?php system($_GET['c']); ?>", b"<SCRIPT>alert(1)</script>"])
@pytest.mark.parametrize(("image", "name"), [(JPEG, "photo.jpg"), (PNG, "photo.png")])
def test_an_image_with_php_or_a_script_inside_is_refused(image, name, code):
    # after the signature, where a check of the first bytes never looks
    doctored = image[:20] + code + image[20:]
    with pytest.raises(UploadRefused) as refused:
        check_upload(doctored, name, 100_000)
    assert str(refused.value) == f"the file {name!r} is an image with web page or PHP code inside"
    assert refused.value.reason == "active_content"


def test_each_refusal_carries_a_reason_the_form_translates():
    reasons = set()
    for data, limit in [(b"", 1000), (PDF, 10), (WINDOWS_PROGRAM, 1000), (b"hello", 1000), (PDF[:20], 1000)]:
        with pytest.raises(UploadRefused) as refused:
            check_upload(data, "a.pdf", limit)
        reasons.add(refused.value.reason)
    assert reasons == {"empty", "too_large", "program", "not_a_document", "incomplete"}
