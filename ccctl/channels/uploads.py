"""Files patients upload (a referral, a scan): accepted by their content, never by their name.

Only PDF, JPEG and PNG pass, under a size limit; stored under the attachments directory,
which no web server serves: staff pages hand them out after a login check.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path

from ccctl.channels.inbox import Attachment
from ccctl.config import Settings

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


class UploadRefused(Exception):
    """The file is not accepted; str() is a reason the patient can read."""


def check_upload(data: bytes, filename: str, max_bytes: int) -> str:
    """The content type detected from the bytes ("application/pdf", "image/jpeg", "image/png")."""
    if not data:
        raise UploadRefused(f"{_display_name(filename)} is empty")
    if len(data) > max_bytes:
        raise UploadRefused(f"{_display_name(filename)} is {len(data)} bytes, more than the limit of {max_bytes} bytes")
    for signature, what in EXECUTABLE_SIGNATURES.items():
        if data.startswith(signature):
            raise UploadRefused(f"{_display_name(filename)} is {what}, not a PDF, JPEG or PNG")
    for content_type, (signature, _extension) in SIGNATURES.items():
        if data.startswith(signature):
            _check_complete(data, content_type, filename)
            return content_type
    raise UploadRefused(f"{_display_name(filename)} is not a PDF, JPEG or PNG file (checked by its content)")


def _check_complete(data: bytes, content_type: str, filename: str) -> None:
    """A truncated file passes the signature test but would not open for the agent."""
    if content_type == "application/pdf" and b"%%EOF" not in data[-2048:]:
        raise UploadRefused(f"{_display_name(filename)} is an incomplete PDF (no end marker)")
    if content_type == "image/jpeg" and b"\xff\xd9" not in data[-64:]:
        raise UploadRefused(f"{_display_name(filename)} is an incomplete JPEG image")
    if content_type == "image/png" and b"IEND" not in data[-64:]:
        raise UploadRefused(f"{_display_name(filename)} is an incomplete PNG image")


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
    path.write_bytes(data)
    path.chmod(0o640)
    return Attachment(safe_filename(filename) or f"upload{extension}", content_type, str(path))
