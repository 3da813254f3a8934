"""The S3 bucket of the recordings archive, through boto3: put, verify, fetch back.

An object sealed by us (storage.key_file) says so in its metadata and is checked against the size
the sealed form of the clear recording has. Every boto3/botocore failure becomes S3Problem with one
line (error code and bucket/key), never a traceback, so the archive job can keep it on the row.
"""

from __future__ import annotations

import base64
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ccctl.config import ArchiveSettings
from ccctl.errors import UserError
from ccctl.storage.sealed import sealed_size

SHA256_METADATA = "sha256"  # user metadata: x-amz-meta-sha256, of the clear recording
SEALED_METADATA = "sealed"  # x-amz-meta-sealed: how the body is sealed; absent on a clear body
SEALED_WITH = "aes-256-gcm"
SERVER_SIDE_ENCRYPTION = ("AES256", "aws:kms")


class S3Problem(UserError):
    """An S3 call failed or an object does not match; str() is one line naming bucket and key."""


class ObjectStore:
    """One bucket; keys are full object names (the prefix is already in them)."""

    def __init__(self, client, bucket: str, server_side_encryption: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.server_side_encryption = server_side_encryption

    @classmethod
    def from_settings(cls, settings: ArchiveSettings) -> ObjectStore:
        if not settings.bucket:
            raise S3Problem("archive.bucket is empty: set the S3 bucket in the `archive` section of the settings")
        sse = settings.server_side_encryption
        if sse and sse not in SERVER_SIDE_ENCRYPTION:
            raise S3Problem(
                f"archive.server_side_encryption: {sse!r} is not one of {', '.join(SERVER_SIDE_ENCRYPTION)} (or empty)"
            )
        options = {"region_name": settings.region or None, "endpoint_url": settings.endpoint_url or None}
        if settings.access_key_id:
            options["aws_access_key_id"] = settings.access_key_id
            options["aws_secret_access_key"] = settings.secret_access_key
        # our own retries with backoff are counted on the row; botocore's would hide them
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60)
        return cls(boto3.client("s3", config=config, **options), settings.bucket, sse)

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def put(self, key: str, path: str | Path, sha256: str, md5: str, sealed: bool = False) -> None:
        """Upload in one part, so the ETag is the MD5 and S3 itself refuses a body that arrived damaged.

        `sha256` is the clear recording's; `sealed`: the body at path is its sealed form.
        """
        content_md5 = base64.b64encode(bytes.fromhex(md5)).decode()
        metadata = {SHA256_METADATA: sha256, **({SEALED_METADATA: SEALED_WITH} if sealed else {})}
        extra = {"ServerSideEncryption": self.server_side_encryption} if self.server_side_encryption else {}
        try:
            with open(path, "rb") as body:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentMD5=content_md5,
                    ContentType="application/octet-stream" if sealed else "audio/wav",
                    Metadata=metadata,
                    **extra,
                )
        except OSError as exc:
            raise S3Problem(f"{path}: {exc.strerror}") from None
        except (ClientError, BotoCoreError) as exc:
            raise S3Problem(f"upload to {self._where(key)}: {describe(exc)}") from None

    def verify(self, key: str, size: int, sha256: str, md5: str | None, sealed: bool | None = None) -> None:
        """The object is there with the clear recording's SHA-256 metadata, the size of the recording
        (`size` bytes in clear) in the form it was stored, and the (single part) MD5 ETag of its body.

        `sealed`: the object must be sealed (True) or clear (False); None takes what its metadata says.
        """
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise S3Problem(f"check of {self._where(key)}: {describe(exc)}") from None
        metadata = head.get("Metadata", {})
        stored_sha = metadata.get(SHA256_METADATA, "")
        stored_sealed = metadata.get(SEALED_METADATA, "")
        if stored_sealed not in ("", SEALED_WITH):
            raise S3Problem(f"check of {self._where(key)}: sealed with {stored_sealed!r}, not {SEALED_WITH}")
        if sealed is not None and bool(stored_sealed) != sealed:
            found, wanted = ("sealed" if flag else "clear" for flag in (stored_sealed, sealed))
            raise S3Problem(f"check of {self._where(key)}: the object is {found}, expected {wanted}")
        expected = sealed_size(size) if stored_sealed else size
        etag = head.get("ETag", "").strip('"')
        if head.get("ContentLength") != expected:
            raise S3Problem(f"check of {self._where(key)}: {head.get('ContentLength')} bytes, expected {expected}")
        if stored_sha != sha256:
            raise S3Problem(f"check of {self._where(key)}: SHA-256 metadata {stored_sha or 'missing'} != {sha256}")
        # under SSE-KMS the ETag is no MD5 of the body; ContentMD5 made S3 check it on the way in
        if md5 is not None and self.server_side_encryption != "aws:kms" and "-" not in etag and etag != md5:
            raise S3Problem(f"check of {self._where(key)}: ETag {etag} is not the file's MD5 {md5}")

    def fetch(self, key: str, destination: str | Path) -> None:
        try:
            self.client.download_file(self.bucket, key, str(destination))
        except (ClientError, BotoCoreError) as exc:
            raise S3Problem(f"download of {self._where(key)}: {describe(exc)}") from None


def describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')} ({error.get('Message', '') or 'no message'})"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
