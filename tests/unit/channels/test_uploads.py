"""Uploads: accepted by content (PDF, JPEG, PNG), refused when renamed executables, oversized or truncated."""

import stat
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
