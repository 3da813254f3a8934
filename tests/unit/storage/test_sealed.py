"""The sealed-file format: what lands on disk, what comes back, and the refusals a person reads."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest

from ccctl.config import Settings
from ccctl.storage import sealed
from ccctl.storage.commands import keygen
from ccctl.storage.sealed import MediaKeyError, load_key, read_clear, seal_file, write_sealed


def wav_bytes(seconds: float = 0.5) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x01\x02" * 2 * int(8000 * seconds))
    return buffer.getvalue()


def settings_with_key(tmp_path: Path, name: str = "media.key") -> Settings:
    settings = Settings()
    settings.storage.key_file = str(keygen(tmp_path / name))
    return settings


def test_a_sealed_recording_is_no_wav_on_disk_and_reads_back_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(sealed, "CHUNK_BYTES", 4096)  # several chunks from a small file
    key = load_key(settings_with_key(tmp_path))
    clear = wav_bytes()
    path = tmp_path / "call-1.wav"
    path.write_bytes(clear)
    assert seal_file(path, key) is True
    on_disk = path.read_bytes()
    assert not on_disk.startswith(b"RIFF") and clear[44:4000] not in on_disk
    assert path.stat().st_mode & 0o777 == 0o640
    assert read_clear(path, key) == clear
    assert seal_file(path, key) is False  # sealed once only


def test_an_upload_is_written_sealed_and_an_old_clear_file_still_reads(tmp_path):
    key = load_key(settings_with_key(tmp_path))
    write_sealed(tmp_path / "scan.pdf", b"%PDF-1.4 referral %%EOF", key)
    assert not (tmp_path / "scan.pdf").read_bytes().startswith(b"%PDF")
    assert read_clear(tmp_path / "scan.pdf", key) == b"%PDF-1.4 referral %%EOF"
    (tmp_path / "old.pdf").write_bytes(b"%PDF-1.4 old %%EOF")
    assert read_clear(tmp_path / "old.pdf", key) == b"%PDF-1.4 old %%EOF"


def test_a_wrong_key_is_refused_naming_the_setting_and_never_the_content(tmp_path):
    right, wrong = load_key(settings_with_key(tmp_path, "a.key")), load_key(settings_with_key(tmp_path, "b.key"))
    path = tmp_path / "voice.wav"
    write_sealed(path, b"RIFF patient says Kowalska +48600100200", right)
    with pytest.raises(MediaKeyError) as refused:
        read_clear(path, wrong)
    message = str(refused.value)
    assert "storage.key_file" in message and str(path) in message and "\n" not in message
    assert "Kowalska" not in message and "+486" not in message
    with pytest.raises(MediaKeyError, match="encrypted and storage.key_file is not set"):
        read_clear(path, None)


def test_a_cut_or_altered_file_is_refused_like_a_wrong_key(tmp_path, monkeypatch):
    monkeypatch.setattr(sealed, "CHUNK_BYTES", 1024)
    key = load_key(settings_with_key(tmp_path))
    path = tmp_path / "call.wav"
    write_sealed(path, wav_bytes(0.2), key)
    data = path.read_bytes()
    path.write_bytes(data[: len(MAGIC_AND_PREFIX) + 4 + 1024 + 16])  # the first chunk only
    with pytest.raises(MediaKeyError, match="does not open it"):
        read_clear(path, key)
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(MediaKeyError, match="does not open it"):
        read_clear(path, key)


MAGIC_AND_PREFIX = sealed.MAGIC + b"\0" * sealed.NONCE_PREFIX_BYTES


def test_a_key_others_may_read_or_of_the_wrong_size_is_refused_naming_the_setting(tmp_path):
    settings = settings_with_key(tmp_path)
    Path(settings.storage.key_file).chmod(0o644)
    with pytest.raises(MediaKeyError, match=r"storage.key_file .*other users may read it; chmod 600"):
        load_key(settings)
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 16)
    short.chmod(0o600)
    settings.storage.key_file = str(short)
    with pytest.raises(MediaKeyError, match="holds 16 bytes, a key is 32"):
        load_key(settings)
    settings.storage.key_file = str(tmp_path / "missing.key")
    with pytest.raises(MediaKeyError, match="storage.key_file .*missing.key: cannot read it"):
        load_key(settings)
    assert load_key(Settings()) is None  # no key_file: media is stored in clear


def test_keygen_writes_32_random_bytes_for_the_owner_and_never_replaces_a_key(tmp_path):
    path = keygen(tmp_path / "keys" / "media.key")
    assert len(path.read_bytes()) == 32 and path.stat().st_mode & 0o777 == 0o600
    before = path.read_bytes()
    with pytest.raises(MediaKeyError, match="exists already"):
        keygen(path)
    assert path.read_bytes() == before
