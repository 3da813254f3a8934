"""Fax documents: kinds by content, clear errors for what cannot be faxed, TIFF page counts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ccctl.channels.fax_files import FaxFileError, kind_of, tiff_page_count, to_tiff_f


def test_kinds_come_from_the_first_bytes(tmp_path: Path):
    cases = {"a.bin": b"%PDF-1.4", "b.pdf": b"\xff\xd8\xff\xe0", "c": b"\x89PNG\r\n", "d": b"II*\x00\x08\x00"}
    kinds = []
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        kinds.append(kind_of(tmp_path / name))
    assert kinds == ["pdf", "jpeg", "png", "tiff"]


def test_an_unknown_document_is_refused_by_name(tmp_path: Path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(FaxFileError) as refused:
        to_tiff_f(notes, tmp_path / "out.tif")
    assert str(refused.value) == f"{notes}: not a PDF, image (JPEG, PNG, TIFF) or office document"


@pytest.mark.skipif(shutil.which("soffice") is not None, reason="LibreOffice is installed here")
def test_an_office_document_without_libreoffice_says_what_to_do(tmp_path: Path):
    letter = tmp_path / "letter.docx"
    letter.write_bytes(b"PK\x03\x04rest")
    with pytest.raises(FaxFileError, match="office documents need LibreOffice .* save the document as PDF"):
        to_tiff_f(letter, tmp_path / "out.tif")


@pytest.mark.skipif(shutil.which("img2pdf") is None or shutil.which("gs") is None, reason="img2pdf, gs needed")
def test_a_png_becomes_a_one_page_g3_tiff(tmp_path: Path):
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff" * 40 for _ in range(40))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 40, 40, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    source = tmp_path / "scan.png"
    source.write_bytes(png)
    assert to_tiff_f(source, tmp_path / "fax.tif") == 1
    assert tiff_page_count((tmp_path / "fax.tif").read_bytes()) == 1


def test_a_file_that_is_not_a_tiff_has_no_pages():
    assert tiff_page_count(b"GIF89a....") == 0
    assert tiff_page_count(b"II*\x00\xff\xff\xff\xff") == 0
