"""Commands that need FreeSWITCH say where they connect and fail soon, in one line, when nothing answers."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from ccctl.cli import main


def closed_port() -> int:
    """A loopback port nothing listens on (bound once, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def settings(tmp_path: Path, sqlite_url: str, monkeypatch) -> tuple[Path, str]:
    monkeypatch.chdir(tmp_path)
    port = closed_port()
    path = tmp_path / "ccctl.yaml"
    faxes = tmp_path / "faxes"
    esl = f"esl:\n  inbound_port: {port}\n  password: not-the-shipped-one\n"
    path.write_text(f"database:\n  url: {sqlite_url}\n{esl}fax:\n  faxes_dir: {faxes}\n")
    return path, f"127.0.0.1:{port}"


def tiny_png(path: Path) -> Path:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff" * 30 for _ in range(10))
    header = struct.pack(">IIBBBBB", 10, 10, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize(
    "args",
    [["monitor", "listen", "ann", "--from", "2001"], ["transfer", "ann", "--to-queue", "cardio"]],
    ids=["monitor", "transfer"],
)
def test_no_switch_is_said_at_once_and_in_one_line(settings, args):
    path, where = settings
    result = CliRunner().invoke(main, ["-c", str(path), *args])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("ccctl: ")]
    assert lines == [
        f"ccctl: connecting to FreeSWITCH node default at {where} ...",
        f"ccctl: FreeSWITCH's event socket did not answer within 5 s (node default at {where}: connection refused); "
        "is FreeSWITCH running? (esl.nodes, esl.inbound_host, esl.inbound_port)",
    ]


@pytest.mark.skipif(shutil.which("img2pdf") is None, reason="img2pdf is not installed")
def test_fax_send_without_a_switch_names_the_job_and_the_address(settings, tmp_path):
    path, where = settings
    result = CliRunner().invoke(main, ["-c", str(path), "fax", "send", "0140000001", str(tiny_png(tmp_path / "a.png"))])
    assert result.exit_code == 1
    assert result.stdout == "fax job 1: 1 page to send\n"
    assert result.stderr.splitlines()[-1] == (
        f"ccctl: fax job 1 not sent: FreeSWITCH's event socket did not answer within 5 s "
        f"(node default at {where}: connection refused); is FreeSWITCH running? "
        "(esl.nodes, esl.inbound_host, esl.inbound_port)"
    )
