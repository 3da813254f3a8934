"""The S3 bucket of the recordings archive, through boto3: put, verify, fetch back.

Every boto3/botocore failure becomes S3Problem with one line (error code and bucket/key),
never a traceback, so the archive job can keep it on the recording's row.
"""

from __future__ import annotations

import base64
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ccctl.config import ArchiveSettings
from ccctl.errors import UserError

SHA256_METADATA = "sha256"  # user metadata: x-amz-meta-sha256


class S3Problem(UserError):
    """An S3 call failed or an object does not match; str() is one line naming bucket and key."""


class ObjectStore:
    """One bucket; keys are full object names (the prefix is already in them)."""

    def __init__(self, client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @classmethod
    def from_settings(cls, settings: ArchiveSettings) -> ObjectStore:
        if not settings.bucket:
            raise S3Problem("archive.bucket is empty: set the S3 bucket in the `archive` section of the settings")
        options = {"region_name": settings.region or None, "endpoint_url": settings.endpoint_url or None}
        if settings.access_key_id:
            options["aws_access_key_id"] = settings.access_key_id
            options["aws_secret_access_key"] = settings.secret_access_key
        # our own retries with backoff are counted on the row; botocore's would hide them
        config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=10, read_timeout=60)
        return cls(boto3.client("s3", config=config, **options), settings.bucket)

    def _where(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def put(self, key: str, path: str | Path, sha256: str, md5: str) -> None:
        """Upload in one part, so the ETag is the MD5 and S3 itself refuses a body that arrived damaged."""
        content_md5 = base64.b64encode(bytes.fromhex(md5)).decode()
        try:
            with open(path, "rb") as body:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentMD5=content_md5,
                    ContentType="audio/wav",
                    Metadata={SHA256_METADATA: sha256},
                )
        except OSError as exc:
            raise S3Problem(f"{path}: {exc.strerror}") from None
        except (ClientError, BotoCoreError) as exc:
            raise S3Problem(f"upload to {self._where(key)}: {describe(exc)}") from None

    def verify(self, key: str, size: int, sha256: str, md5: str | None) -> None:
        """The object is there with the same size, SHA-256 metadata and (single part) MD5 ETag."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise S3Problem(f"check of {self._where(key)}: {describe(exc)}") from None
        stored_sha = head.get("Metadata", {}).get(SHA256_METADATA, "")
        etag = head.get("ETag", "").strip('"')
        if head.get("ContentLength") != size:
            raise S3Problem(f"check of {self._where(key)}: {head.get('ContentLength')} bytes, expected {size}")
        if stored_sha != sha256:
            raise S3Problem(f"check of {self._where(key)}: SHA-256 metadata {stored_sha or 'missing'} != {sha256}")
        if md5 is not None and "-" not in etag and etag != md5:
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
