"""The document archive: every issued billing document (UBL XML, PDF) stored once and never changed.

An issued document is a legal record: it is written once and kept for ten years (template.yaml's DocumentsBucket:
versioned, Object Lock, deletes denied to everyone). ``put_once`` is therefore the only write: a redelivered stream
record that renders the same document again finds identical bytes and gets False; different bytes under the same
key are a bug (a document re-rendered differently) and raise ``ArchiveConflict`` - never an overwrite.

S3 in AWS (``DOCUMENTS_BUCKET``), a folder on this machine (``LOCAL_DOCUMENTS_DIR``, else
``$LOCAL_STATE_DIR/documents``, else ``.local/documents``). The only module that touches S3 (boto3 imported lazily,
so a function that never archives does not pay for it at a cold start).

Keys are relative paths of plain segments, e.g. ``documents/<account_id>/<number>.pdf``; the content type follows
the extension (.pdf -> application/pdf, .xml -> application/xml), the same for both adapters.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from account_credit.platform.config import ConfigurationError

CONTENT_TYPES = {
    ".pdf": "application/pdf",
    ".xml": "application/xml",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",  # statement exports (statements/exports.py)
}
MAX_KEY_LENGTH = 1024  # S3's limit (UTF-8 bytes; the segments below are ASCII)
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class ArchiveConflict(Exception):
    """The key already holds different bytes: an issued document never changes."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} is already archived with different content (an issued document never changes)")
        self.key = key


class Archive(Protocol):
    def put_once(self, key: str, body: bytes, content_type: str) -> bool:
        """Store ``body`` under ``key`` unless it is there. True: written now; False: it was already there with
        identical bytes (a redelivery); ArchiveConflict: it is there with other bytes."""
        ...

    def get(self, key: str) -> tuple[bytes, str] | None:
        """The stored body and its content type, or None."""
        ...


def content_type_of(key: str) -> str:
    """The content type a key's extension stands for (ValueError for an extension the archive does not keep)."""
    found = CONTENT_TYPES.get(os.path.splitext(key)[1].lower())
    if found is None:
        raise ValueError(f"archive key {key!r}: the extension must be one of {', '.join(CONTENT_TYPES)}")
    return found


def check_key(key: str, content_type: str | None = None) -> str:
    """``key`` if it is a relative path of plain segments (each starts with an ASCII letter or digit, then letters,
    digits, ``.``, ``_``, ``-``: no empty, dot or dot-dot segment, no leading slash) whose extension is known and,
    when given, matches ``content_type``."""
    if not key or len(key) > MAX_KEY_LENGTH or not all(_SEGMENT.fullmatch(s) for s in key.split("/")):
        raise ValueError(f"archive key {key!r} is not a relative path of plain segments")
    expected = content_type_of(key)
    if content_type is not None and content_type != expected:
        raise ValueError(f"archive key {key!r} holds {expected}, not {content_type}")
    return key


# --------------------------------------------------------------------------- a folder (this machine)


class FolderArchive:
    """Files under ``root``. The body is written to a temporary file in the target folder and hard-linked to its
    name: ``os.link`` fails if the name exists, so of two processes writing the same key exactly one wins, and a
    reader never sees half a document. The file is made read-only (an issued document never changes)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*key.split("/"))

    def put_once(self, key: str, body: bytes, content_type: str) -> bool:
        path = self._path(check_key(key, content_type))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, path)
            except FileExistsError:
                if path.read_bytes() == body:
                    return False
                raise ArchiveConflict(key) from None
            return True
        finally:
            os.unlink(tmp)

    def get(self, key: str) -> tuple[bytes, str] | None:
        path = self._path(check_key(key))
        try:
            return path.read_bytes(), content_type_of(key)
        except FileNotFoundError:
            return None


# --------------------------------------------------------------------------- S3 (AWS)

# S3 answers 409 ConditionalRequestConflict while another conditional write of the same key is in flight: the
# write is tried again (after it, the key exists and the answer is 412, compared below).
CONFLICT_ATTEMPTS = 5


def _error_code(exc: Exception) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return response.get("Error", {}).get("Code")
    return None


def s3_client(region: str | None = None) -> Any:
    """An S3 client with the process-wide botocore conventions: short timeouts, and botocore's standard retries
    (throttling, 5xx, timeouts) since nothing above retries S3 - a retried conditional put whose first attempt
    landed meets 412 and compares equal, so a retry never writes twice."""
    import boto3
    from botocore.config import Config

    from account_credit.platform.config import settings

    return boto3.session.Session().client(
        "s3",
        region_name=region or settings().aws_region,
        config=Config(
            retries={"total_max_attempts": 3, "mode": "standard"},
            connect_timeout=2,
            read_timeout=10,
            max_pool_connections=16,
        ),
    )


class S3Archive:
    """Objects of one bucket. Written with a conditional put (``If-None-Match: *``, S3 conditional writes): S3
    refuses it with 412 when the key exists, so a redelivery never overwrites; the stored bytes are then read and
    compared. The bucket's Object Lock needs an integrity checksum on every put: SHA-256 is sent explicitly, so it
    does not depend on the SDK's default checksum setting."""

    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = s3_client()
        return self._client

    def put_once(self, key: str, body: bytes, content_type: str) -> bool:
        from botocore.exceptions import ClientError

        check_key(key, content_type)
        last: ClientError | None = None
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentType=content_type,
                    IfNoneMatch="*",
                    ChecksumAlgorithm="SHA256",
                )
                return True
            except ClientError as exc:
                code = _error_code(exc)
                if code == "PreconditionFailed":
                    stored = self.get(key)
                    if stored is not None:
                        if stored[0] == body:
                            return False
                        raise ArchiveConflict(key) from None
                elif code != "ConditionalRequestConflict":
                    raise
                last = exc  # in flight elsewhere (409), or gone between the 412 and the read: write again
                time.sleep(0.05 * 2**attempt)
        assert last is not None
        raise last

    def get(self, key: str) -> tuple[bytes, str] | None:
        from botocore.exceptions import ClientError

        check_key(key)
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            # NoSuchKey needs s3:ListBucket on the bucket: without it S3 answers a missing key with 403 AccessDenied,
            # which is raised (template.yaml grants ListBucket to the functions that read).
            if _error_code(exc) in {"NoSuchKey", "404"}:
                return None
            raise
        return found["Body"].read(), str(found.get("ContentType") or content_type_of(key))


# --------------------------------------------------------------------------- the process-wide archive


@lru_cache(maxsize=1)
def archive() -> Archive:
    """S3 when ``DOCUMENTS_BUCKET`` is set (an empty value is unset: the local server resolves the template's
    ``!Ref DocumentsBucket`` to ""), else a folder. Inside Lambda a missing bucket is a deployment mistake, not a
    reason to write to the read-only task folder."""
    bucket = os.environ.get("DOCUMENTS_BUCKET", "").strip()
    if bucket:
        return S3Archive(bucket)
    folder = os.environ.get("LOCAL_DOCUMENTS_DIR") or ""  # named explicitly (the local server, the benchmark)
    if not folder and os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        raise ConfigurationError("DOCUMENTS_BUCKET must be set in Lambda (the archive of issued documents)")
    if not folder:
        state = os.environ.get("LOCAL_STATE_DIR") or ""
        folder = str(Path(state) / "documents") if state else os.path.join(".local", "documents")
    return FolderArchive(Path(folder).expanduser())
