"""Fax documents on disk: TIFF-F for sending (from PDF, images, office files), PDF and a PNG
preview for reading, with Debian's ghostscript, img2pdf, libtiff-tools, poppler-utils, LibreOffice.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from ccctl.errors import UserError

TOOL_SECONDS = 120
OFFICE_SUFFIXES = (".doc", ".docx", ".odt", ".rtf", ".xls", ".xlsx", ".ods", ".ppt", ".pptx", ".odp")
TOOL_PACKAGES = {
    "gs": "ghostscript",
    "img2pdf": "img2pdf",
    "tiff2pdf": "libtiff-tools",
    "pdftoppm": "poppler-utils",
    "soffice": "libreoffice",
}


class FaxFileError(UserError):
    """A document could not be converted; str() names the file and the tool's own reason."""


def run_tool(argv: list[str], subject: Path) -> str:
    """Run a converter; its output (some, like ghostscript, report a failure there and exit 0)."""
    tool = argv[0]
    if shutil.which(tool) is None:
        raise FaxFileError(f"{subject}: {tool} is not installed (Debian package {TOOL_PACKAGES.get(tool, tool)})")
    try:
        done = subprocess.run(argv, capture_output=True, timeout=TOOL_SECONDS, check=False)
    except subprocess.TimeoutExpired:
        raise FaxFileError(f"{subject}: {tool} took longer than {TOOL_SECONDS} s") from None
    if done.returncode != 0:
        output = (done.stderr or done.stdout).decode("utf-8", "replace").strip().splitlines()
        reason = next((line.strip() for line in output if line.strip()), f"exit status {done.returncode}")
        raise FaxFileError(f"{subject}: {tool} failed: {reason[:200]}")
    return (done.stdout + done.stderr).decode("utf-8", "replace")


def _first_line(output: str) -> str:
    line = next((line.strip(" *") for line in output.splitlines() if line.strip(" *")), "")
    return line[:200] or "no pages came out"


def kind_of(path: Path) -> str:
    """pdf, jpeg, png, tiff or office, from the first bytes (office by its name: they are zip or OLE files)."""
    head = path.read_bytes()[:8]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if path.suffix.lower() in OFFICE_SUFFIXES:
        return "office"
    raise FaxFileError(f"{path}: not a PDF, image (JPEG, PNG, TIFF) or office document")


def to_pdf(source: Path, work: Path) -> Path:
    """Any accepted document as a PDF inside `work`."""
    kind = kind_of(source)
    if kind == "pdf":
        return source
    target = work / (source.stem + ".pdf")
    if kind in ("jpeg", "png"):
        run_tool(["img2pdf", "--pagesize", "A4", "-o", str(target), str(source)], source)
    elif kind == "tiff":
        run_tool(["tiff2pdf", "-o", str(target), str(source)], source)
    else:
        if shutil.which("soffice") is None:
            raise FaxFileError(
                f"{source}: office documents need LibreOffice (Debian package libreoffice-core), which is not "
                "installed; save the document as PDF and send that"
            )
        run_tool(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(work), str(source)], source)
    return target


def to_tiff_f(source: Path, target: Path) -> int:
    """Convert a document to TIFF-F (G3 fax, 204x196 dpi, A4); its page count."""

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ccctl-fax-") as work:
        pdf = to_pdf(source, Path(work))
        output = run_tool(
            [
                "gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=tiffg3", "-r204x196",
                "-sPAPERSIZE=a4", "-dFIXEDMEDIA", "-dPDFFitPage", f"-sOutputFile={target}", str(pdf),
            ],
            source,
        )  # fmt: skip
    if not target.is_file():  # ghostscript exits 0 on a PDF it cannot read, and writes nothing
        raise FaxFileError(f"{source}: ghostscript could not render this PDF ({_first_line(output)})")
    pages = tiff_page_count(target.read_bytes())
    if pages == 0:
        raise FaxFileError(f"{source}: the converted fax has no pages")
    return pages


def readable_copies(tiff: Path) -> tuple[Path, Path]:
    """A received TIFF as <name>.pdf and a first-page preview <name>.png next to it."""
    pdf = tiff.with_suffix(".pdf")
    run_tool(["tiff2pdf", "-o", str(pdf), str(tiff)], tiff)
    preview = tiff.with_suffix("")
    run_tool(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(preview)], tiff)
    return pdf, tiff.with_suffix(".png")


def tiff_page_count(data: bytes) -> int:
    """Pages (IFDs) of a TIFF; 0 when it is not one (a corrupt file is still received as sent)."""
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return 0
    order = "little" if data[:2] == b"II" else "big"
    offset, pages, seen = int.from_bytes(data[4:8], order), 0, set()
    while 8 <= offset < len(data) - 2 and offset not in seen and pages < 10000:
        seen.add(offset)
        entries = int.from_bytes(data[offset : offset + 2], order)
        next_at = offset + 2 + 12 * entries
        if next_at + 4 > len(data):
            break
        pages += 1
        offset = int.from_bytes(data[next_at : next_at + 4], order)
    return pages
