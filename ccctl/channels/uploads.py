"""Files patients upload (a referral, a scan): accepted by their content, never by their name.

Only PDF, JPEG and PNG pass, under a size limit, and none that carries something to run (a PDF's
JavaScript or launch action, PHP or a script hidden in an image); stored under the attachments
directory, which no web server serves, sealed with storage.key_file when it is set.
"""

from __future__ import annotations

import re
import uuid
import zlib
from datetime import UTC, datetime
from pathlib import Path

from ccctl.channels.inbox import Attachment
from ccctl.config import Settings
from ccctl.storage.sealed import load_key, write_sealed

# content type -> (signature at offset 0, extension on disk)
SIGNATURES: dict[str, tuple[bytes, str]] = {
    "application/pdf": (b"%PDF-", ".pdf"),
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
}

# named in the refusal so the patient learns why; the list is not what lets a file in
EXECUTABLE_SIGNATURES: dict[bytes, str] = {
    b"MZ": "a Windows program",
    b"\x7fELF": "a Linux program",
    b"#!": "a script",
    b"\xca\xfe\xba\xbe": "a macOS program",
    b"\xcf\xfa\xed\xfe": "a macOS program",
    b"PK\x03\x04": "a ZIP archive",
}

# PDF actions that run something when the file is opened, by their name in the PDF's dictionaries
PDF_ACTIVE_NAMES: dict[bytes, str] = {b"JavaScript": "JavaScript", b"JS": "JavaScript", b"Launch": "a launch action"}
PDF_NAME = re.compile(rb"/([^\x00\t\n\f\r /\[\]()<>{}%]*)")
PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
# a compressed object stream holds dictionaries too: inflate at most this much of each, so a zip bomb stays small
MAX_INFLATED_BYTES = 20_000_000
# code a web server would run or a browser would execute if the image were ever served as a page
IMAGE_CODE = re.compile(rb"<\?php|<script", re.I)


class UploadRefused(Exception):
    """The file is not accepted; str() is a reason in English, `reason` its key for a translated one.

    Reasons: empty, too_large, program, not_a_document, incomplete, active_content.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_upload(data: bytes, filename: str, max_bytes: int) -> str:
    """The content type detected from the bytes ("application/pdf", "image/jpeg", "image/png")."""
    name = _display_name(filename)
    if not data:
        raise UploadRefused(f"{name} is empty", "empty")
    if len(data) > max_bytes:
        raise UploadRefused(f"{name} is {len(data)} bytes, more than the limit of {max_bytes} bytes", "too_large")
    for signature, what in EXECUTABLE_SIGNATURES.items():
        if data.startswith(signature):
            raise UploadRefused(f"{name} is {what}, not a PDF, JPEG or PNG", "program")
    for content_type, (signature, _extension) in SIGNATURES.items():
        if data.startswith(signature):
            _check_complete(data, content_type, name)
            _check_inert(data, content_type, name)
            return content_type
    raise UploadRefused(f"{name} is not a PDF, JPEG or PNG file (checked by its content)", "not_a_document")


def _check_complete(data: bytes, content_type: str, name: str) -> None:
    """A truncated file passes the signature test but would not open for the agent."""
    if content_type == "application/pdf" and b"%%EOF" not in data[-2048:]:
        raise UploadRefused(f"{name} is an incomplete PDF (no end marker)", "incomplete")
    if content_type == "image/jpeg" and b"\xff\xd9" not in data[-64:]:
        raise UploadRefused(f"{name} is an incomplete JPEG image", "incomplete")
    if content_type == "image/png" and b"IEND" not in data[-64:]:
        raise UploadRefused(f"{name} is an incomplete PNG image", "incomplete")


def _check_inert(data: bytes, content_type: str, name: str) -> None:
    """Refuse a document that carries something to run, wherever it sits in the file."""
    if content_type == "application/pdf":
        what = pdf_active_content(data)
        if what:
            raise UploadRefused(f"{name} is a PDF with {what} inside, which runs when it is opened", "active_content")
    elif IMAGE_CODE.search(data):
        raise UploadRefused(f"{name} is an image with web page or PHP code inside", "active_content")


def pdf_active_content(data: bytes) -> str:
    """What a PDF would run when opened ("JavaScript", "a launch action"), '' when nothing.

    Names are read outside stream data (where any bytes may occur) and inside compressed object
    streams, with #xx escapes decoded: /J#61vaScript is /JavaScript to a PDF reader.
    """
    texts = [PDF_STREAM.sub(b"stream\nendstream", data)]
    for stream in PDF_STREAM.finditer(data):
        dictionary = data[max(0, stream.start() - 1024) : stream.start()]
        if b"/ObjStm" in dictionary and b"/FlateDecode" in dictionary:
            try:
                texts.append(zlib.decompressobj().decompress(stream.group(1), MAX_INFLATED_BYTES))
            except zlib.error:
                continue
    for text in texts:
        for match in PDF_NAME.finditer(text):
            name = PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
            if name in PDF_ACTIVE_NAMES:
                return PDF_ACTIVE_NAMES[name]
    return ""


def _display_name(filename: str) -> str:
    name = safe_filename(filename)
    return f"the file {name!r}" if name else "the file"


def safe_filename(filename: str) -> str:
    """The name without any directory part or odd characters, for display and the download header."""
    base = re.split(r"[\\/]", filename or "")[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._ -]", "_", base).strip(" .")
    return cleaned[:120]


def uploads_dir(settings: Settings) -> Path:
    return Path(settings.inbox.attachments_dir) / "uploads"


def store_upload(settings: Settings, data: bytes, filename: str) -> Attachment:
    """Check the file and store it as <attachments_dir>/uploads/YYYY/MM/<random>.<ext>; an inbox Attachment.

    The stored name is random and the extension comes from the detected type, so neither the
    patient's file name nor its extension decides how the file is later opened.
    """
    content_type = check_upload(data, filename, settings.uploads.max_bytes)
    extension = SIGNATURES[content_type][1]
    now = datetime.now(UTC)
    folder = uploads_dir(settings) / f"{now:%Y}" / f"{now:%m}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}{extension}"
    write_sealed(path, data, load_key(settings))
    return Attachment(safe_filename(filename) or f"upload{extension}", content_type, str(path))
